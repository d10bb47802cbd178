// The load generator, in a process of its own: autocannon against one URL, no pipelining.
// Prints one JSON line: throughput, latencies, errors, and this process's own CPU use, so that
// the bench can tell when the client, not the server, is the bottleneck.
// Usage: node bench/load.mjs URL CONNECTIONS SECONDS [HEADER_NAME HEADER_VALUE]
import autocannon from 'autocannon';

const [url, connections, seconds, headerName, headerValue] = process.argv.slice(2);
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
const result = await autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  pipelining: 1,
  headers: headerName ? { [headerName]: headerValue } : {},
});
const cpu = process.cpuUsage(cpuBefore);
const wallMs = performance.now() - wallBefore;
console.log(
  JSON.stringify({
    rps: result.requests.total / Number(seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    // Share of one core this process used: near 100 % means the client limited the run.
    clientCpu: (100 * (cpu.user + cpu.system)) / 1000 / wallMs,
  }),
);
