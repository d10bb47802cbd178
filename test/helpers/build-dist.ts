import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup: the crash and multi-instance tests run the gateway as built, so build
 * it once per run (both projects name this setup; the second finds it done).
 */
export default function setup(): void {
  if (process.env.GATEWAY_DIST_BUILT === '1') return;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'src/tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  process.env.GATEWAY_DIST_BUILT = '1';
}
