import { afterAll, describe, expect, it } from 'vitest';
import { type TempDir, tempDir } from '../helpers/storage.js';
import { endOfLineComments, nginxConf, nginxTest, selfSignedCertificate, shipped } from './tools.js';

// Both shipped nginx sites as nginx reads them. The one substitution: the certificate's paths,
// pointed at a throwaway self-signed one (and the logs, into the test's folder).

const dirs: TempDir[] = [];
afterAll(() => {
  for (const d of dirs) d.remove();
});

function testSite(file: string, certificates: [cert: string, key: string]) {
  const dir = tempDir('gateway-nginx-t-');
  dirs.push(dir);
  const { cert, key } = selfSignedCertificate(dir.path);
  const site = shipped(file, [
    [certificates[0], cert],
    [certificates[1], key],
    ['/var/log/nginx/', `${dir.path}/`],
  ]);
  return nginxTest(dir.path, nginxConf(dir.path, site));
}

describe('nginx sites', () => {
  it('nginx-one-machine.conf passes nginx -t', () => {
    const r = testSite('nginx-one-machine.conf', [
      '/etc/letsencrypt/live/gateway.example.com/fullchain.pem',
      '/etc/letsencrypt/live/gateway.example.com/privkey.pem',
    ]);
    expect(r.output).toContain('test is successful');
    expect(r.status, r.output).toBe(0);
  });

  it('nginx-behind-balancer.conf passes nginx -t', () => {
    const r = testSite('nginx-behind-balancer.conf', [
      '/etc/ssl/razer-gateway/gw-a.example.internal.crt',
      '/etc/ssl/razer-gateway/gw-a.example.internal.key',
    ]);
    expect(r.output).toContain('test is successful');
    expect(r.status, r.output).toBe(0);
  });

  it('have comments on their own lines only, and never append to X-Forwarded-For', () => {
    for (const file of ['nginx-one-machine.conf', 'nginx-behind-balancer.conf']) {
      const text = shipped(file);
      expect(endOfLineComments(text), file).toEqual([]);
      expect(text).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
      expect(text).not.toContain('$proxy_add_x_forwarded_for');
      // Without a URI part: the request target goes to the gateway exactly as received.
      const passes = text.split('\n').filter((line) => /^\s*proxy_pass /.test(line));
      expect(passes.length).toBeGreaterThan(0);
      for (const line of passes) expect(line.trim()).toMatch(/^proxy_pass http:\/\/[a-z_]+;$/);
    }
  });
});
