// `npm run soak`: the sample server under load for a bounded time, then a
// check that it gave back what it took. Not part of `npm test`.
//
//   node dist/test/reliability/soak.js [--seconds 60] [--rounds 32] [--backend NAME] [--margin-mib 2]
//
// Each round, against 127.0.0.1 only and all at once: wrk (keep-alive
// load), clients that open a connection per request (Connection: close),
// clients that send half a request and reset (RST), and clients that
// trickle a request a few bytes at a time (some finish, some are cut off
// by the header timeout). Between rounds every client is gone; the server's
// /proc/<pid>/fd count and RSS are sampled once its timeouts have closed
// what was left. Each round's load lasts (seconds - 5) / rounds - 5
// seconds, at least 3.
//
// Verdicts (exit 1 on either), neither of them a timing threshold:
// - fds: after every round the count returns to the baseline taken after
//   the warm-up. We poll for up to 15 s only so that the server's own
//   idle/header timeouts (1-2 s here) can close lingering connections; a
//   leaked fd never comes back, however long we wait.
// - RSS plateaus (support/plateau.ts): after the first quarter of the
//   rounds (warm-up), the highest RSS of the later half of the rest may
//   exceed the highest of the earlier half by --margin-mib at most. A heap
//   that breathes falls back between its peaks; a leak lifts the later peak
//   by the leak times the connections served. The run prints the smallest
//   leak per connection it could show (the margin over the later half's
//   connections): it needs enough rounds, and connections, for that.
// TIGERIO_SOAK_PLANTED_LEAK_BYTES=N plants a leak of N bytes per accepted
// connection in the server (support/planted-leak.ts, test code only), to
// show that the check fails on one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { startServer, type ServerProcess } from '../server/support';
import { judgePlateau, plateauRoundsMin, type RoundSample } from './support/plateau';

const HOST = '127.0.0.1';
const REQUEST = 'GET / HTTP/1.1\r\nHost: soak\r\n\r\n';

function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

function rssKiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Counters {
  requests: number;
  connections: number;
  resets: number;
  trickles: number;
  errors: number;
}

/** Opens a connection, sends one request with Connection: close, reads to the end. */
function closeClient(port: number, until: number, counters: Counters): Promise<void> {
  return new Promise((resolve) => {
    const loop = (): void => {
      if (Date.now() >= until) return resolve();
      const socket = net.connect(port, HOST, () => socket.end('GET /json HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n'));
      counters.connections++;
      let data = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (data += d));
      socket.on('error', () => counters.errors++);
      socket.on('close', () => {
        if (data.startsWith('HTTP/1.1 200')) counters.requests++;
        else counters.errors++;
        setImmediate(loop);
      });
    };
    loop();
  });
}

/** Sends half a request and resets the connection. */
function resetClient(port: number, until: number, counters: Counters): Promise<void> {
  return new Promise((resolve) => {
    const loop = (): void => {
      if (Date.now() >= until) return resolve();
      const socket = net.connect(port, HOST, () => {
        socket.write(REQUEST.slice(0, 1 + Math.floor(Math.random() * (REQUEST.length - 1))));
        setTimeout(() => {
          socket.resetAndDestroy();
          counters.resets++;
        }, Math.random() * 20);
      });
      counters.connections++;
      socket.on('error', () => undefined);
      socket.on('close', () => setTimeout(loop, 2));
    };
    loop();
  });
}

/** Trickles a request a few bytes at a time; every other one stalls halfway and is left to the header timeout. */
function trickleClient(port: number, until: number, counters: Counters, index: number): Promise<void> {
  return new Promise((resolve) => {
    let round = 0;
    const loop = (): void => {
      if (Date.now() >= until) return resolve();
      const stall = (index + round++) % 2 === 1;
      const socket = net.connect(port, HOST);
      counters.connections++;
      let at = 0;
      let timer: NodeJS.Timeout | undefined;
      const step = (): void => {
        if (stall && at >= REQUEST.length / 2) return; // wait for the server to give up
        if (at >= REQUEST.length) return;
        socket.write(REQUEST.slice(at, at + 3));
        at += 3;
        timer = setTimeout(step, 30);
      };
      socket.on('connect', step);
      socket.on('data', () => socket.end());
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        counters.trickles++;
        setTimeout(loop, 10);
      });
    };
    loop();
  });
}

function runWrk(wrk: string, port: number, seconds: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(wrk, ['-t2', '-c64', `-d${seconds}s`, `http://${HOST}:${port}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', () => {
      const match = /(\d+) requests in/.exec(out);
      resolve(match ? Number(match[1]) : 0);
    });
  });
}

async function waitForFds(pid: number, baseline: number, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let count = fdCount(pid);
  while (count > baseline && Date.now() < until) {
    await sleep(100);
    count = fdCount(pid);
  }
  return count;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let seconds = 60;
  let rounds = 32;
  let marginMiB = 2;
  const extra: string[] = [];
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === '--seconds') seconds = Number(args[i + 1]);
    else if (args[i] === '--rounds') rounds = Number(args[i + 1]);
    else if (args[i] === '--margin-mib') marginMiB = Number(args[i + 1]);
    else if (args[i] === '--backend') extra.push('--backend', args[i + 1]);
    else {
      console.error(`soak: unknown argument ${args[i]}`);
      return 2;
    }
  }
  if (!Number.isInteger(rounds) || rounds < plateauRoundsMin) {
    console.error(`soak: --rounds must be an integer >= ${plateauRoundsMin} (warm-up, then two halves to compare)`);
    return 2;
  }
  if (!(marginMiB >= 0)) {
    console.error(`soak: --margin-mib must be a number of MiB, 0 or more (default 2), not ${marginMiB}`);
    return 2;
  }
  const wrkPath = spawnSync('bash', ['-c', 'command -v wrk'], { encoding: 'utf8' }).stdout.trim();
  if (wrkPath === '') console.log('soak: wrk not found (apt-get install wrk); running without it');
  // Load time per round: what is left of the budget after warm-up and drains (~5 s a round).
  const loadSeconds = Math.max(3, Math.floor((seconds - 5) / rounds) - 5);

  const plantedLeak = process.env.TIGERIO_SOAK_PLANTED_LEAK_BYTES;
  if (plantedLeak !== undefined) console.log(`soak: a leak of ${plantedLeak} B per accepted connection is planted in the server (test build)`);
  const server: ServerProcess = await startServer(
    [
      '--port', '0', '--threads', '2', '--quiet',
      '--header-timeout-ms', '1000', '--idle-timeout-ms', '1000', '--send-timeout-ms', '2000', ...extra,
    ],
    { nodeArgs: plantedLeak === undefined ? [] : ['--require', path.join(__dirname, 'support', 'planted-leak.js')] },
  );
  const pid = server.child.pid!;
  const port = server.port;
  console.log(`soak: server pid ${pid} on port ${port}; ${rounds} rounds of ${loadSeconds} s`);
  let status = 0;
  try {
    const runRound = async (load: number): Promise<Counters> => {
      const counters: Counters = { requests: 0, connections: 0, resets: 0, trickles: 0, errors: 0 };
      const until = Date.now() + load * 1000;
      const wrkRequests = wrkPath !== '' ? runWrk(wrkPath, port, load) : Promise.resolve(0);
      await Promise.all([
        ...Array.from({ length: 8 }, () => closeClient(port, until, counters)),
        ...Array.from({ length: 4 }, () => resetClient(port, until, counters)),
        ...Array.from({ length: 16 }, (_, i) => trickleClient(port, until + 0, counters, i)),
      ]);
      const fromWrk = await wrkRequests;
      counters.requests += fromWrk;
      counters.connections += wrkPath !== '' ? 64 : 0;
      return counters;
    };

    // Warm-up: JIT, heap and thread start-up; then the baseline.
    await runRound(2);
    const baselineFds = await waitForFds(pid, 0, 3_000).then(async () => {
      await sleep(2_500); // idle/header timeouts close what the warm-up left
      return fdCount(pid);
    });
    console.log(`soak: baseline ${baselineFds} fds, RSS ${(rssKiB(pid) / 1024).toFixed(1)} MiB`);
    const samples: RoundSample[] = [];
    for (let round = 1; round <= rounds; round++) {
      const c = await runRound(loadSeconds);
      const peakFds = fdCount(pid);
      const fds = await waitForFds(pid, baselineFds, 15_000);
      const rss = rssKiB(pid);
      console.log(
        `soak: round ${round}: ${c.requests} requests, ${c.connections} connections (${c.resets} reset, ${c.trickles} trickled), ` +
          `${c.errors} client-side errors; fds ${peakFds} right after -> ${fds} (baseline ${baselineFds}); RSS ${(rss / 1024).toFixed(1)} MiB`,
      );
      if (fds > baselineFds) {
        console.error(`soak: FAIL: ${fds - baselineFds} fds still open 15 s after round ${round} (leaked)`);
        status = 1;
      }
      samples.push({ rssKiB: rss, connections: c.connections });
      if (server.child.exitCode !== null) throw new Error(`the server exited (${server.child.exitCode}): ${server.stderr()}`);
    }
    const mib = (kib: number): string => (kib / 1024).toFixed(1);
    const verdict = judgePlateau(samples, marginMiB * 1024);
    console.log(
      `soak: RSS plateau: after ${verdict.warmupRounds} warm-up rounds, the earlier half peaks at ${mib(verdict.earlierPeakKiB)} MiB, ` +
        `the later half at ${mib(verdict.laterPeakKiB)} MiB (${verdict.riseKiB >= 0 ? '+' : ''}${mib(verdict.riseKiB)} MiB, margin ${marginMiB} MiB); ` +
        `the later half served ${verdict.laterConnections} connections, so a leak of ${verdict.detectableLeakBytes} B or more per connection would show`,
    );
    if (!verdict.ok) {
      console.error('soak: FAIL: RSS still rises after the warm-up: the later rounds peak higher than the earlier ones (a leak)');
      status = 1;
    }
  } finally {
    const exit = await server.stop('SIGTERM', 15_000).catch((error: Error) => {
      console.error(`soak: ${error.message}`);
      status = 1;
      return null;
    });
    if (exit !== null && exit.code !== 0) {
      console.error(`soak: FAIL: the server exited with ${exit.code ?? exit.signal} on SIGTERM; stderr:\n${server.stderr()}`);
      status = 1;
    }
  }
  console.log(status === 0 ? 'soak: ok' : 'soak: FAILED');
  return status;
}

void main().then((code) => (process.exitCode = code), (error: Error) => {
  console.error(`soak: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
