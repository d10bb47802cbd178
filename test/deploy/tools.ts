import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simulatorGatewayEnv } from '../helpers/mitra.js';
import { admin as asAdmin } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

// What the deploy tests share: Debian's tools (nginx, systemd-analyze, psql, openssl), the
// shipped files of config/deploy/ with their placeholders substituted, an HTTP client that
// sends from a chosen loopback address, and a TCP forwarder that can be cut.

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEPLOY = join(ROOT, 'config', 'deploy');

/** A tool's path, or an error saying which Debian package has it (.ci/run installs them). */
export function tool(
  name: 'nginx' | 'systemd-analyze' | 'psql' | 'openssl' | 'promtool' | 'prometheus',
): string {
  const debianPackage = {
    nginx: 'nginx',
    'systemd-analyze': 'systemd',
    psql: 'postgresql-client',
    openssl: 'openssl',
    promtool: 'prometheus',
    prometheus: 'prometheus',
  }[name];
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', ...(process.env.PATH ?? '').split(':')])
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  throw new Error(
    `${name} is not installed: apt-get install ${debianPackage} (.ci/run installs it when missing)`,
  );
}

/**
 * A shipped file with its placeholders replaced. Each `from` must occur in the file: a renamed
 * placeholder fails here rather than silently testing something else.
 */
export function shipped(file: string, substitutions: [from: string, to: string][] = []): string {
  let text = readFileSync(join(DEPLOY, file), 'utf8');
  for (const [from, to] of substitutions) {
    if (!text.includes(from)) throw new Error(`config/deploy/${file} no longer contains "${from}"`);
    text = text.replaceAll(from, to);
  }
  return text;
}

/** Lines of a shipped file that carry a comment after something else (systemd cannot have them). */
export function endOfLineComments(text: string, comment = '#'): string[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith(comment))
    .filter((line) => new RegExp(`\\s${comment}`).test(line));
}

/** A throwaway self-signed certificate for 127.0.0.1, in `dir`. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    tool('openssl'),
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** A port free now: the OS picks one for a listener that is closed at once. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The minimal nginx.conf around a site (which nginx reads inside http {}): everything nginx
 * writes (pid, logs, temporary files) under `dir`, in the foreground. Run as root, the workers
 * stay root: they write temporary files under `dir`, which only root may enter.
 */
export function nginxConf(dir: string, site: string): string {
  const sitePath = join(dir, 'site.conf');
  writeFileSync(sitePath, site);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      process.getuid?.() === 0 ? 'user root;' : '',
      'daemon off;',
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} info;`,
      'events { worker_connections 256; }',
      'http {',
      `  access_log ${join(dir, 'access.log')};`,
      `  client_body_temp_path ${join(dir, 'client_body')};`,
      `  proxy_temp_path ${join(dir, 'proxy')};`,
      `  fastcgi_temp_path ${join(dir, 'fastcgi')};`,
      `  uwsgi_temp_path ${join(dir, 'uwsgi')};`,
      `  scgi_temp_path ${join(dir, 'scgi')};`,
      `  include ${sitePath};`,
      '}',
      '',
    ].join('\n'),
  );
  return conf;
}

/** `nginx -t` of a conf: its exit status and what it said. */
export function nginxTest(dir: string, conf: string): { status: number | null; output: string } {
  const r = spawnSync(tool('nginx'), ['-t', '-p', dir, '-e', join(dir, 'error.log'), '-c', conf], {
    encoding: 'utf8',
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export interface Nginx {
  dir: string;
  output: string[];
  /** What the site's access log (under dir) holds so far. */
  log(file: string): string;
  stop(): Promise<void>;
}

/** Starts nginx on `conf` and resolves once every port in `ports` takes connections. */
export async function startNginx(
  dir: string,
  conf: string,
  ports: { host: string; port: number }[],
): Promise<Nginx> {
  const child: ChildProcess = spawn(tool('nginx'), ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (!gone) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor(
      async () => {
        if (gone) throw new Error(`nginx exited:\n${output.join('')}\n${errorLog(dir)}`);
        return (await Promise.all(ports.map(accepts))).every(Boolean);
      },
      10_000,
      () => `nginx to listen on ${ports.map((p) => `${p.host}:${p.port}`).join(', ')}\n${errorLog(dir)}`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, output, log: (file) => readIfThere(join(dir, file)), stop };
}

const readIfThere = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
const errorLog = (dir: string) => readIfThere(join(dir, 'error.log'));

function accepts({ host, port }: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * One HTTP(S) request from `from` (a loopback address standing for a caller: Mitra, a stranger,
 * an operator), on a fresh connection; the request target is sent exactly as given. TLS is not
 * verified: the machines' certificates are throwaway ones.
 */
export function call(
  url: string,
  options: {
    from?: string;
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  } = {},
): Promise<Reply> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? 'GET',
        path: options.path ?? `${target.pathname}${target.search}`,
        headers: {
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        ...(options.from ? { localAddress: options.from } : {}),
        agent: false,
        rejectUnauthorized: false,
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** nginx's own 403 page (as opposed to an answer of the gateway's). */
export const refusedByNginx = (r: Reply) =>
  r.status === 403 && /nginx/.test(String(r.headers.server)) && r.text.includes('403 Forbidden');

export interface Forwarder {
  port: number;
  /** Refuses new connections and drops every open one: the database is gone for whoever used it. */
  cut(): Promise<void>;
}

/** A TCP forwarder on loopback to host:port, standing for the network path to a database. */
export async function forwarder(host: string, port: number): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect({ host, port });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    cut: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

export interface DeployDatabase {
  role: string;
  database: string;
  password: string;
  /** The gateway's DATABASE_URL, as the role made by postgres.sql, on `port` (the server's by default). */
  url(port?: number): string;
  drop(): Promise<void>;
}

/**
 * Runs the shipped config/deploy/postgres.sql with psql, as the server's superuser, for a role
 * and database of their own names (its optional gateway_role and gateway_database).
 */
export function runPostgresSql(
  adminUrl: string,
  variables: Record<string, string>,
): { status: number | null; output: string } {
  const r = spawnSync(
    tool('psql'),
    [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      ...Object.entries(variables).flatMap(([k, v]) => ['-v', `${k}=${v}`]),
      '-f',
      join(DEPLOY, 'postgres.sql'),
      adminUrl,
    ],
    { encoding: 'utf8' },
  );
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export async function deployDatabase(adminUrl: string): Promise<DeployDatabase> {
  const name = `gw_deploy_${randomBytes(5).toString('hex')}`;
  const password = randomBytes(24).toString('hex');
  const r = runPostgresSql(adminUrl, {
    gateway_password: password,
    gateway_role: name,
    gateway_database: name,
  });
  if (r.status !== 0) throw new Error(`postgres.sql failed (${r.status}):\n${r.output}`);
  const server = new URL(adminUrl);
  return {
    role: name,
    database: name,
    password,
    url: (port = Number(server.port)) => `postgres://${name}:${password}@127.0.0.1:${port}/${name}`,
    drop: () =>
      asAdmin(adminUrl, async (c) => {
        await c.query(`drop database if exists ${c.escapeIdentifier(name)} with (force)`);
        await c.query(`drop role if exists ${c.escapeIdentifier(name)}`);
      }),
  };
}

/**
 * A gateway's environment as the shipped unit sets it (HOST=127.0.0.1, TRUST_PROXY=1, a metrics
 * port; ports 0 for the test, nginx is told the ports it got), talking to the simulator at
 * `simUrl`, Mitra's webhooks allowed from `mitra` only; `storage` names its database.
 */
export function unitEnv(
  simUrl: string,
  mitra: string,
  adminToken: string,
  storage: Record<string, string>,
): Record<string, string> {
  return {
    ...simulatorGatewayEnv(simUrl),
    METRICS_PORT: '0',
    TRUST_PROXY: '1',
    MITRA_WEBHOOK_ALLOW_IPS: mitra,
    ADMIN_TOKEN: adminToken,
    ...storage,
  };
}

export { asAdmin };
