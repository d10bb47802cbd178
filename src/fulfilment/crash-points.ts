/**
 * Places where the crash tests kill the process, to prove that a crash anywhere loses
 * nothing and orders nothing twice. Inert unless GATEWAY_CRASH_AT names a point.
 */
export type CrashPoint = 'after-queued' | 'after-ordering' | 'after-order-reply' | 'during-webhook';

export function crashHook(
  env: Readonly<Record<string, string | undefined>>,
): ((point: CrashPoint) => void) | undefined {
  const at = env.GATEWAY_CRASH_AT;
  if (!at) return undefined;
  return (point) => {
    if (point === at) process.kill(process.pid, 'SIGKILL');
  };
}
