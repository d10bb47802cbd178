import { resolve } from 'node:path';
import {
  type Config,
  DEFAULT_READINGS_FILE,
  type EnvSource,
  loadConfig,
  resolvePaths,
} from '../config/env.js';
import { loadMappingFile, type Mapping } from '../config/mapping.js';
import { loadReadingsFile } from '../config/readings-file.js';
import { type Whereabouts, whereabouts } from '../gateway.js';
import type { Readings } from '../readings/settings.js';
import { sandboxCredentialsIn } from '../sandbox-credentials.js';

export type Preflight =
  | { ok: true; config: Config; mapping: Mapping; readings: Readings; where: Whereabouts }
  | { ok: false; problems: string[] };

/**
 * Everything a production start validates before it opens anything, in one place: `npm start`
 * runs it, and `gateway check` runs it too, so that a check that passes is a start that passes.
 * Every problem is one line naming the variable, or the file, line, SKU and field.
 */
export function preflight(env: EnvSource, cwd: string): Preflight {
  const problems: string[] = [];
  const sandboxed = sandboxCredentialsIn(env);
  if (sandboxed.length > 0)
    problems.push(
      `environment: ${sandboxed.join(', ')} hold the public sandbox credentials (production needs real ones; the sandbox is npm run sandbox)`,
    );
  const parsed = loadConfig(env);
  if (!parsed.ok) problems.push(...parsed.errors.map((e) => `environment: ${e}`));
  const file = env.MAPPING_FILE || './config/mapping.yaml';
  const mapping = loadMappingFile(resolve(cwd, file));
  // The file as the operator named it, not its absolute path.
  if (!mapping.ok) problems.push(...mapping.errors.map((e) => e.replace(resolve(cwd, file), file)));
  const readingsFile = env.READINGS_FILE || DEFAULT_READINGS_FILE;
  const readings = loadReadingsFile(resolve(cwd, readingsFile), Boolean(env.READINGS_FILE));
  if (!readings.ok)
    problems.push(...readings.errors.map((e) => e.replace(resolve(cwd, readingsFile), readingsFile)));
  if (problems.length > 0 || !parsed.ok || !mapping.ok || !readings.ok) return { ok: false, problems };
  const config = resolvePaths(parsed.value, cwd);
  return { ok: true, config, mapping: mapping.mapping, readings: readings.value, where: whereabouts(config) };
}
