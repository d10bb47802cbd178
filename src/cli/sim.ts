import { parseArgs } from 'node:util';
import { rateLimitSchema } from '../config/env.js';
import { SANDBOX_CREDENTIALS } from '../sandbox-credentials.js';
import { DIALECTS, dialectNameSchema } from '../sim/dialects.js';
import { MitraSimulator } from '../sim/mitra-sim.js';
import type { CliIo } from './run.js';

/** `gateway sim`: the Mitra simulator on its own, for demos and integration tests. */
export async function runSim(args: string[], io: CliIo, stop: Promise<void>): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: 'string', default: '9090' },
      host: { type: 'string', default: '127.0.0.1' },
      'webhook-url': { type: 'string' },
      'complete-after-ms': { type: 'string', default: '2000' },
      'rate-limit': { type: 'string', default: '200/60s' },
      dialect: { type: 'string' },
    },
  });
  const port = Number(values.port);
  const completeAfterMs = Number(values['complete-after-ms']);
  const rate = rateLimitSchema.safeParse(values['rate-limit']);
  const dialect = dialectNameSchema.optional().safeParse(values.dialect);
  const problems = [
    ...(Number.isInteger(port) && port >= 0 && port <= 65535
      ? []
      : [`--port must be 0-65535, got "${values.port}"`]),
    ...(Number.isInteger(completeAfterMs) && completeAfterMs >= 0
      ? []
      : ['--complete-after-ms must be a whole number']),
    ...(rate.success ? [] : [`--rate-limit ${rate.error.issues[0]?.message}`]),
    ...(dialect.success
      ? []
      : [`--dialect must be one of ${dialectNameSchema.options.join(', ')}, got "${values.dialect}"`]),
  ];
  if (problems.length > 0 || !rate.success || !dialect.success) {
    for (const p of problems) io.err(`gateway sim: ${p}`);
    return 1;
  }
  const apiKey = io.env.MITRA_API_KEY || SANDBOX_CREDENTIALS.MITRA_API_KEY;
  const secretKey = io.env.MITRA_SECRET_KEY || SANDBOX_CREDENTIALS.MITRA_SECRET_KEY;
  const sim = await MitraSimulator.start({
    apiKey,
    secretKey,
    host: values.host,
    port,
    webhookUrl: values['webhook-url'] ?? null,
    completeAfterMs,
    rateLimit: rate.data,
    dialect: dialect.data ?? null,
  });
  io.out(`Mitra simulator on ${sim.url} (SIMULATOR: no real orders, no real money)`);
  io.out(
    `  keys: MITRA_API_KEY=${apiKey === SANDBOX_CREDENTIALS.MITRA_API_KEY ? apiKey : '(from environment)'}`,
  );
  io.out(`  webhooks: ${sim.webhookUrl ?? 'off (pass --webhook-url)'}`);
  io.out(
    `  dialect: ${sim.dialect ? `${sim.dialect} (${DIALECTS[sim.dialect].describe})` : 'default (pass --dialect NAME)'}`,
  );
  io.out(`  state: curl ${sim.url}/__sim/state`);
  io.out(`  fault: curl -X POST ${sim.url}/__sim/next-fault -d '{"op":"order","fault":{"kind":"http500"}}'`);
  await stop;
  await sim.close();
  return 0;
}
