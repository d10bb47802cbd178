import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built logger (dist/, made by the sqlite project's global setup) in a child process.

describe('asynchronous logging', () => {
  it('writes every line whole and in order, multi-byte text too, the last ones as the process exits', async () => {
    const log = fileURLToPath(new URL('../dist/log.js', import.meta.url));
    // Lines handed over faster than stdout takes them, then an exit with lines still waiting.
    const script = `
      const { createLogger } = await import(${JSON.stringify(log)});
      const logger = createLogger('info');
      for (let i = 0; i < 20000; i++) logger.info({ i, text: 'Rp 50.000 — 💎 ' + i }, 'request');
      process.exit(0);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    const lines = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(20000);
    lines.forEach((line, i) => {
      const parsed = JSON.parse(line) as { i: number; text: string; msg: string };
      expect(parsed).toMatchObject({ i, text: `Rp 50.000 — 💎 ${i}`, msg: 'request' });
    });
  }, 30_000);

  it('bounds what it holds in memory when stdout is not being read (a stalled log collector)', async () => {
    const log = fileURLToPath(new URL('../dist/log.js', import.meta.url));
    // The gateway's own logger, 300 MB of lines (a busy day's polls), stdout never drained.
    const script = `
      const { createLogger } = await import(${JSON.stringify(log)});
      const logger = createLogger('info');
      const pad = 'x'.repeat(1000);
      let i = 0;
      const t = setInterval(() => {
        for (let k = 0; k < 5000; k++) logger.info({ i: i++, pad }, 'request');
        if (i >= 300000) {
          clearInterval(t);
          process.stderr.write('rss ' + Math.round(process.memoryUsage().rss / 1e6) + '\\n');
          process.kill(process.pid, 'SIGKILL');
        }
      }, 1);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pause();
    const rss = await new Promise<number>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(-1); // blocked on the pipe: no answer either
      }, 15_000);
      let err = '';
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
        const m = /rss (\d+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    child.kill('SIGKILL');
    expect(rss).toBeGreaterThan(0);
    expect(rss).toBeLessThan(150);
  }, 30_000);
});
