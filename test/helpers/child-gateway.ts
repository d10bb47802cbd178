import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFlags } from './start-command.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildGateway {
  url: string;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
  /** Kills the process at once (SIGKILL: no cleanup of any kind) and waits for its exit. */
  kill(): Promise<void>;
}

/** `node [flags] dist/main.js`, as `npm start` runs it, in `cwd`, resolved once it listens. */
export async function spawnGateway(env: Record<string, string>, cwd: string): Promise<ChildGateway> {
  const child: ChildProcess = spawn(process.execPath, [...startFlags(), `${ROOT}/dist/main.js`], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output.join('')}`)), 15_000);
    let listening = false;
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      // The output so far is searched only until the port is found: a long run logs a lot.
      if (listening) return;
      const m = /"port":(\d+)[^\n]*"msg":"gateway listening"/.exec(output.join(''));
      if (m) {
        listening = true;
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`gateway exited before listening:\n${output.join('')}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
