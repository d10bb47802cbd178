// The reference: a bare Hono JSON route on @hono/node-server, in its own process like the gateway.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/x', (c) => c.json({ transactionNumber: 'X', status: 'SUCCESS', referenceId: 'VCG-TRX-000001' }));
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
server.once('listening', () =>
  console.log(JSON.stringify({ port: server.address().port, msg: 'gateway listening' })),
);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
