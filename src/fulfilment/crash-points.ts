/**
 * Places where the crash tests kill the process, to prove that a crash anywhere loses
 * nothing and orders nothing twice. Inert unless GATEWAY_CRASH_AT names a point; the
 * process dies there after GATEWAY_CRASH_SKIP earlier passes (default 0).
 */
export type CrashPoint = 'after-queued' | 'after-ordering' | 'after-order-reply' | 'during-webhook';

export function crashHook(
  env: Readonly<Record<string, string | undefined>>,
): ((point: CrashPoint) => void) | undefined {
  const at = env.GATEWAY_CRASH_AT;
  if (!at) return undefined;
  let skip = Number(env.GATEWAY_CRASH_SKIP ?? '0') || 0;
  return (point) => {
    if (point !== at) return;
    if (skip-- > 0) return;
    process.kill(process.pid, 'SIGKILL');
  };
}
