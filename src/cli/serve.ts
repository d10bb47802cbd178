import { readEnvironment } from '../config/env.js';
import { crashHook } from '../fulfilment/crash-points.js';
import { startGateway } from '../gateway.js';
import { createLogger } from '../log.js';
import { preflight } from './preflight.js';
import type { CliIo } from './run.js';

/** Production start: what `gateway check` validates, then the gateway; or no start at all. */
export async function runProduction(
  io: CliIo,
  stop: Promise<void>,
  onReloadSignal?: (reload: () => void) => void,
) {
  const checked = preflight(readEnvironment(io.cwd, io.env), io.cwd);
  if (!checked.ok) {
    for (const line of checked.problems) io.err(line);
    io.err(
      `The gateway did not start: ${checked.problems.length === 1 ? '1 problem' : `${checked.problems.length} problems`}. To try it without credentials, run the sandbox: npm run sandbox`,
    );
    return 1;
  }
  const { config, mapping, readings } = checked;
  const logger = createLogger(config.logLevel);
  const gateway = await startGateway(config, mapping, logger, { crash: crashHook(io.env), readings });
  gateway.mapping.watch();
  gateway.readings.watch();
  onReloadSignal?.(() => {
    gateway.mapping.reload();
    gateway.readings.reload();
  });
  await stop;
  logger.info('stopping');
  await gateway.close();
  return 0;
}
