// The benchmark runner: `npm run bench` (= tsc, then node dist/test/bench/run.js).
//
// Runs each benchmark beside its peer in the same run, every benchmark in
// its own child process (a fresh heap; RSS measurable), on every backend
// this machine has, and prints one table: benchmark | backend | tigerio |
// peer | peer figure | ratio (ratio > 1: tigerio ahead). These are
// benchmarks, not tests: they print figures and never fail on a number.
//
// Flags:
//   --results DIR     also write the table and raw results as JSON into DIR
//   --only A,B        run only these benchmarks (names below)
//   --quick           short durations: a smoke run, figures not meaningful
//   --backends A,B    tigerio backends to run (default: IO.backends())
//   --pin             HTTP: server on the last CPU, wrk on the first (taskset); ping-pong
//                     and timeouts: every contender on the last CPU; for a quiet machine only: beside
//                     other load it makes figures worse
//   --help
// and, running no benchmark (tools.ts): --compare A.json B.json, --chart A.json
// With --results, the chart of the run (chart.ts) is written beside its JSON.
//
// Peers that need tools: the C ping-pongs need `cc` (compiled into a
// temporary directory; the io_uring one also liburing, Debian's
// liburing-dev, and is skipped with a note without it); HTTP needs `wrk` and `nginx`, installed from
// Debian's packages (apt-get) when missing, and Bun, installed from npm
// (@oven/bun-linux-x64) into the temporary directory when missing; the
// runner says when it installs anything, and skips a peer it cannot get.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { IO } from '../../io';
import { ensureBun } from './bun-peer';
import { processTreeCpuSeconds, waitedCpuSeconds, withWaitedCpu } from './process-cpu';
import { writeChart } from './chart';
import { formatFigure, type ResultRow } from './results-file';
import { parseFlags, RESULT_PREFIX, sleep } from './common';
import { simulationRow } from './simulation-row';
import { benchTool, TOOLS_HELP } from './tools';

const toolStatus = benchTool(process.argv.slice(2));
if (toolStatus !== null) process.exit(toolStatus);

const BENCHMARKS = ['pingpong', 'http', 'timeouts', 'idle', 'server-idle', 'pingpong-idle', 'overhead', 'fsync', 'simulation', 'udp', 'unix-pingpong', 'sendfile', 'accept'] as const;
type BenchmarkName = (typeof BENCHMARKS)[number];

const HELP = `Usage: npm run bench -- [--results DIR] [--only ${BENCHMARKS.join(',')}] [--quick] [--backends epoll,io_uring]\n${TOOLS_HELP}`;

const args = parseFlags(process.argv.slice(2));
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const quick = args.quick === 'true';
const only = args.only ? (args.only.split(',') as BenchmarkName[]) : [...BENCHMARKS];
for (const name of only) {
  if (!BENCHMARKS.includes(name)) {
    process.stderr.write(`bench: unknown benchmark '${name}'\n${HELP}`);
    process.exit(2);
  }
}
const available = IO.backends();
// The simulation is no kernel to compare: it has its own row (simulation.ts).
const backends = args.backends ? args.backends.split(',') : available.filter((name) => name !== 'simulation');
for (const backend of backends) {
  if (!available.includes(backend)) {
    process.stderr.write(`bench: backend '${backend}' is not available here (${available.join(', ')})\n`);
    process.exit(2);
  }
}

const D = {
  pingpongMs: quick ? 500 : 5000,
  /** Ping-pong: every contender this many times, the rounds interleaved; the median is reported. */
  pingpongRounds: quick ? 1 : 3,
  warmupMs: quick ? 100 : 300,
  wrkSeconds: quick ? 2 : 5,
  wrkWarmupSeconds: quick ? 0 : 1,
  /** HTTP: every server measured this many times, the rounds interleaved; the median is reported. */
  httpRounds: quick ? 1 : 3,
  timeoutsCount: quick ? 100_000 : 1_000_000,
  timeoutsRounds: quick ? 1 : 3,
  idleCount: quick ? 1000 : 10_000,
  overheadMs: quick ? 300 : 2000,
  fsyncMs: quick ? 1000 : 5000,
  acceptMs: quick ? 500 : 3000,
  /** Accept loop: tigerio and node:net this many times, the rounds interleaved; the median is reported. */
  acceptRounds: quick ? 1 : 3,
};

const HERE = __dirname; // dist/test/bench
const SOURCE_DIR = path.join(HERE, '..', '..', '..', 'test', 'bench');
const ROOT = path.join(HERE, '..', '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-bench-'));

// ---- Rows ---------------------------------------------------------------------

/** A row of the table: the recorded JSON's fields (results-file.ts) and a note for the printed table. */
interface Row extends ResultRow {
  note?: string;
}

const rows: Row[] = [];
const raw: Record<string, unknown>[] = [];
const notes: string[] = [];

function addRow(row: Omit<Row, 'ratio'>): void {
  let ratio: number | null = null;
  if (row.tigerio !== null && row.peerFigure !== null && row.tigerio > 0 && row.peerFigure > 0) {
    ratio = row.higherIsBetter ? row.tigerio / row.peerFigure : row.peerFigure / row.tigerio;
  }
  const full = { ...row, ratio };
  rows.push(full);
  process.stdout.write(`  ${formatRow(full).join(' | ')}\n`);
}

function note(text: string): void {
  notes.push(text);
  process.stdout.write(`bench: ${text}\n`);
}

// ---- Children -------------------------------------------------------------------

interface ChildOptions {
  /** Raise RLIMIT_NOFILE (bash ulimit) before exec: the 10,000-connection benchmarks. */
  highFd?: boolean;
  nodeFlags?: string[];
  timeoutMs: number;
  /** Run on this CPU only (taskset), where --pin is on. */
  cpu?: string;
}

const children = new Set<ChildProcess>();

function fdLimitPrefix(): string {
  // 65536 where allowed; otherwise as high as the hard limit lets us go.
  return 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ';
}

/** Runs a child (node script in dist/test/bench, or a binary) and returns its BENCH_RESULT. */
function runChild(command: string[], options: ChildOptions): Promise<Record<string, unknown> | null> {
  const quoted = command.map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  const pinTo = options.cpu !== undefined && pin ? `taskset -c ${options.cpu} ` : '';
  const script = (options.highFd ? fdLimitPrefix() : '') + 'exec ' + pinTo + quoted;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (data) => (stdout += data));
    child.stderr!.on('data', (data) => (stderr += data));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${options.timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (line === undefined) {
        note(`${command.slice(0, 4).join(' ')}...: no result (exit ${code ?? signal}): ${stderr.trim().split('\n').slice(-3).join(' / ')}`);
        resolve(null);
        return;
      }
      const result = JSON.parse(line.slice(RESULT_PREFIX.length)) as Record<string, unknown>;
      raw.push({ command: command.join(' '), ...result });
      resolve(result);
    });
  });
}

function nodeChild(script: string, scriptArgs: string[], options: ChildOptions): Promise<Record<string, unknown> | null> {
  return runChild(['node', ...(options.nodeFlags ?? []), path.join(HERE, script), ...scriptArgs], options);
}

function num(result: Record<string, unknown> | null, key: string): number | null {
  const value = result?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function which(tool: string): string | null {
  const found = spawnSync('bash', ['-c', `command -v ${tool} || ls /usr/sbin/${tool} 2>/dev/null`], { encoding: 'utf8' });
  const line = found.stdout.trim().split('\n')[0];
  return found.status === 0 && line ? line : null;
}

/**
 * test/bench/NAME.c compiled with `cc -O2 -pthread` (and `libs`, e.g. -luring) into the
 * temporary directory; null (with a note naming `missing`, what a failure most likely means) where that fails.
 */
function compileC(name: string, libs: string[] = [], missing?: string): string | null {
  const cc = which('cc');
  if (cc === null) {
    note(`cc not found: ${name}.c is skipped`);
    return null;
  }
  const binary = path.join(tmp, name);
  try {
    execFileSync(cc, ['-O2', '-pthread', '-o', binary, path.join(SOURCE_DIR, `${name}.c`), ...libs], { stdio: 'pipe' });
    return binary;
  } catch (error) {
    const reason = missing ?? (error as Error).message.split('\n')[0];
    note(`cc failed on ${name}.c (${reason}): it is skipped`);
    return null;
  }
}

/** The median of the ratios a/b taken round by round, with their range, as text ("1.12x (1.05-1.20x)"). */
function ratioRange(pairs: [number | null, number | null][]): string | null {
  const ratios = pairs.filter((p): p is [number, number] => p[0] !== null && p[1] !== null && p[1] > 0).map(([a, b]) => a / b);
  if (ratios.length === 0) return null;
  const mid = median(ratios)!;
  return `${mid.toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x over ${ratios.length} rounds)`;
}

async function pingpong(): Promise<void> {
  const common = ['--duration', String(D.pingpongMs), '--warmup', String(D.warmupMs)];
  // With --pin every contender runs on the same CPU: on a VM the two vCPUs
  // can differ by 1.4x at a time (the C io_uring loop: 113,000 rt/s on one,
  // 80,000 on the other, a minute later the other way round), so an
  // unpinned ratio says which CPU each contender landed on.
  const timeoutMs = D.pingpongMs + 30_000;
  const options = { timeoutMs, cpu: SERVER_CPU };
  const epollBinary = compileC('pingpong');
  // liburing is a peer's library only (Debian: liburing-dev); tigerio itself does not use it.
  const uringBinary = process.platform === 'linux' ? compileC('pingpong_uring', ['-luring'], 'liburing not found: install liburing-dev') : null;
  // The floor under the round trip's user time (kernel_entry.c): what a
  // kernel entry costs, and what it costs the user-space lines read after it.
  const entryBinary = process.platform === 'linux' ? compileC('kernel_entry') : null;
  const cLoop = (idleThreads: number): Promise<BenchResult> =>
    runChild([epollBinary!, String(D.pingpongMs), String(D.warmupMs), String(idleThreads)], options);
  // Every contender once per round, the rounds interleaved: load from
  // elsewhere on the machine hits one round, and each round's ratios are
  // taken between figures measured minutes apart at most.
  if (pin) note(`ping-pong: every contender pinned to CPU ${SERVER_CPU} (--pin)`);
  const rounds: Record<string, BenchResult>[] = [];
  for (let round = 1; round <= D.pingpongRounds; round++) {
    if (D.pingpongRounds > 1) process.stdout.write(`bench: ping-pong round ${round} of ${D.pingpongRounds} (load ${os.loadavg()[0].toFixed(1)})\n`);
    const results: Record<string, BenchResult> = {};
    results.net = await nodeChild('pingpong.js', ['--impl', 'net', ...common], options);
    if (epollBinary !== null) {
      results.cEpoll = await cLoop(0);
      // The same loop in a process with one more thread, as every Node process has (see pingpong.c).
      results.cThreaded = await cLoop(1);
    }
    if (uringBinary !== null) results.cUring = await runChild([uringBinary, String(D.pingpongMs), String(D.warmupMs)], options);
    if (entryBinary !== null) {
      results.kernelEntry = await runChild([entryBinary, quick ? '20000' : '200000'], options);
      results.jsKernelEntry = await nodeChild('overhead.js', ['--impl', 'kernel-entry', '--batch', '64', '--duration', String(D.overheadMs)], options);
    }
    for (const backend of backends) {
      results[backend] = await nodeChild('pingpong.js', ['--impl', 'tigerio', '--backend', backend, ...common], options);
      // The server side with recvPooled, right after: beside the caller's-buffer row.
      results[`${backend}:pooled`] = await nodeChild('pingpong.js', ['--impl', 'tigerio', '--backend', backend, '--pooled', ...common], options);
    }
    rounds.push(results);
  }
  const figure = (name: string): number | null => median(rounds.map((r) => num(r[name], 'roundTripsPerSecond')));
  // CPU per round trip in us, all of it (cpuSeconds) or user space's part (userSeconds).
  const perRoundTripUs = (result: BenchResult, seconds: 'cpuSeconds' | 'userSeconds'): number | null => {
    const cpu = num(result, seconds);
    const count = num(result, 'roundTrips');
    return cpu === null || count === null || count === 0 ? null : (cpu * 1e6) / count;
  };
  const mode = rounds.map((r) => r.cUring?.mode).find((m) => typeof m === 'string');
  const peers: [string, string][] = [
    ['net', 'node:net'],
    ['cEpoll', 'C epoll loop'],
    ['cThreaded', 'C epoll loop, 1 idle thread beside it'],
    ['cUring', `C io_uring loop (liburing, ${mode ?? '?'})`],
  ];
  for (const backend of backends) {
    const base = { benchmark: 'ping-pong 64 B, 1 conn', backend, tigerio: figure(backend), unit: 'rt/s', higherIsBetter: true };
    addRow({ benchmark: 'ping-pong 64 B, 1 conn, recvPooled', backend, tigerio: figure(`${backend}:pooled`), unit: 'rt/s',
      higherIsBetter: true, peer: "tigerio, caller's buffer", peerFigure: figure(backend) });
    for (const [key, label] of peers) {
      if (rounds.every((r) => r[key] === undefined)) continue;
      addRow({ ...base, peer: label, peerFigure: figure(key) });
    }
    if (D.pingpongRounds > 1) {
      const ranges = peers.flatMap(([key, label]) => {
        const text = ratioRange(rounds.map((r) => [num(r[backend], 'roundTripsPerSecond'), num(r[key], 'roundTripsPerSecond')]));
        return text === null ? [] : [`${label} ${text}`];
      });
      note(`ping-pong ${backend}: tigerio's round trips/s over each peer's, round by round: ${ranges.join('; ')}`);
    }
    const medians = (seconds: 'cpuSeconds' | 'userSeconds'): string =>
      [backend, 'cEpoll', 'cUring']
        .flatMap((key) => {
          const us = median(rounds.map((r) => perRoundTripUs(r[key], seconds)));
          return us === null ? [] : [`${key === backend ? `tigerio ${backend}` : key} ${us.toFixed(2)} us`];
        })
        .join(', ');
    note(`ping-pong ${backend}: CPU per round trip (user + system, median): ${medians('cpuSeconds')}`);
    note(`ping-pong ${backend}: user-space CPU per round trip (median): ${medians('userSeconds')}`);
  }
  kernelEntryNote(rounds.map((r) => r.kernelEntry), rounds.map((r) => r.jsKernelEntry));
}

/**
 * What kernel_entry.c measured, as a note: a kernel entry's cost, and how
 * much more each of 256 scattered cache lines costs user space right after
 * one than with no entry between passes (about 0 where an entry leaves the
 * caches alone; on this VM it does not); beside it, the same entry made
 * from JavaScript (overhead.ts --impl kernel-entry).
 */
function kernelEntryNote(results: BenchResult[], fromJs: BenchResult[]): void {
  const entryNs = median(results.map((r) => num(r, 'entryNs')));
  const warmNs = median(results.map((r) => num(r, 'lines256WarmNs')));
  const coldNs = median(results.map((r) => num(r, 'lines256AfterEntryNs')));
  if (entryNs === null || warmNs === null || coldNs === null) return;
  const jsNs = median(fromJs.map((r) => num(r, 'nsPerOp')));
  // The tick's cost over C's, round by round (each pair measured minutes apart at most).
  const overC = results.flatMap((r, i) => {
    const c = num(r, 'entryNs');
    const js = num(fromJs[i], 'nsPerOp');
    return c === null || js === null ? [] : [js - c];
  });
  const overCText = overC.length === 0 ? '' : ` (${Math.min(...overC).toFixed(0)}-${Math.max(...overC).toFixed(0)} ns more, round by round)`;
  note(
    `kernel entry (kernel_entry.c, median): an epoll_wait with a zero timeout costs ${entryNs.toFixed(0)} ns from C` +
      (jsNs === null ? '' : `, and a tigerio tick that makes it (epoll, a receive pending) ${jsNs.toFixed(0)} ns${overCText}`) +
      `; 256 cache lines scattered over 64 MiB cost ${coldNs.toFixed(0)} ns to read right after a kernel entry, ` +
      `${warmNs.toFixed(0)} ns with none between passes: ${((coldNs - warmNs) / 256).toFixed(1)} ns more per line that user space touches after each entry`,
  );
}

async function pingpongIdle(): Promise<void> {
  const common = ['--duration', String(D.pingpongMs), '--warmup', String(D.warmupMs)];
  const options = { timeoutMs: D.pingpongMs + 180_000, highFd: true };
  const idle = ['--idle', String(D.idleCount)];
  const label = `ping-pong + ${D.idleCount / 1000}k idle conns`;
  const netIdle = await nodeChild('pingpong.js', ['--impl', 'net', ...common, ...idle], options);
  for (const backend of backends) {
    const withIdle = await nodeChild('pingpong.js', ['--impl', 'tigerio', '--backend', backend, ...common, ...idle], options);
    const without = await nodeChild('pingpong.js', ['--impl', 'tigerio', '--backend', backend, ...common], options);
    const base = { benchmark: label, backend, tigerio: num(withIdle, 'roundTripsPerSecond'), unit: 'rt/s', higherIsBetter: true };
    addRow({ ...base, peer: 'tigerio, no idle', peerFigure: num(without, 'roundTripsPerSecond') });
    addRow({ ...base, peer: `node:net + ${D.idleCount / 1000}k idle`, peerFigure: num(netIdle, 'roundTripsPerSecond') });
  }
}

type BenchResult = Record<string, unknown> | null;

/**
 * Runs `script` once as the peer (`--impl peerImpl`), then once per tigerio
 * backend, each with `common`; `rows` adds the rows of one backend. Returns
 * the peer's result.
 */
async function againstPeer(
  script: string,
  peerImpl: string,
  common: string[],
  options: ChildOptions,
  rows: (backend: string, result: BenchResult, peer: BenchResult) => void,
): Promise<BenchResult> {
  const peer = await nodeChild(script, ['--impl', peerImpl, ...common], options);
  for (const backend of backends) {
    rows(backend, await nodeChild(script, ['--impl', 'tigerio', '--backend', backend, ...common], options), peer);
  }
  return peer;
}

async function timeouts(): Promise<void> {
  const common = ['--count', String(D.timeoutsCount), '--max-ms', '1000'];
  // Pinned with --pin, in interleaved rounds, as the ping-pongs are (this
  // VM's two vCPUs differ): unpinned, io_uring over epoll moved from 1.03x
  // to 1.24x between runs.
  const options = { timeoutMs: 120_000, cpu: SERVER_CPU };
  const label = `${D.timeoutsCount / 1e6}M timeouts 0-1000 ms`;
  const rounds: Record<string, BenchResult>[] = [];
  for (let round = 1; round <= D.timeoutsRounds; round++) {
    const results: Record<string, BenchResult> = {};
    results.settimeout = await nodeChild('timeouts.js', ['--impl', 'settimeout', ...common], options);
    for (const backend of backends) {
      results[backend] = await nodeChild('timeouts.js', ['--impl', 'tigerio', '--backend', backend, ...common], options);
    }
    rounds.push(results);
  }
  const figure = (name: string, field: string): number | null => median(rounds.map((r) => num(r[name], field)));
  for (const backend of backends) {
    for (const [what, field] of [['wall', 'wallSeconds'], ['CPU', 'cpuSeconds']] as const) {
      addRow({
        benchmark: `${label}, ${what}`, backend, tigerio: figure(backend, field), unit: 's',
        higherIsBetter: false, peer: 'setTimeout', peerFigure: figure('settimeout', field),
      });
    }
    // Round 3's target: a timer costs io_uring no more CPU than epoll.
    if (backend !== 'epoll' && backends.includes('epoll')) {
      addRow({
        benchmark: `${label}, CPU`, backend, tigerio: figure(backend, 'cpuSeconds'), unit: 's',
        higherIsBetter: false, peer: 'the same on epoll', peerFigure: figure('epoll', 'cpuSeconds'),
      });
    }
  }
  if (D.timeoutsRounds > 1 && backends.includes('epoll')) {
    for (const backend of backends.filter((b) => b !== 'epoll')) {
      const text = ratioRange(rounds.map((r) => [num(r[backend], 'cpuSeconds'), num(r.epoll, 'cpuSeconds')]));
      if (text !== null) note(`timeouts ${backend}: its CPU over epoll's, round by round: ${text}`);
    }
  }
}

async function idle(): Promise<void> {
  const common = ['--count', String(D.idleCount)];
  const options = { timeoutMs: 180_000, highFd: true, nodeFlags: ['--expose-gc'] };
  const peer = await nodeChild('idle.js', ['--impl', 'net', ...common], options);
  const label = `${D.idleCount / 1000}k idle conns`;
  for (const backend of backends) {
    // The caller's buffer (64 B each), then recvPooled on one shared pool: no buffer per connection.
    const own = await nodeChild('idle.js', ['--impl', 'tigerio', '--backend', backend, ...common], options);
    const pooled = await nodeChild('idle.js', ['--impl', 'tigerio', '--backend', backend, '--pooled', ...common], options);
    const base = { backend, unit: 'B', higherIsBetter: false, peer: 'node:net + data listener', peerFigure: num(peer, 'rssPerConnection') };
    addRow({ ...base, benchmark: `${label}, RSS/conn`, tigerio: num(own, 'rssPerConnection') });
    addRow({ ...base, benchmark: `${label}, recvPooled, RSS/conn`, tigerio: num(pooled, 'rssPerConnection') });
  }
}

/** Resident bytes of a process and its descendants (nginx's master and worker), from /proc. */
function treeRssBytes(pid: number): number {
  let total = 0;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  if (match) total += Number(match[1]) * 1024;
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    let children = '';
    try {
      children = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.trim().split(/\s+/).filter(Boolean)) total += treeRssBytes(Number(child));
  }
  return total;
}

/**
 * Memory per idle keep-alive connection of a whole HTTP server: the server
 * answers one `GET /` on each of idleCount connections (the clients live in
 * a helper process), which then stay open and idle; the figure is the
 * growth of the server's resident set (its process tree) divided by the count.
 */
async function serverIdle(): Promise<void> {
  if (process.platform !== 'linux') {
    note('server idle memory: /proc is Linux-only; skipped');
    return;
  }
  const count = D.idleCount;
  const { nginx } = ensureHttpTools();
  const bun = ensureBun(tmp, which, note);
  const held = ['--max-connections', String(count * 2), '--idle-timeout-ms', '600000'];
  const contenders: { name: string; start: () => Promise<Server> }[] = [];
  for (const backend of backends) contenders.push({ name: `tigerio ${backend}`, start: sampleServer(backend, 1, held) });
  contenders.push({ name: 'node:http', start: () => startServer('node', [path.join(HERE, 'http-peers.js'), '--kind', 'http'], portFromLine(LISTENING)) });
  if (nginx !== null) {
    contenders.push({
      name: 'nginx, 1 worker',
      start: nginxServer(nginx, 'nginx-idle-', (dir, port) =>
        nginxConfig(dir, port)
          .replace('events { worker_connections 4096; }', `worker_rlimit_nofile ${count * 2};\nevents { worker_connections ${count * 2}; }`)
          .replace('keepalive_requests 1000000;', 'keepalive_requests 1000000;\n  keepalive_timeout 600s;')),
    });
  }
  if (bun !== null) {
    contenders.push({ name: 'Bun.serve', start: () => startServer(bun, [path.join(SOURCE_DIR, 'bun-hello.mjs')], portFromLine(LISTENING)) });
  }
  const figures = new Map<string, number>();
  for (const contender of contenders) {
    let server: Server | null = null;
    let helper: ChildProcess | null = null;
    try {
      server = await contender.start();
      await sleep(500);
      const before = treeRssBytes(server.pid);
      const port = server.port;
      helper = spawn('node', [path.join(HERE, 'idle-clients.js'), '--port', String(port), '--count', String(count), '--http'], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.add(helper);
      const child = helper;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the idle clients did not get ready in 240 s')), 240_000);
        child.on('message', (message: { ready?: boolean; error?: string }) => {
          clearTimeout(timer);
          if (message.ready) resolve();
          else reject(new Error(message.error ?? 'the idle clients failed'));
        });
        child.on('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the idle clients exited with ${code}`));
        });
      });
      await sleep(1000); // the server settles; nothing runs in it
      const after = treeRssBytes(server.pid);
      figures.set(contender.name, (after - before) / count);
      raw.push({ benchmark: 'server-idle', contender: contender.name, count, rssBefore: before, rssAfter: after });
    } catch (error) {
      note(`server idle memory, ${contender.name}: ${(error as Error).message}`);
    } finally {
      if (helper !== null) {
        helper.removeAllListeners('exit');
        helper.kill();
        children.delete(helper);
      }
      if (server !== null) await server.stop();
    }
  }
  const label = `HTTP server, ${count / 1000}k idle keep-alive conns, RSS/conn`;
  for (const backend of backends) {
    const ours = figures.get(`tigerio ${backend}`);
    if (ours === undefined) continue;
    for (const peer of ['nginx, 1 worker', 'Bun.serve', 'node:http']) {
      const theirs = figures.get(peer);
      if (theirs === undefined) continue;
      addRow({ benchmark: label, backend, tigerio: ours, unit: 'B', higherIsBetter: false, peer, peerFigure: theirs });
    }
  }
}

/** 4 KiB write + fdatasync in a loop (test/bench/fsync.ts), against node:fs's callbacks. */
async function durableWrites(): Promise<void> {
  const common = ['--duration', String(D.fsyncMs)];
  const options = { timeoutMs: D.fsyncMs * 3 + 60_000 };
  const peer = await againstPeer('fsync.js', 'fs', common, options, (backend, result, fs) => {
    addRow({
      benchmark: `4 KiB write + fdatasync, ${D.fsyncMs / 1000} s`, backend, tigerio: num(result, 'pairsPerSecond'),
      unit: 'pairs/s', higherIsBetter: true, peer: 'node:fs write + fdatasync', peerFigure: num(fs, 'pairsPerSecond'),
    });
  });
  if (peer?.tmpfs === true) note(`fsync: ${String(peer.directory)} is tmpfs: fdatasync reaches no disk there`);
  // Does that loop stall the sockets? Ping-pong round-trip p99 on one IO,
  // alone and beside the loop (on the same IO, or on node:fs), interleaved.
  for (const backend of backends) {
    const result = await nodeChild('fsync.js', ['--mode', 'pingpong', '--backend', backend, '--duration', String(D.fsyncMs * 2)], options);
    const base = { benchmark: 'ping-pong p99 beside write + fdatasync loop', backend, tigerio: num(result, 'tigerioP99Us'), unit: 'us', higherIsBetter: false };
    addRow({ ...base, peer: 'tigerio ping-pong, no disk loop', peerFigure: num(result, 'noneP99Us') });
    addRow({ ...base, peer: 'disk loop on node:fs instead', peerFigure: num(result, 'fsP99Us') });
  }
}

async function overhead(): Promise<void> {
  const common = ['--duration', String(D.overheadMs), '--batch', '256'];
  const options = { timeoutMs: D.overheadMs * 4 + 30_000 };
  const jsloop = await nodeChild('overhead.js', ['--impl', 'jsloop', ...common], options);
  const immediate = await nodeChild('overhead.js', ['--impl', 'setimmediate', ...common], options);
  for (const backend of backends) {
    const result = await nodeChild('overhead.js', ['--impl', 'tigerio', '--backend', backend, ...common], options);
    const base = { benchmark: 'completion overhead, timeout(0) x256', backend, tigerio: num(result, 'nsPerOp'), unit: 'ns/op', higherIsBetter: false };
    addRow({ ...base, peer: 'JS loop calling a callback', peerFigure: num(jsloop, 'nsPerOp') });
    addRow({ ...base, peer: 'setImmediate x256', peerFigure: num(immediate, 'nsPerOp') });
    // Ping-pong's floor: each round trip is two ticks of two operations each.
    const pairs = await nodeChild('overhead.js', ['--impl', 'tigerio', '--backend', backend, '--duration', String(D.overheadMs), '--batch', '2'], options);
    const pairNs = num(pairs, 'nsPerOp');
    if (pairNs !== null) {
      const tickNs = 2 * pairNs;
      note(`overhead ${backend}: a tick with two timeout(0) costs ${tickNs.toFixed(0)} ns, no syscall in it; ping-pong makes two such ticks per round trip (${(2 * tickNs).toFixed(0)} ns)`);
    }
  }
}

// ---- HTTP -------------------------------------------------------------------------

function ensureHttpTools(): { wrk: string | null; nginx: string | null } {
  let wrk = which('wrk');
  let nginx = which('nginx');
  const missing = [wrk === null ? 'wrk' : null, nginx === null ? 'nginx' : null].filter((x) => x !== null) as string[];
  if (missing.length > 0) {
    if (which('apt-get') === null) {
      note(`${missing.join(' and ')} missing and no apt-get: those peers are skipped`);
    } else {
      note(`${missing.join(' and ')} missing: installing from Debian's packages (apt-get update; apt-get install -y ${missing.join(' ')})`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const update = spawnSync('apt-get', ['update'], { env, stdio: 'ignore', timeout: 300_000 });
      const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
        env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 600_000,
      });
      if (update.status !== 0 || install.status !== 0) {
        note(`apt-get failed (${install.stderr?.trim().split('\n').pop() ?? 'update failed'})`);
      } else {
        note(`installed ${missing.join(' and ')}`);
      }
      wrk = which('wrk');
      nginx = which('nginx');
    }
  }
  return { wrk, nginx };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

interface Server {
  port: number;
  /** The process started (taskset execs its command: the same one); its CPU time is the server's. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * With --pin on a machine with 2 or more CPUs, HTTP servers run pinned to the last CPU
 * and wrk to the first (taskset), so that every server gets the same one
 * core and the load generator never competes with it for it.
 */
const pin = args.pin === 'true' && os.cpus().length >= 2 && which('taskset') !== null;
const SERVER_CPU = String(os.cpus().length - 1);
const WRK_CPU = '0';

function pinned(cpu: string, command: string, argv: string[]): [string, string[]] {
  return pin ? ['taskset', ['-c', cpu, command, ...argv]] : [command, argv];
}

/** A `startServer` port finder: the number `pattern` captures in the server's stdout. */
function portFromLine(pattern: RegExp): (stdout: string) => number | null {
  return (stdout) => {
    const match = pattern.exec(stdout);
    return match ? Number(match[1]) : null;
  };
}

/** What node's helper servers (http-peers.js, sendfile-server.js, bun-hello.mjs) print once they accept. */
const LISTENING = /listening (\d+)/;

/** The sample server (dist/server/main.js) on `backend`, quiet, on a free port, with `flags` more. */
function sampleServer(backend: string, threads: number, flags: string[] = []): () => Promise<Server> {
  return () =>
    startServer('node', [path.join(ROOT, 'dist', 'server', 'main.js'), '--threads', String(threads), '--port', '0', '--backend', backend, '--quiet', ...flags],
      portFromLine(/listening on http:\/\/127\.0\.0\.1:(\d+)/));
}

/** nginx in a new directory under the temporary one (named from `prefix`), with the `config` written for the port it gets. */
function nginxServer(nginx: string, prefix: string, config: (dir: string, port: number) => string): () => Promise<Server> {
  const dir = fs.mkdtempSync(path.join(tmp, prefix));
  return async () => {
    const port = await freePort();
    fs.writeFileSync(path.join(dir, 'nginx.conf'), config(dir, port));
    return startServer(nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], port);
  };
}

/** Starts a server process; `portFrom` finds its port in its stdout (or it is known up front). */
function startServer(command: string, argv: string[], portFrom: ((stdout: string) => number | null) | number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const [file, fileArgs] = pinned(SERVER_CPU, command, argv);
    const child = spawn(file, fileArgs, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let done = false;
    const exited = new Promise<void>((r) => child.on('exit', () => {
      children.delete(child);
      r();
    }));
    const stop = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    };
    const give = (port: number): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ port, pid: child.pid!, stop });
    };
    const timer = setTimeout(() => {
      done = true;
      void stop();
      reject(new Error(`${command} did not start: ${stderr.trim().split('\n').slice(-2).join(' / ')}`));
    }, 20_000);
    child.stdout!.on('data', (data) => {
      stdout += data;
      if (typeof portFrom === 'function') {
        const port = portFrom(stdout);
        if (port !== null) give(port);
      }
    });
    child.stderr!.on('data', (data) => (stderr += data));
    child.on('exit', (code) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        reject(new Error(`${command} exited (${code}) before listening: ${stderr.trim().split('\n').slice(-2).join(' / ')}`));
      }
    });
    if (typeof portFrom === 'number') {
      const port = portFrom;
      const poll = async (): Promise<void> => {
        while (!done) {
          if (await canConnect(port)) return give(port);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      void poll();
    }
  });
}

/** The wrk Lua script that writes 16 requests per write (the pipelined rows). */
const PIPELINE_SCRIPT = path.join(SOURCE_DIR, 'pipeline.lua');
const PIPELINE_DEPTH = 16;

function runWrk(
  wrk: string, port: number, seconds: number, pipelined: boolean, connections = 100, urlPath = '/',
): Promise<{ requestsPerSecond: number | null; requests: number | null; wrkCpuSeconds: number | null; output: string }> {
  return new Promise((resolve) => {
    const script = pipelined ? ['-s', PIPELINE_SCRIPT] : [];
    const tail = pipelined ? ['--', String(PIPELINE_DEPTH)] : [];
    const [command, argv] = pinned(WRK_CPU, wrk, ['-t1', `-c${connections}`, `-d${seconds}s`, ...script, `http://127.0.0.1:${port}${urlPath}`, ...tail]);
    // wrk's own CPU time, read by the shell that waits for it (Linux).
    const [file, fileArgs] = withWaitedCpu(command, argv) ?? [command, argv];
    const child = spawn(file, fileArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    child.stdout!.on('data', (data) => (output += data));
    child.stderr!.on('data', (data) => (output += data));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.on('exit', () => {
      clearTimeout(timer);
      children.delete(child);
      const match = /Requests\/sec:\s+([\d.]+)/.exec(output);
      const count = /(\d+) requests in/.exec(output);
      const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: .*/.exec(output);
      if (errors) note(`wrk on port ${port}: ${errors[0]}`);
      resolve({
        requestsPerSecond: match ? Number(match[1]) : null,
        requests: count ? Number(count[1]) : null,
        wrkCpuSeconds: waitedCpuSeconds(output),
        output,
      });
    });
  });
}

/** What one HTTP measurement asks of wrk besides the server: a pipelined hello (16 per write), or a file. */
interface WrkLoad {
  pipelined: boolean;
  connections?: number;
  urlPath?: string;
  /** A figure made of error responses compares nothing: keep none then. */
  rejectErrors?: boolean;
}

/** One wrk measurement: its throughput, and the CPU each side spent per request (null where unknown). */
interface HttpFigure {
  requestsPerSecond: number | null;
  /** The server's user + system CPU per request, in microseconds, all its threads and processes. */
  serverCpuUs: number | null;
  /** wrk's own CPU per request: 1e6 / this is the most one wrk thread could ask of any server. */
  wrkCpuUs: number | null;
}

async function measureHttp(name: string, wrk: string, start: () => Promise<Server>, load: WrkLoad): Promise<HttpFigure> {
  const { pipelined, connections = 100, urlPath = '/', rejectErrors = false } = load;
  const none: HttpFigure = { requestsPerSecond: null, serverCpuUs: null, wrkCpuUs: null };
  let server: Server | null = null;
  try {
    server = await start();
    if (D.wrkWarmupSeconds > 0) await runWrk(wrk, server.port, D.wrkWarmupSeconds, pipelined, connections, urlPath);
    const cpuBefore = processTreeCpuSeconds(server.pid);
    const { requestsPerSecond, requests, wrkCpuSeconds, output } = await runWrk(wrk, server.port, D.wrkSeconds, pipelined, connections, urlPath);
    const cpuAfter = processTreeCpuSeconds(server.pid);
    const perRequestUs = (seconds: number | null): number | null =>
      seconds === null || requests === null || requests === 0 ? null : (seconds * 1e6) / requests;
    const figure: HttpFigure = {
      requestsPerSecond,
      serverCpuUs: perRequestUs(cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore),
      wrkCpuUs: perRequestUs(wrkCpuSeconds),
    };
    raw.push({ command: `wrk ${name}${pipelined ? ' (pipelined)' : ''}${urlPath === '/' ? '' : ` ${urlPath}`}`, ...figure, output });
    if (rejectErrors && /Non-2xx or 3xx responses|Socket errors/.test(output)) {
      note(`${name}: wrk saw errors, no figure kept`);
      return none;
    }
    if (requestsPerSecond === null) note(`${name}: wrk gave no figure: ${output.trim().split('\n').slice(-2).join(' / ')}`);
    return figure;
  } catch (error) {
    note(`${name}: ${(error as Error).message}`);
    return none;
  } finally {
    await server?.stop();
  }
}


function median(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const mid = known.length >> 1;
  return known.length % 2 === 1 ? known[mid] : (known[mid - 1] + known[mid]) / 2;
}

function nginxConfig(dir: string, port: number): string {
  return `# generated by tigerio's bench runner
worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    location / {
      default_type text/plain;
      return 200 "Hello, World!";
    }
  }
}
`;
}

interface Contender {
  /** Key for the figures: name + (pipelined). */
  name: string;
  pipelined: boolean;
  start: () => Promise<Server>;
}

async function http(): Promise<void> {
  const { wrk, nginx } = ensureHttpTools();
  if (wrk === null) {
    note('wrk unavailable: the HTTP benchmark is skipped');
    return;
  }
  const bun = ensureBun(tmp, which, note);
  if (pin) note(`HTTP: servers pinned to CPU ${SERVER_CPU}, wrk to CPU ${WRK_CPU} (taskset)`);
  const peerServer = (kind: string) => () =>
    startServer('node', [path.join(HERE, 'http-peers.js'), '--kind', kind], portFromLine(LISTENING));
  const contenders: Contender[] = [];
  const add = (name: string, start: () => Promise<Server>, pipelined = false): void => {
    contenders.push({ name, start, pipelined });
  };
  add('node:http', peerServer('http'));
  add('node:net raw', peerServer('raw'));
  if (nginx !== null) {
    const startNginx = nginxServer(nginx, 'nginx-', nginxConfig);
    add('nginx', startNginx);
    add('nginx', startNginx, true);
  }
  if (bun !== null) {
    const startBun = () => startServer(bun, [path.join(SOURCE_DIR, 'bun-hello.mjs')], portFromLine(LISTENING));
    add('Bun.serve', startBun);
    add('Bun.serve', startBun, true);
  }
  for (const backend of backends) {
    add(`tigerio ${backend}`, sampleServer(backend, 1));
    add(`tigerio ${backend}`, sampleServer(backend, 1), true);
    add(`tigerio raw ${backend}`, () =>
      startServer('node', [path.join(HERE, 'http-peers.js'), '--kind', 'tigerio-raw', '--backend', backend], portFromLine(LISTENING)));
  }
  // The floor under every io_uring server here: a C loop on liburing that
  // answers raw (test/bench/hello_uring.c), once with a receive per
  // request, as tigerio's server makes, once with one multishot receive per
  // connection over a provided-buffer ring.
  const helloUring = backends.includes('io_uring') ? compileC('hello_uring', ['-luring'], 'liburing not found: install liburing-dev') : null;
  if (helloUring !== null) {
    const helloPort = portFromLine(/hello_uring listening (\d+)/);
    add('C io_uring', () => startServer(helloUring, ['0', 'single'], helloPort));
    add('C io_uring multishot', () => startServer(helloUring, ['0', 'multishot'], helloPort));
  }
  // --threads 2 beside --threads 1 (unpinned only: pinning would put both threads on one CPU).
  const twoThreads = !pin && os.cpus().length >= 2;
  if (twoThreads) add(`tigerio ${backends[0]} 2 threads`, sampleServer(backends[0], 2));
  // Rounds interleaved (every server once per round), the median kept: a
  // disturbance from other load on the machine hits one server's figure
  // in one round, not one server's every figure.
  const figures = new Map<string, HttpFigure[]>();
  const key = (c: Contender): string => `${c.name}${c.pipelined ? ' pipelined' : ''}`;
  for (let round = 1; round <= D.httpRounds; round++) {
    if (D.httpRounds > 1) process.stdout.write(`bench: http round ${round} of ${D.httpRounds}\n`);
    for (const c of contenders) {
      const figure = await measureHttp(c.name, wrk, c.start, { pipelined: c.pipelined });
      figures.set(key(c), [...(figures.get(key(c)) ?? []), figure]);
    }
  }
  const fig = (name: string): number | null => median((figures.get(name) ?? []).map((f) => f.requestsPerSecond));
  const serverCpu = (name: string): number | null => median((figures.get(name) ?? []).map((f) => f.serverCpuUs));
  const wrkCpu = (name: string): number | null => median((figures.get(name) ?? []).map((f) => f.wrkCpuUs));
  if (D.httpRounds > 1) note(`HTTP: each figure is the median of ${D.httpRounds} interleaved rounds of wrk -t1 -c100 -d${D.wrkSeconds}s after a ${D.wrkWarmupSeconds} s warm-up`);
  // The headline: what each server spends per request (user + system, all
  // its threads), whatever wrk could ask of it. With wrk and the server on
  // two CPUs, wrk bounds req/s (every server reaches about the same), so
  // req/s measures wrk; the CPU a request costs is the server's own figure.
  for (const backend of backends) {
    const base = {
      benchmark: 'HTTP hello, server CPU per request (user + system)', backend, tigerio: serverCpu(`tigerio ${backend}`),
      unit: 'us/req', higherIsBetter: false,
    };
    if (base.tigerio === null) continue;
    if (nginx !== null) addRow({ ...base, peer: 'nginx, 1 worker', peerFigure: serverCpu('nginx') });
    if (bun !== null) addRow({ ...base, peer: 'Bun.serve', peerFigure: serverCpu('Bun.serve') });
    addRow({ ...base, peer: 'node:http', peerFigure: serverCpu('node:http') });
    if (backend === 'io_uring' && helloUring !== null) {
      addRow({ ...base, peer: 'C io_uring loop answering raw (liburing)', peerFigure: serverCpu('C io_uring') });
    }
  }
  const single = serverCpu('C io_uring');
  const multi = serverCpu('C io_uring multishot');
  const nginxCpu = serverCpu('nginx');
  if (single !== null && multi !== null && nginxCpu !== null) {
    // The floor itself against nginx, and what a multishot receive saves it.
    note(`HTTP hello: the C io_uring loop answering raw costs ${single.toFixed(2)} us per request (${(single / nginxCpu).toFixed(2)}x nginx's ${nginxCpu.toFixed(2)}), ${multi.toFixed(2)} us (${(multi / nginxCpu).toFixed(2)}x) with a multishot receive`);
  }
  for (const backend of backends) {
    const base = { benchmark: 'HTTP hello, wrk -t1 -c100, 1 thread', backend, tigerio: fig(`tigerio ${backend}`), unit: 'req/s', higherIsBetter: true };
    addRow({ ...base, peer: 'node:http', peerFigure: fig('node:http') });
    addRow({ ...base, peer: 'node:net answering raw', peerFigure: fig('node:net raw') });
    if (nginx !== null) addRow({ ...base, peer: 'nginx, 1 worker', peerFigure: fig('nginx') });
    if (bun !== null) addRow({ ...base, peer: 'Bun.serve', peerFigure: fig('Bun.serve') });
  }
  const wrkNotes = contenders.flatMap((c) => {
    const cpuUs = c.pipelined ? null : wrkCpu(key(c));
    const reached = fig(key(c));
    if (cpuUs === null || reached === null) return [];
    const ceiling = Math.round(1e6 / cpuUs).toLocaleString('en-US');
    return [`${c.name} ${cpuUs.toFixed(2)} us (ceiling ${ceiling} req/s, reached ${Math.round(reached).toLocaleString('en-US')})`];
  });
  if (wrkNotes.length > 0) note(`HTTP hello: wrk's own CPU per request, and the most one wrk thread could ask at that cost: ${wrkNotes.join('; ')}`);
  for (const backend of backends) {
    const base = {
      benchmark: `HTTP hello pipelined, ${PIPELINE_DEPTH} requests per write (wrk + pipeline.lua), 1 thread`,
      backend, tigerio: fig(`tigerio ${backend} pipelined`), unit: 'req/s', higherIsBetter: true,
    };
    if (nginx !== null) addRow({ ...base, peer: 'nginx, 1 worker', peerFigure: fig('nginx pipelined') });
    if (bun !== null) addRow({ ...base, peer: 'Bun.serve', peerFigure: fig('Bun.serve pipelined') });
  }
  // The I/O layer alone: tigerio answering raw, as the node:net raw peer does (no parser, no timers).
  for (const backend of backends) {
    addRow({
      benchmark: 'HTTP hello answered raw (no parser)', backend, tigerio: fig(`tigerio raw ${backend}`), unit: 'req/s', higherIsBetter: true,
      peer: 'node:net answering raw', peerFigure: fig('node:net raw'),
    });
  }
  if (twoThreads) {
    addRow({
      benchmark: 'HTTP hello, sample server --threads 2 (wrk shares the CPUs)', backend: backends[0],
      tigerio: fig(`tigerio ${backends[0]} 2 threads`), unit: 'req/s', higherIsBetter: true,
      peer: 'the same, --threads 1', peerFigure: fig(`tigerio ${backends[0]}`),
    });
  }
}

// ---- Datagrams, Unix sockets, sendfile ---------------------------------------------

async function udp(): Promise<void> {
  const common = ['--duration', String(D.pingpongMs), '--warmup', String(D.warmupMs), '--window', '64'];
  const options = { timeoutMs: D.pingpongMs + 30_000 };
  await againstPeer('udp.js', 'dgram', common, options, (backend, result, peer) => {
    addRow({
      benchmark: 'UDP 64 B datagrams, one process, windows of 64', backend, tigerio: num(result, 'datagramsPerSecond'),
      unit: 'dgram/s', higherIsBetter: true, peer: 'node:dgram', peerFigure: num(peer, 'datagramsPerSecond'),
    });
  });
  // Whether a batched receive would pay here: C alone, no tigerio (native/README.md, "Batching of datagrams").
  const binary = process.platform === 'linux' ? compileC('recvmmsg') : null;
  if (binary !== null) {
    const batches = await runChild([binary, String(D.pingpongMs), '32'], options);
    if (batches !== null) {
      note(
        `UDP receive in C, 32 datagrams queued: recvfrom ${num(batches, 'recvfromNsPerDatagram')} ns per datagram, ` +
          `recvmmsg ${num(batches, 'recvmmsgNsPerDatagram')} ns (the batched call is what it would save)`,
      );
    }
  }
}

// Connection churn: each server accepts and closes at once, a C client
// connects from 4 threads (accept-loop.ts); the figure is the server's CPU
// per connection, the median of interleaved rounds.
async function acceptLoop(): Promise<void> {
  const client = process.platform === 'win32' ? null : compileC('accept_client');
  if (client === null) return;
  const common = ['--duration', String(D.acceptMs), '--warmup', String(D.warmupMs), '--client', client, '--clients', '4'];
  const options = { timeoutMs: D.acceptMs + 30_000 };
  const rounds: Record<string, BenchResult>[] = [];
  for (let round = 1; round <= D.acceptRounds; round++) {
    const results: Record<string, BenchResult> = { net: await nodeChild('accept-loop.js', ['--impl', 'net', ...common], options) };
    for (const backend of backends) {
      results[backend] = await nodeChild('accept-loop.js', ['--impl', 'tigerio', '--backend', backend, ...common], options);
    }
    rounds.push(results);
  }
  const figure = (name: string): number | null => median(rounds.map((r) => num(r[name], 'cpuUsPerConnection')));
  for (const backend of backends) {
    addRow({
      benchmark: 'accept + close loop, C client (4 threads): server CPU per connection', backend, tigerio: figure(backend),
      unit: 'us/conn', higherIsBetter: false, peer: 'node:net', peerFigure: figure('net'),
    });
  }
}

async function unixPingpong(): Promise<void> {
  const common = ['--duration', String(D.pingpongMs), '--warmup', String(D.warmupMs), '--unix'];
  const options = { timeoutMs: D.pingpongMs + 30_000 };
  await againstPeer('pingpong.js', 'net', common, options, (backend, result, peer) => {
    addRow({
      benchmark: 'ping-pong 64 B over a Unix socket', backend, tigerio: num(result, 'roundTripsPerSecond'),
      unit: 'rt/s', higherIsBetter: true, peer: 'node:net over a Unix socket', peerFigure: num(peer, 'roundTripsPerSecond'),
    });
  });
}

const STATIC_FILE_BYTES = 8 << 20;
const STATIC_CONNECTIONS = 8;

function nginxStaticConfig(dir: string, root: string, port: number): string {
  return nginxConfig(dir, port).replace(
    /location \/ \{[^}]*\}/,
    `location / {\n      root ${root};\n    }`,
  ).replace('access_log off;', 'access_log off;\n  sendfile on;\n  tcp_nopush on;');
}

async function sendfile(): Promise<void> {
  const { wrk, nginx } = ensureHttpTools();
  if (wrk === null) {
    note('wrk unavailable: the sendfile benchmark is skipped');
    return;
  }
  const root = fs.mkdtempSync(path.join(tmp, 'static-'));
  const file = path.join(root, 'file.bin');
  fs.writeFileSync(file, Buffer.alloc(STATIC_FILE_BYTES, 0x5a));
  // nginx's workers run as another user (nobody) when the runner is root:
  // the file and the directories above it must be readable to them.
  fs.chmodSync(tmp, 0o755);
  fs.chmodSync(root, 0o755);
  fs.chmodSync(file, 0o644);
  const fileLoad: WrkLoad = { pipelined: false, connections: STATIC_CONNECTIONS, urlPath: '/file.bin', rejectErrors: true };
  const contenders: { name: string; start: () => Promise<Server> }[] = [];
  if (nginx !== null) {
    contenders.push({ name: 'nginx', start: nginxServer(nginx, 'nginx-static-', (dir, port) => nginxStaticConfig(dir, root, port)) });
  }
  const sendFileServer = (backend: string, cork: boolean) => () =>
    startServer('node', [path.join(HERE, 'sendfile-server.js'), '--backend', backend, '--file', file, '--cork', String(cork)], portFromLine(LISTENING));
  for (const backend of backends) {
    contenders.push({ name: `sendFile ${backend}`, start: sendFileServer(backend, true) });
    // The sample server (--root, 1 thread): the same file through its parser, root checks, validators and sendFile.
    contenders.push({ name: `sample ${backend}`, start: sampleServer(backend, 1, ['--root', root]) });
    // What the cork is worth: the same server never corked.
    contenders.push({ name: `sendFile ${backend} uncorked`, start: sendFileServer(backend, false) });
  }
  // Rounds interleaved, as for hello: a disturbance from other load hits
  // one server in one round, not one server in every round.
  const figures = new Map<string, HttpFigure[]>();
  for (let round = 1; round <= D.httpRounds; round++) {
    if (D.httpRounds > 1) process.stdout.write(`bench: sendfile round ${round} of ${D.httpRounds}\n`);
    for (const c of contenders) {
      const figure = await measureHttp(`static ${c.name}`, wrk, c.start, fileLoad);
      figures.set(c.name, [...(figures.get(c.name) ?? []), figure]);
    }
  }
  const fig = (name: string): number | null => median((figures.get(name) ?? []).map((f) => f.requestsPerSecond));
  const cpu = (name: string): number | null => median((figures.get(name) ?? []).map((f) => f.serverCpuUs));
  const each = (name: string): string =>
    (figures.get(name) ?? []).map((f) => (f.requestsPerSecond === null ? 'n/a' : f.requestsPerSecond.toFixed(0))).join(', ');
  if (D.httpRounds > 1) note(`static file: each figure is the median of ${D.httpRounds} interleaved rounds of wrk -t1 -c${STATIC_CONNECTIONS} -d${D.wrkSeconds}s`);
  note(`static file rounds, req/s: ${contenders.map((c) => `${c.name} ${each(c.name)}`).join('; ')}`);
  const peer = { unit: 'req/s', higherIsBetter: true, peer: 'nginx, 1 worker, sendfile on, tcp_nopush on', peerFigure: fig('nginx') };
  for (const backend of backends) {
    addRow({ benchmark: `HTTP 8 MiB static file, wrk -t1 -c${STATIC_CONNECTIONS}, io.sendFile server, corked`, backend, tigerio: fig(`sendFile ${backend}`), ...peer });
    addRow({ benchmark: `HTTP 8 MiB static file, wrk -t1 -c${STATIC_CONNECTIONS}, sample server --root, 1 thread`, backend, tigerio: fig(`sample ${backend}`), ...peer });
    addRow({
      benchmark: `HTTP 8 MiB static file, io.sendFile server, corked`, backend, tigerio: fig(`sendFile ${backend}`), unit: 'req/s',
      higherIsBetter: true, peer: 'the same, never corked', peerFigure: fig(`sendFile ${backend} uncorked`),
    });
  }
  // The CPU each server spent per 8 MiB response (user + system, all its threads).
  for (const backend of backends) {
    for (const [what, name] of [['io.sendFile server', `sendFile ${backend}`], ['sample server', `sample ${backend}`]]) {
      if (cpu(name) === null) continue;
      addRow({
        benchmark: `HTTP 8 MiB static file, server CPU per response, ${what}`, backend, tigerio: cpu(name), unit: 'us/req',
        higherIsBetter: false, peer: 'nginx, 1 worker, sendfile on, tcp_nopush on', peerFigure: cpu('nginx'),
      });
    }
  }
}

// ---- Table ------------------------------------------------------------------------

function formatRow(row: Row): string[] {
  return [
    row.benchmark,
    row.backend,
    formatFigure(row.tigerio, row.unit),
    row.peer,
    formatFigure(row.peerFigure, row.unit),
    row.ratio === null ? 'n/a' : `${row.ratio.toFixed(2)}x`,
  ];
}

function printTable(): string {
  const header = ['benchmark', 'backend', 'tigerio', 'peer', 'peer figure', 'ratio (>1: tigerio ahead)'];
  const body = rows.map(formatRow);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n') + '\n';
}

function machine(): Record<string, unknown> {
  let debian = '';
  try {
    debian = fs.readFileSync('/etc/debian_version', 'utf8').trim();
  } catch {
    /* not Debian */
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    platform: os.platform(),
    debian,
    node: process.version,
  };
}

function cleanup(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  fs.rmSync(tmp, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = os.loadavg();
  process.stdout.write(
    `tigerio bench${quick ? ' (--quick: smoke run, figures not meaningful)' : ''}: ${only.join(', ')} on ${backends.join(', ')}; ` +
      `${os.cpus().length} CPUs, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}\n`,
  );
  if (loadBefore[0] > 0.5) note(`the machine is not quiet (1-minute load ${loadBefore[0].toFixed(2)}): figures may be disturbed`);
  const table: Record<BenchmarkName, () => Promise<void>> = {
    pingpong,
    http,
    timeouts,
    idle,
    'server-idle': serverIdle,
    'pingpong-idle': pingpongIdle,
    overhead,
    fsync: durableWrites,
    simulation: () => simulationRow(nodeChild, addRow, quick ? 300 : 2000),
    udp,
    'unix-pingpong': unixPingpong,
    sendfile,
    accept: acceptLoop,
  };
  for (const name of BENCHMARKS) {
    if (!only.includes(name)) continue;
    process.stdout.write(`bench: ${name}...\n`);
    await table[name]();
  }
  const text = printTable();
  process.stdout.write('\n' + text);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  if (args.results) {
    fs.mkdirSync(args.results, { recursive: true });
    const stamp = started.toISOString().replace(/[:.]/g, '-');
    const file = path.join(args.results, `bench-${stamp}.json`);
    fs.writeFileSync(file, JSON.stringify({
      started: started.toISOString(),
      finished: new Date().toISOString(),
      quick,
      machine: machine(),
      loadBefore,
      loadAfter: os.loadavg(),
      rows,
      notes,
      raw,
    }, null, 2) + '\n');
    process.stdout.write(`bench: results written to ${file}\n`);
    process.stdout.write(`bench: chart written to ${writeChart(file)}\n`);
  }
}

process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}
main().catch((error) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
