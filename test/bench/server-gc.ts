// GC activity of the sample server over 100,000 keep-alive requests
// without a body (issue 16: "no allocation per request in steady state").
//
// Runs `node --trace-gc dist/server/main.js --threads 1` (V8's flag is
// per process, so the worker thread's isolate reports too), warms it up,
// then sends --requests requests over --connections keep-alive
// connections (--pipeline N requests per write; 1 = one at a time) and
// counts the scavenges and mark-compacts the server printed meanwhile,
// and the server's CPU time per request (user + system, from /proc on
// Linux): on a shared machine that is steadier than requests per second,
// which other load moves by tens of percent.
// A benchmark, not a test: it prints figures and never fails on them.
//
//   node dist/test/bench/server-gc.js [--requests 100000] [--connections 10]
//        [--pipeline 1] [--main path/to/server/main.js] [--raw]
//
// --raw measures the raw tigerio peer of http-peers.ts instead (answers
// each request head with a canned response, no parser, no timers): the
// difference in CPU per request is what the sample server's own work costs.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { numberFlag, parseFlags, report } from './common';

const args = parseFlags(process.argv.slice(2));
const REQUESTS = numberFlag(args, 'requests', 100_000);
const CONNECTIONS = numberFlag(args, 'connections', 10);
const PIPELINE = numberFlag(args, 'pipeline', 1);
const MAIN = args.main ?? path.join(__dirname, '..', '..', 'server', 'main.js');
const RAW = args.raw === 'true';
const COMMAND = RAW
  ? [path.join(__dirname, 'http-peers.js'), '--kind', 'tigerio-raw']
  : [MAIN, '--threads', '1', '--port', '0', '--quiet'];
const WHAT = RAW ? 'the raw tigerio peer' : MAIN;
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(PIPELINE), 'latin1');
const BODY = 'Hello, World!';

interface GcCounts {
  scavenges: number;
  markCompacts: number;
}

async function main(): Promise<void> {
  const server = spawn(process.execPath, ['--trace-gc', ...COMMAND], { stdio: ['ignore', 'pipe', 'inherit'] });
  const counts: GcCounts = { scavenges: 0, markCompacts: 0 };
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    server.on('exit', (code) => reject(new Error(`server exited (${code})`)));
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.includes('Scavenge')) counts.scavenges++;
        else if (line.includes('Mark-Compact') || line.includes('Mark-sweep')) counts.markCompacts++;
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)|^listening (\d+)/.exec(line);
        if (m) resolve(Number(m[1] ?? m[2]));
      }
    });
  });
  try {
    await load(port, Math.min(20_000, REQUESTS)); // warm-up: JIT, pools, buffers at their steady sizes
    const before = { ...counts };
    const cpuBefore = cpuSeconds(server.pid!);
    const started = process.hrtime.bigint();
    await load(port, REQUESTS);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuAfter = cpuSeconds(server.pid!);
    const cpuUsPerRequest = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1e6) / REQUESTS;
    // --trace-gc lines are written by the server as they happen; give the pipe a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const scavenges = counts.scavenges - before.scavenges;
    const markCompacts = counts.markCompacts - before.markCompacts;
    process.stdout.write(
      `server-gc: ${REQUESTS} requests (${CONNECTIONS} connections, ${PIPELINE} per write) in ${seconds.toFixed(2)} s: ` +
        `${scavenges} scavenges, ${markCompacts} mark-compacts in the server; ` +
        `server CPU ${cpuUsPerRequest === null ? 'n/a' : cpuUsPerRequest.toFixed(2) + ' us'} per request (${WHAT})\n`,
    );
    report({ requests: REQUESTS, connections: CONNECTIONS, pipeline: PIPELINE, scavenges, markCompacts, seconds, cpuUsPerRequest });
  } finally {
    server.kill('SIGTERM');
  }
}

/** User + system CPU seconds of a process (Linux /proc), or null elsewhere. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return ticks / 100; // USER_HZ: 100 on every Linux ABI Node runs on
  } catch {
    return null;
  }
}

/** Sends `total` requests over CONNECTIONS keep-alive connections; resolves when every response arrived. */
async function load(port: number, total: number): Promise<void> {
  const perConnection = Math.ceil(total / CONNECTIONS / PIPELINE);
  await Promise.all(Array.from({ length: CONNECTIONS }, () => drive(port, perConnection)));
}

function drive(port: number, writes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    let left = writes;
    let pending = 0; // responses still owed for the last write
    let tail = ''; // the end of the stream, to find BODY across chunk boundaries
    socket.on('connect', () => {
      pending = PIPELINE;
      socket.write(REQUEST);
    });
    socket.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      let at = 0;
      let found: number;
      while ((found = text.indexOf(BODY, at)) >= 0) {
        pending--;
        at = found + BODY.length;
      }
      tail = text.slice(Math.max(at, text.length - BODY.length + 1));
      if (pending > 0) return;
      if (pending < 0) return reject(new Error('more responses than requests'));
      if (--left === 0) {
        socket.end();
        return resolve();
      }
      pending = PIPELINE;
      socket.write(REQUEST);
    });
    socket.on('error', reject);
  });
}

main().catch((error) => {
  process.stderr.write(`server-gc: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
