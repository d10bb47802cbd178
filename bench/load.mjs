// The load generator, in a process of its own, against one URL, no pipelining: wrk where it is
// installed (a C client: its latencies are in microseconds and it saturates last), else
// autocannon (whole milliseconds). BENCH_LOAD=wrk|autocannon chooses.
// Prints one JSON line: throughput, latencies (ms), errors, and the client's own CPU use, so that
// the bench can tell when the client, not the server, is the bottleneck.
// Usage: node bench/load.mjs URL CONNECTIONS SECONDS [HEADER_NAME HEADER_VALUE]...
// BENCH_REQUESTS=FILE: GETs on URL's origin rotating over FILE's lines `PATH<TAB>SIGNATURE` (the
// X-Razer-Signature of each), so that each request asks about another transaction.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

const [url, connections, seconds, ...headerArgs] = process.argv.slice(2);
const headers = {};
for (let i = 0; i + 1 < headerArgs.length; i += 2) headers[headerArgs[i]] = headerArgs[i + 1];
const hasWrk = spawnSync('wrk', ['--version']).error === undefined;
const tool = process.env.BENCH_LOAD ?? (hasWrk ? 'wrk' : 'autocannon');

const TICKS_PER_SECOND = 100;
const requestsFile = process.env.BENCH_REQUESTS;

// wrk's script: the file's requests built once, then handed out in turn.
const ROTATE_LUA = `
local requests = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do
    local path, sig = line:match("([^\t]+)\t([^\t]+)")
    requests[#requests + 1] = wrk.format("GET", path, { ["x-razer-signature"] = sig })
  end
end
request = function()
  i = i % #requests + 1
  return requests[i]
end
`;

/** wrk's durations ("412.5us", "3.2ms", "1.01s") in milliseconds. */
function ms(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`unreadable wrk duration ${text}`);
  const factor = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2]];
  return Number(m[1]) * factor;
}

/** wrk in a shell that prints, once wrk has exited, the CPU time of its waited-for children. */
async function runWrk() {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  if (requestsFile) {
    const script = join(tmpdir(), `gateway-bench-rotate-${process.pid}.lua`);
    writeFileSync(script, ROTATE_LUA);
    args.push('-s', script, url, '--', requestsFile);
  } else args.push(url);
  const script = 'wrk "$@"; echo; echo "STAT $(cat /proc/$$/stat)"';
  const started = performance.now();
  const out = await new Promise((resolve, reject) => {
    const proc = spawn('sh', ['-c', script, 'sh', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    proc.stdout.on('data', (c) => {
      text += c;
    });
    proc.once('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`wrk: exit ${code}\n${text}`)),
    );
  });
  const wallMs = performance.now() - started;
  const stat = /STAT .*\) (.*)$/m.exec(out)?.[1]?.split(' ') ?? [];
  // After the command name: field 16 (cutime) and 17 (cstime) are at 13 and 14.
  const childTicks = Number(stat[13]) + Number(stat[14]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: requests / Number(seconds),
    p50: ms(/ 50%\s+(\S+)/.exec(out)?.[1] ?? ''),
    p99: ms(/ 99%\s+(\S+)/.exec(out)?.[1] ?? ''),
    errors: errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    clientCpu: (100 * ((childTicks / TICKS_PER_SECOND) * 1000)) / wallMs,
    tool: 'wrk',
  };
}

function rotate() {
  const list = readFileSync(requestsFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));
  let i = 0;
  return (req) => {
    const [path, signature] = list[i++ % list.length];
    return { ...req, method: 'GET', path, headers: { ...req.headers, 'x-razer-signature': signature } };
  };
}

async function runAutocannon() {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const result = await autocannon({
    url,
    connections: Number(connections),
    duration: Number(seconds),
    pipelining: 1,
    headers,
    ...(requestsFile ? { requests: [{ setupRequest: rotate() }] } : {}),
  });
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - wallBefore;
  return {
    rps: result.requests.total / Number(seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    // Share of one core this process used: near 100 % means the client limited the run.
    clientCpu: (100 * (cpu.user + cpu.system)) / 1000 / wallMs,
    tool: 'autocannon',
  };
}

console.log(JSON.stringify(tool === 'wrk' ? await runWrk() : await runAutocannon()));
