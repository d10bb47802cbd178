import { loadConfig, readEnvironment, resolvePaths } from '../config/env.js';
import { loadMappingFile } from '../config/mapping.js';
import { crashHook } from '../fulfilment/crash-points.js';
import { startGateway } from '../gateway.js';
import { createLogger } from '../log.js';
import { sandboxCredentialsIn } from '../sandbox-credentials.js';
import type { CliIo } from './run.js';

/** Production start: real credentials from the environment (or .env), or no start at all. */
export async function runProduction(
  io: CliIo,
  stop: Promise<void>,
  onReloadSignal?: (reload: () => void) => void,
) {
  const env = readEnvironment(io.cwd, io.env);
  const sandboxed = sandboxCredentialsIn(env);
  if (sandboxed.length > 0) {
    io.err(`configuration error: ${sandboxed.join(', ')} hold the public sandbox credentials`);
    io.err(
      'The gateway did not start: production needs real credentials. For the sandbox run: npm run sandbox',
    );
    return 1;
  }
  const parsed = loadConfig(env);
  if (!parsed.ok) {
    for (const line of parsed.errors) io.err(`configuration error: ${line}`);
    io.err('The gateway did not start. To try it without credentials, run the sandbox: npm run sandbox');
    return 1;
  }
  const config = resolvePaths(parsed.value, io.cwd);
  const mapping = loadMappingFile(config.mappingFile);
  if (!mapping.ok) {
    for (const line of mapping.errors) io.err(`mapping error: ${line}`);
    io.err('The gateway did not start. Check the file with: npm run gateway -- check');
    return 1;
  }
  const logger = createLogger(config.logLevel);
  const gateway = await startGateway(config, mapping.mapping, logger, { crash: crashHook(io.env) });
  gateway.mapping.watch();
  onReloadSignal?.(() => gateway.mapping.reload());
  await stop;
  logger.info('stopping');
  await gateway.close();
  return 0;
}
