import { resolve } from 'node:path';
import { type Config, loadConfig } from '../config/env.js';
import { loadMappingFile } from '../config/mapping.js';
import { EXAMPLE_MAPPING_FILE } from '../config/paths.js';
import { type RunningGateway, startGateway } from '../gateway.js';
import { createLogger } from '../log.js';
import { SANDBOX_CREDENTIALS } from '../sandbox-credentials.js';
import { type MitraSimOptions, MitraSimulator } from '../sim/mitra-sim.js';
import type { CliIo } from './run.js';
import { shellClient } from './sign.js';

const BANNER = `
  ##################################################################
  #  SANDBOX: public test credentials, example mapping, test data.  #
  #  Nothing here reaches Razer Gold or VCGamers Mitra. Not for     #
  #  real money: production is \`npm start\` with real credentials.  #
  ##################################################################
`;

export interface Sandbox {
  sim: MitraSimulator;
  gateway: RunningGateway;
  config: Config;
  close(): Promise<void>;
}

/**
 * The bundled Mitra simulator and the gateway wired to it (webhooks included), with the
 * public sandbox credentials and the example mapping.
 */
export async function startSandbox(
  env: Readonly<Record<string, string | undefined>>,
  overrides: Record<string, string>,
  simOptions: Partial<MitraSimOptions> = {},
): Promise<Sandbox> {
  const sim = await MitraSimulator.start({
    apiKey: SANDBOX_CREDENTIALS.MITRA_API_KEY,
    secretKey: SANDBOX_CREDENTIALS.MITRA_SECRET_KEY,
    completeAfterMs: 2000,
    ...simOptions,
  });
  try {
    const config = loadConfig({
      ...SANDBOX_CREDENTIALS,
      PORT: env.PORT ?? '8080',
      HOST: env.HOST ?? '127.0.0.1',
      MITRA_BASE_URL: sim.url,
      MITRA_WEBHOOK_ALLOW_IPS: '127.0.0.1,::1',
      LOG_LEVEL: env.LOG_LEVEL ?? 'info',
      ...overrides,
    });
    if (!config.ok) throw new Error(config.errors.join('; '));
    const mapping = loadMappingFile(config.value.mappingFile);
    if (!mapping.ok) throw new Error(mapping.errors.join('; '));
    const gateway = await startGateway(config.value, mapping.mapping, createLogger(config.value.logLevel));
    sim.webhookUrl = `${gateway.url}/mitra/webhook/${SANDBOX_CREDENTIALS.MITRA_WEBHOOK_TOKEN}`;
    return {
      sim,
      gateway,
      config: config.value,
      close: async () => {
        await gateway.close();
        await sim.close();
      },
    };
  } catch (err) {
    await sim.close();
    throw err;
  }
}

/** `npm run sandbox`: runs until stopped, after printing how to talk to it. */
export async function runSandbox(io: CliIo, stop: Promise<void>): Promise<number> {
  const database = resolve(io.cwd, io.env.SANDBOX_DATABASE_PATH ?? './data/sandbox.db');
  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox(io.env, {
      DATABASE_PATH: database,
      MAPPING_FILE: EXAMPLE_MAPPING_FILE,
    });
  } catch (err) {
    io.err(`sandbox: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const { gateway, sim } = sandbox;
  const { RAZER_API_ID: id, RAZER_API_KEY: key } = SANDBOX_CREDENTIALS;
  const init = (n: string) =>
    `{\\"transactionNumber\\":\\"${n}\\",\\"sku\\":\\"DIAMOND50\\",\\"razerId\\":\\"RZR_demo\\",\\"accountId\\":\\"123456-12\\",\\"userIpAddress\\":\\"203.0.113.7\\",\\"userCountryCode\\":\\"MY\\"}`;
  io.out(BANNER);
  io.out(`gateway          ${gateway.url}   (database ${database})`);
  io.out(`Mitra simulator  ${sim.url}   (faults: POST ${sim.url}/__sim/next-fault, see README)`);
  io.out(`Razer api-id ${id}, api-key ${key} (RAZER_SIGNED_CONTENT=body)`);
  io.out(`console          ${gateway.url}/console   (admin token ${SANDBOX_CREDENTIALS.ADMIN_TOKEN})`);
  io.out(`API description  ${gateway.url}/docs   (OpenAPI 3.1: ${gateway.url}/openapi.json)`);
  io.out('');
  io.out('# Paste into bash (needs openssl and curl): a signed client, then one request per endpoint.');
  io.out(shellClient(gateway.url, id, key));
  io.out('razer GET /health');
  io.out(`razer POST /account/validate '{"sku":"DIAMOND50","accountId":"123456-12","userCountryCode":"MY"}'`);
  io.out('N=DEMO-$RANDOM');
  io.out(
    `TOKEN=$(razer POST /transaction/init "${init('$N')}" | tee /dev/stderr | sed -n 's/.*"transactionToken":"\\([^"]*\\)".*/\\1/p')`,
  );
  io.out(
    `razer POST /transaction/topup "{\\"transactionNumber\\":\\"$N\\",\\"transactionToken\\":\\"$TOKEN\\"}"`,
  );
  io.out('razer GET /transaction/$N');
  io.out(`razer POST /transaction/cancel "{\\"transactionNumber\\":\\"$N\\"}"`);
  io.out(`npm run gateway --silent -- story $N --database ${database}`);
  io.out('');
  io.out(
    `# The admin API (ADMIN_TOKEN=${SANDBOX_CREDENTIALS.ADMIN_TOKEN}), the metrics, and the same from the CLI:`,
  );
  io.out(
    `curl -s -H 'Authorization: Bearer ${SANDBOX_CREDENTIALS.ADMIN_TOKEN}' '${gateway.url}/admin/transactions?limit=5'`,
  );
  io.out(
    `curl -s -H 'Authorization: Bearer ${SANDBOX_CREDENTIALS.ADMIN_TOKEN}' ${gateway.url}/metrics | grep ^gateway_`,
  );
  io.out(
    `GATEWAY_URL=${gateway.url} ADMIN_TOKEN=${SANDBOX_CREDENTIALS.ADMIN_TOKEN} npm run gateway --silent -- balance`,
  );
  io.out('');
  await stop;
  await sandbox.close();
  return 0;
}
