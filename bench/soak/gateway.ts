// The gateway as `npm start` runs it (`node --no-memory-reducer dist/main.js`), in a process of its own, with its
// pid (for /proc/<pid>/status). Its log is read line by line and dropped, keeping only the error
// lines and a short tail: test/helpers/child-gateway.ts keeps all output and joins it on every
// chunk, which a run of several minutes at info level cannot afford.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startFlags } from '../../test/helpers/start-command.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface SoakGateway {
  url: string;
  pid: number;
  /** Log lines at level error or above (pino: 50+). */
  errorLines: string[];
  tail: string[];
  stop(): Promise<number | null>;
}

const TAIL = 20;

export async function startGateway(env: Record<string, string>): Promise<SoakGateway> {
  const child = spawn(process.execPath, [...startFlags(), 'dist/main.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errorLines: string[] = [];
  const tail: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Never left behind, whatever ends this process.
  const orphan = () => child.kill('SIGTERM');
  process.once('exit', orphan);
  void exited.then(() => process.off('exit', orphan));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${tail.join('\n')}`)), 20_000);
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > TAIL) tail.shift();
      const level = /"level":(\d+)/.exec(line);
      if (level && Number(level[1]) >= 50) errorLines.push(line);
      const m = /"port":(\d+)[^\n]*"msg":"gateway listening"/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (l) => onLine(`stderr: ${l}`));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening:\n${tail.join('\n')}`));
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('gateway has no pid');
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    errorLines,
    tail,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Resident set size of a process in MB (VmRSS); null once it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}
