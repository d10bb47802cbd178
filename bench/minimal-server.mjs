// The yardstick for a signed read (issue 27): the least a server can do to answer Razer's query
// honestly. Hono on @hono/node-server, one better-sqlite3 file: verify the request's HMAC, read
// the answer row by its key, sign the answer. Same signature code as the gateway (dist/), so the
// comparison is of everything around it. Rows: MINIMAL_DB, a file with `answers (n, status, body)`.
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { signResponse, verifyRequest } from '../dist/razer/signature.js';

const credentials = [{ apiId: process.env.RAZER_API_ID, keys: [process.env.RAZER_API_KEY] }];
const db = new Database(process.env.MINIMAL_DB, { readonly: true });
const read = db.prepare('select status, body from answers where n = ?');
const app = new Hono();
app.get('/transaction/:n', (c) => {
  const uri = c.req.path;
  const v = verifyRequest(
    c.req.header('x-razer-signature'),
    credentials,
    'body',
    'GET',
    uri,
    Buffer.alloc(0),
  );
  if (!v.ok) return c.json({ code: 'INVALID_SIGNATURE', message: v.reason }, 401);
  const row = read.get(c.req.param('n'));
  if (!row) return c.json({ code: 'ORIGIN_NOT_FOUND', message: 'unknown' }, 400);
  c.header('x-razer-signature', signResponse(v.apiId, v.key, 'GET', uri, row.body));
  c.header('content-type', 'application/json');
  return c.body(row.body, row.status);
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
server.once('listening', () =>
  console.log(JSON.stringify({ port: server.address().port, msg: 'gateway listening' })),
);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
