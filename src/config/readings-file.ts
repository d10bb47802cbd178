import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from '../log.js';
import { DEFAULT_READINGS, differences, type Readings, readingsFileSchema } from '../readings/settings.js';
import { type WatchedFile, watchFile } from './watched-file.js';
import { parseYamlWith, type YamlResult } from './yaml-file.js';

/**
 * The readings file (READINGS_FILE, default config/readings.yaml): every reading of the two APIs
 * as a setting, beside the mapping and checked like it. A missing default file is today's
 * readings; a file named explicitly must exist.
 */
export function parseReadingsText(text: string, file: string): YamlResult<Readings> {
  // An empty file (or one of comments only) is null: every default stays.
  return parseYamlWith(text, file, readingsFileSchema);
}

export function loadReadingsFile(file: string, required: boolean): YamlResult<Readings> {
  if (!required && !existsSync(file)) return { ok: true, value: DEFAULT_READINGS };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`${file}: cannot read the readings file: ${(err as Error).message}`] };
  }
  return parseReadingsText(text, file);
}

export type ReadingsStore = WatchedFile<Readings>;

export function createReadingsStore(
  file: string,
  required: boolean,
  initial: Readings,
  logger: Logger,
): ReadingsStore {
  return watchFile(file, initial, logger, {
    name: 'readings',
    load: (f) => loadReadingsFile(f, required),
    summary: (r) => ({ differences: differences(r).map((d) => `${d.path}: ${JSON.stringify(d.value)}`) }),
  });
}
