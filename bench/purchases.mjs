// Purchases driven from a process of their own (Razer's side): COUNT init -> top-up -> final,
// CONCURRENCY at a time. Prints one JSON line: delivered, seconds, this process's CPU share.
// Usage: node bench/purchases.mjs URL[,URL...] COUNT CONCURRENCY PREFIX API_ID KEY
// With several URLs (instances sharing a database), each purchase goes to one in turn.
import { RazerClient } from '../dist/sim/razer-client.js';

const [urls, count, concurrency, prefix, apiId, key] = process.argv.slice(2);
const clients = urls.split(',').map((url) => new RazerClient(url, apiId, key));
const total = Number(count);
const initBody = (n, i) => ({
  transactionNumber: n,
  sku: i % 2 === 0 ? 'DIAMOND50' : 'STEAMV50',
  razerId: 'RZR_bench',
  accountId: `${100000 + i}-1`,
  userIpAddress: '203.0.113.7',
  userCountryCode: 'MY',
});

const cpuBefore = process.cpuUsage();
const started = performance.now();
let next = 0;
let delivered = 0;
const worker = async () => {
  while (next < total) {
    const i = next++;
    const n = `${prefix}-${i}`;
    const razer = clients[i % clients.length];
    const init = await razer.init(initBody(n, i));
    let answer = await razer.topup(n, init.json.transactionToken);
    while (answer.status === 408) answer = await razer.query(n);
    if (answer.status === 200) delivered++;
  }
};
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
console.log(
  JSON.stringify({
    delivered,
    seconds: wallMs / 1000,
    clientCpu: (100 * (cpu.user + cpu.system)) / 1000 / wallMs,
  }),
);
