import { resolve } from 'node:path';
import { loadConfig } from '../config/env.js';
import { loadMappingFile } from '../config/mapping.js';
import { startGateway } from '../gateway.js';
import { createLogger } from '../log.js';
import { SANDBOX_CREDENTIALS } from '../sandbox-credentials.js';
import { MitraSimulator } from '../sim/mitra-sim.js';
import type { CliIo } from './run.js';

const BANNER = `
  ##################################################################
  #  SANDBOX: public test credentials, example mapping, test data.  #
  #  Nothing here reaches Razer Gold or VCGamers Mitra. Not for     #
  #  real money: production is \`npm start\` with real credentials.  #
  ##################################################################
`;

/** The gateway with public sandbox credentials, the example mapping and its own SQLite file. */
export async function runSandbox(io: CliIo, stop: Promise<void>): Promise<number> {
  const sim = await MitraSimulator.start({
    apiKey: SANDBOX_CREDENTIALS.MITRA_API_KEY,
    secretKey: SANDBOX_CREDENTIALS.MITRA_SECRET_KEY,
    completeAfterMs: 2000,
  });
  const config = loadConfig({
    ...SANDBOX_CREDENTIALS,
    PORT: io.env.PORT ?? '8080',
    HOST: io.env.HOST ?? '127.0.0.1',
    DATABASE_PATH: resolve(io.cwd, io.env.SANDBOX_DATABASE_PATH ?? './data/sandbox.db'),
    MAPPING_FILE: resolve(io.cwd, 'config/mapping.example.yaml'),
    MITRA_BASE_URL: sim.url,
    LOG_LEVEL: io.env.LOG_LEVEL ?? 'info',
  });
  if (!config.ok) {
    for (const e of config.errors) io.err(`sandbox: ${e}`);
    await sim.close();
    return 1;
  }
  const mapping = loadMappingFile(config.value.mappingFile);
  if (!mapping.ok) {
    for (const e of mapping.errors) io.err(e);
    await sim.close();
    return 1;
  }
  io.out(BANNER);
  const gateway = await startGateway(config.value, mapping.mapping, createLogger(config.value.logLevel));
  io.out(
    `sandbox gateway on http://${config.value.host}:${gateway.port} (database ${config.value.databasePath})`,
  );
  io.out(`  curl http://${config.value.host}:${gateway.port}/health`);
  await stop;
  await gateway.close();
  await sim.close();
  return 0;
}
