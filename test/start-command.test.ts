import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startFlags } from './helpers/start-command.js';

describe('npm start', () => {
  it('turns off V8 memory reducer, whose idle-time GC left the hot path at half speed', () => {
    expect(startFlags()).toContain('--no-memory-reducer');
  });

  it('gives Node only flags it accepts', () => {
    const run = spawnSync(process.execPath, [...startFlags(), '-e', 'process.exit(7)']);
    expect(run.stderr.toString()).toBe('');
    expect(run.status).toBe(7);
  });
});
