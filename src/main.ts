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
  // At once: what had started before the failure (timers, a catalogue fetch) would keep a
  // process that serves nothing alive.
  process.exit(1);
});
