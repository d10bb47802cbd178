import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/config/env.js';
import { startFlags } from '../helpers/start-command.js';
import { tempDir } from '../helpers/storage.js';
import { endOfLineComments, ROOT, shipped, tool } from './tools.js';

// config/deploy/razer-gateway.service as systemd reads it.

const dir = tempDir('gateway-systemd-');
afterAll(() => dir.remove());

const UNIT = shipped('razer-gateway.service');

/** The values of every `Key=` line of the unit, in order. */
const settings = (key: string) =>
  UNIT.split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));

/** HOST=127.0.0.1 PORT=8080 ... of Environment= as a record. */
const environment = () =>
  Object.fromEntries(
    settings('Environment')
      .flatMap((line) => line.split(/\s+/))
      .map((pair) => pair.split('=') as [string, string]),
  );

describe('razer-gateway.service', () => {
  it('passes systemd-analyze verify', () => {
    // The file as shipped, named as installed. verify checks that every Exec binary exists, so
    // /usr/bin/node is pointed at this test's node when a machine has it elsewhere (nvm, a
    // tarball); nothing else is changed. The user gateway and /opt/razer-gateway need not exist.
    const node = existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath;
    const unit = dir.file('razer-gateway.service');
    writeFileSync(
      unit,
      node === '/usr/bin/node' ? UNIT : shipped('razer-gateway.service', [['/usr/bin/node', node]]),
    );
    const r = spawnSync(tool('systemd-analyze'), ['verify', unit], { encoding: 'utf8' });
    const output = `${r.stdout}${r.stderr}`;
    // A line it cannot parse is only a warning (exit 0), naming the file: none may appear.
    expect(
      output
        .split('\n')
        .filter((line) => line.includes('razer-gateway.service'))
        .join('\n'),
    ).toBe('');
    expect(r.status, output).toBe(0);
  });

  it('has comments on their own lines only (systemd takes "60 # ..." as the value)', () => {
    expect(endOfLineComments(UNIT)).toEqual([]);
    expect(endOfLineComments(UNIT, ';')).toEqual([]);
  });

  it('starts the gateway as npm start does, after its own check, and reloads the mapping on SIGHUP', () => {
    expect(settings('ExecStart')).toEqual([['/usr/bin/node', ...startFlags(), 'dist/main.js'].join(' ')]);
    expect(settings('ExecStartPre')).toContain('/usr/bin/node dist/cli/main.js check');
    expect(settings('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(settings('User')).toEqual(['gateway']);
    expect(settings('WorkingDirectory')).toEqual(['/opt/razer-gateway']);
    // The settings file is read by the gateway itself (one reader for it and the gateway command).
    expect(settings('EnvironmentFile')).toEqual([]);
    expect(environment().GATEWAY_ENV_FILE).toBe('/etc/razer-gateway/env');
    expect(settings('ReadWritePaths')).toEqual(['/opt/razer-gateway/data']);
  });

  it('listens where both nginx sites expect it, behind one trusted proxy', () => {
    const env = environment();
    expect(env).toMatchObject({ HOST: '127.0.0.1', TRUST_PROXY: '1' });
    for (const site of ['nginx-one-machine.conf', 'nginx-behind-balancer.conf']) {
      const text = shipped(site);
      expect(text, `${site}: the gateway's PORT`).toContain(`server 127.0.0.1:${env.PORT};`);
      expect(text, `${site}: the gateway's METRICS_PORT`).toContain(`server 127.0.0.1:${env.METRICS_PORT};`);
    }
  });

  it("keeps its layout whatever the settings file says: the unit's Environment= wins over the file", () => {
    const file = dir.file('env');
    // A copy of .env.example, as an operator might leave it: HOST=0.0.0.0, TRUST_PROXY=0...
    writeFileSync(file, readFileSync(join(ROOT, '.env.example'), 'utf8'));
    const unit = environment();
    const env = readEnvironment(dir.path, { ...unit, GATEWAY_ENV_FILE: file });
    expect(env).toMatchObject({ HOST: '127.0.0.1', PORT: '8080', TRUST_PROXY: '1', METRICS_PORT: '9464' });
  });
});
