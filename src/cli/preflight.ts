import { resolve } from 'node:path';
import { type Config, type EnvSource, loadConfig, resolvePaths } from '../config/env.js';
import { loadMappingFile, type Mapping } from '../config/mapping.js';
import { type Whereabouts, whereabouts } from '../gateway.js';
import { sandboxCredentialsIn } from '../sandbox-credentials.js';

export type Preflight =
  | { ok: true; config: Config; mapping: Mapping; where: Whereabouts }
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
  if (problems.length > 0 || !parsed.ok || !mapping.ok) return { ok: false, problems };
  const config = resolvePaths(parsed.value, cwd);
  return { ok: true, config, mapping: mapping.mapping, where: whereabouts(config) };
}
