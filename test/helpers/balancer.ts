import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Balancer {
  url: string;
  /** Backends in rotation; a backend that refuses connections is skipped. */
  backends: string[];
  close(): Promise<void>;
}

/**
 * A round-robin HTTP load balancer on loopback, as an operator would put in front of several
 * instances: it appends the client's address to X-Forwarded-For, passes over a backend that
 * refuses the connection, and answers 502 when a backend dies with the request in flight.
 */
export async function startBalancer(backends: string[]): Promise<Balancer> {
  let next = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const tryBackend = (left: number) => {
        if (left === 0 || balancer.backends.length === 0) {
          res.writeHead(502).end('no backend');
          return;
        }
        const target = new URL(balancer.backends[next++ % balancer.backends.length] ?? '');
        const forwarded = [req.headers['x-forwarded-for'], req.socket.remoteAddress]
          .filter(Boolean)
          .join(', ');
        const upstream = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, 'x-forwarded-for': forwarded, connection: 'close' },
          },
          (reply) => {
            res.writeHead(reply.statusCode ?? 502, reply.headers);
            reply.pipe(res);
            reply.on('error', () => res.destroy());
          },
        );
        let sent = false;
        upstream.on('socket', (socket) => socket.on('connect', () => (sent = true)));
        upstream.on('error', () => {
          // Refused before anything was sent: another backend may take it. Otherwise the
          // outcome is unknown to the client, as with a real balancer.
          if (!sent && !res.headersSent) tryBackend(left - 1);
          else if (!res.headersSent) res.writeHead(502).end('backend died');
          else res.destroy();
        });
        upstream.end(body);
      };
      tryBackend(balancer.backends.length * 2);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const balancer: Balancer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    backends: [...backends],
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return balancer;
}
