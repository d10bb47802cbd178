import { existsSync, readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
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

const listed = (r: Readings) => differences(r).map((d) => `${d.path}: ${JSON.stringify(d.value)}`);

/**
 * The readings in force, reloadable. A file that became empty or disappeared while settings were
 * in force is refused, not read as "every default": an editor caught mid-write, or a deleted
 * file, must never bring back a reading the operator corrected.
 */
export function createReadingsStore(
  file: string,
  required: boolean,
  initial: Readings,
  logger: Logger,
  onChange?: (previous: Readings, next: Readings) => void,
): ReadingsStore {
  const store: ReadingsStore = watchFile(file, initial, logger, {
    name: 'readings',
    load: (f) => {
      const loaded = loadReadingsFile(f, required);
      if (!loaded.ok || differences(loaded.value).length > 0 || differences(store.current()).length === 0)
        return loaded;
      if (!existsSync(f))
        return {
          ok: false,
          errors: [
            `${f}: the readings file is gone; the readings in force stay (write the defaults explicitly to go back to them)`,
          ],
        };
      if (parseDocument(readFileSync(f, 'utf8')).toJS() == null)
        return {
          ok: false,
          errors: [
            `${f}: the readings file is empty; the readings in force stay (write the defaults explicitly to go back to them)`,
          ],
        };
      return loaded;
    },
    summary: (r) => ({ differences: listed(r) }),
    onChange: (previous, next) => {
      const back = differences(previous).filter((d) => !differences(next).some((n) => n.path === d.path));
      if (back.length > 0)
        logger.warn(
          { file, settings: back.map((d) => d.path) },
          `readings reloaded: ${back.length} setting${back.length === 1 ? '' : 's'} back to the default: ${back.map((d) => d.path).join(', ')}`,
        );
      onChange?.(previous, next);
    },
  });
  return store;
}
