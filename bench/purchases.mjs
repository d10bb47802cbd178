// Purchases driven from a process of their own (Razer's side): WARMUP then COUNT init -> top-up
// -> final, CONCURRENCY at a time. Prints `{"warm":true}` once the WARMUP purchases (not counted)
// are done and waits for a line on stdin, then prints one JSON line on the counted ones:
// delivered, seconds, this process's CPU share.
// Usage: node bench/purchases.mjs URL[,URL...] WARMUP COUNT CONCURRENCY PREFIX API_ID KEY
// With several URLs (instances sharing a database), each purchase goes to one in turn.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { RazerClient } from '../dist/sim/razer-client.js';

const [urls, warmup, count, concurrency, prefix, apiId, key] = process.argv.slice(2);
const clients = urls.split(',').map((url) => new RazerClient(url, apiId, key));
const initBody = (n, i) => ({
  transactionNumber: n,
  sku: i % 2 === 0 ? 'DIAMOND50' : 'STEAMV50',
  razerId: 'RZR_bench',
  accountId: `${100000 + i}-1`,
  userIpAddress: '203.0.113.7',
  userCountryCode: 'MY',
});

/** `total` purchases numbered from `tag`, `concurrency` at a time; how many were delivered. */
async function drive(total, tag) {
  let next = 0;
  let delivered = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const n = `${tag}-${i}`;
      const razer = clients[i % clients.length];
      const init = await razer.init(initBody(n, i));
      let answer = await razer.topup(n, init.json.transactionToken);
      while (answer.status === 408) answer = await razer.query(n);
      if (answer.status === 200) delivered++;
    }
  };
  await Promise.all(Array.from({ length: Number(concurrency) }, worker));
  return delivered;
}

// The first purchases of a process run before its code (and the gateway's) is compiled.
await drive(Number(warmup), `${prefix}-WARMUP`);
// The bench takes its baseline (CPU, supplier calls) before the counted purchases start.
console.log(JSON.stringify({ warm: true }));
const go = createInterface({ input: process.stdin });
await once(go, 'line');
go.close(); // else stdin keeps this process alive
const cpuBefore = process.cpuUsage();
const started = performance.now();
const delivered = await drive(Number(count), prefix);
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
console.log(
  JSON.stringify({
    delivered,
    seconds: wallMs / 1000,
    clientCpu: (100 * (cpu.user + cpu.system)) / 1000 / wallMs,
  }),
);
