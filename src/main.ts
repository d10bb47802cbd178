import { runProduction } from './cli/serve.js';

const stop = new Promise<void>((resolve) => {
  process.once('SIGTERM', () => resolve());
  process.once('SIGINT', () => resolve());
});

process.exitCode = await runProduction(
  { env: process.env, cwd: process.cwd(), out: console.log, err: console.error },
  stop,
  (reload) => process.on('SIGHUP', reload),
).catch((err: unknown) => {
  console.error(`gateway failed to start: ${err instanceof Error ? err.message : String(err)}`);
  return 1;
});
