/**
 * Places where the crash tests kill the process, to prove that a crash anywhere loses
 * nothing and orders nothing twice. Inert unless GATEWAY_CRASH_AT names a point; with
 * GATEWAY_CRASH_ON, only when that point is reached for that transaction.
 */
export type CrashPoint = 'after-queued' | 'after-ordering' | 'after-order-reply' | 'during-webhook';

export type CrashHook = (point: CrashPoint, transactionNumber: string) => void;

export function crashHook(env: Readonly<Record<string, string | undefined>>): CrashHook | undefined {
  const at = env.GATEWAY_CRASH_AT;
  if (!at) return undefined;
  const on = env.GATEWAY_CRASH_ON;
  return (point, transactionNumber) => {
    if (point === at && (!on || on === transactionNumber)) process.kill(process.pid, 'SIGKILL');
  };
}
