// A simulated world for testing code built on tigerio (TigerBeetle's way:
// run the real program against a simulated clock, network and disk, with
// faults drawn from one seed, and replay any failure by its seed). Every IO
// made by `sim.io()` shares the world: its network (connections between
// them), its files, and its virtual clock, which moves only when nothing is
// runnable, so a one-hour timeout completes in microseconds of wall time.
import { ABANDONED_OPERATIONS, FLUSH_SUBMISSIONS, IO } from './io';
import { SIMULATE_SIGNAL, checkSignal } from './signals';
import type { IOOptions } from './types';
import type { NativeWorld } from './native';
import { checkInteger, checkObject, describe } from './validate';
import { createWorld, FAULT_FIELDS, WORLD } from './world';

/**
 * Faults a {@link Simulation} injects, each drawn from its seed. Every one
 * is off (0) by default. Probabilities are in [0, 1]; durations are integer
 * nanoseconds. No fault breaks TCP's guarantees: bytes inside a connection
 * are never reordered, duplicated or lost; a connection can only end
 * (reset), as a real kernel can make it. UDP keeps only UDP's promises:
 * each datagram takes its own delay (datagrams reorder when the delay is
 * random), a partition loses the datagrams that cross it, a clog holds
 * them, and the datagram faults lose or repeat them. Unix sockets cross
 * no network: delays, partitions, clogs and resets leave them alone.
 */
export interface SimulationFaults {
  /**
   * Network: the least one-way delay of each segment, connect and datagram
   * (a connection's segments still arrive in order; datagrams each on their own).
   */
  networkDelayMinNs?: number;
  /** Network: the mean of the exponential delay added to the minimum. */
  networkDelayMeanNs?: number;
  /** A send takes only a random prefix of what fits (a partial send). */
  partialSendProbability?: number;
  /** A recv returns only a random prefix of what has arrived (a short read). */
  shortRecvProbability?: number;
  /** Per send: the connection is reset; both ends see `ECONNRESET`. */
  resetProbability?: number;
  /** A connect is refused (`ECONNREFUSED`) though something listens. */
  connectRefusedProbability?: number;
  /** Mean of an extra exponential delay of every connect (slow handshakes). */
  connectDelayMeanNs?: number;
  /** An accept fails with `EMFILE`; the connection stays queued for the next. */
  acceptEmfileProbability?: number;
  /**
   * Per segment between two IOs: the IOs split into two groups that cannot
   * reach each other, until it heals. Segments wait (as TCP retransmits);
   * datagrams sent across it are lost.
   */
  partitionProbability?: number;
  /** Shortest partition. */
  partitionMinNs?: number;
  /** Longest partition. */
  partitionMaxNs?: number;
  /** Per segment between two IOs: that one-way link stops delivering for a while (clogging); its segments and datagrams wait. */
  clogProbability?: number;
  /** Mean of a clog's exponential duration. */
  clogMeanNs?: number;
  /** Disk: the least latency of each open, read and write (a cancel before it completes undoes the operation). */
  diskLatencyMinNs?: number;
  /** Disk: the mean of the exponential latency added to the minimum. */
  diskLatencyMeanNs?: number;
  /** A read fails with `EIO`. */
  readErrorProbability?: number;
  /** A write fails with `EIO` (and writes nothing). */
  writeErrorProbability?: number;
  /**
   * At `sim.crash(io)`: per 512-byte sector written since its file's last
   * sync point (a successful `fsync`/`fdatasync`, or the close of an fd that
   * wrote to it), the probability that the new bytes are lost, so writes
   * are torn at sector boundaries. What was written before a sync point
   * survives any crash.
   */
  crashLostSectorProbability?: number;
  /** An `fsync`/`fdatasync`, or the close of a file that was written (its last sync point), fails with `EIO`; its writes stay un-synced. */
  syncErrorProbability?: number;
  /** A timer fires late (never early): the clock passes its deadline by an extra exponential delay. */
  timerLateProbability?: number;
  /** Mean of a late timer's extra delay. */
  timerLateMeanNs?: number;
  /** Per UDP datagram sent: the network loses it (the sender still sees it sent, whole). */
  datagramLossProbability?: number;
  /** Per UDP datagram sent: it arrives twice, each copy with its own delay. */
  datagramDuplicateProbability?: number;
  /**
   * At `sim.crash(io)`: per change to the file namespace (a file created, a
   * rename, an unlink, a mkdir) made by that IO whose directory was not
   * synced since (`fsync` of an fd from `openDirectory`), taken in order:
   * the probability that it is rolled back, and with it every later one (a
   * file system's journal keeps a prefix of its changes). A synced change
   * always survives.
   */
  crashLostNameProbability?: number;
  /**
   * Per cancel request of an operation waiting on a socket (a `cancel`, or
   * the cancel a `close` or `deinit` makes, and each time the IO asks again,
   * every 100 ms of virtual time): the world loses it, as Wine 8 loses a
   * `CancelIoEx`. The operation waits on; a later request is heard, or the
   * operation ends on its own first (its data came: it completes with its
   * own result). An operation waiting for the disk, or on a socket another
   * IO closed, always hears its cancel.
   */
  cancelLostProbability?: number;
  /**
   * Per operation waiting on a socket, at its first cancel request: the
   * world ignores every cancel of it, a kernel that never answers. After
   * 50 requests (about 5 s of virtual time) the IO gives up: the operation
   * completes with `ECANCELED`, once, its error's `abandoned` true, and the
   * `close` or `deinit` goes on. The world still holds it and answers it
   * later, as a kernel would: when its data or connection comes (a `recv`
   * writes those bytes into its buffer, which the IO keeps: they are lost
   * to the program; a `recvPooled` takes no buffer and leaves the bytes for
   * the next receive), when the connection ends, when its socket is closed,
   * or when its IO ends. Until then its memory is out of reuse
   * ({@link Simulation.abandonedOperations}, {@link Simulation.cancelsIgnored}).
   */
  cancelIgnoredProbability?: number;
}

/** Options of {@link Simulation}. */
export interface SimulationOptions {
  /** The seed every fault and every random choice of the world is drawn from: an integer, 0..2^53-1. Default 0. */
  seed?: number;
  /** The faults to inject; all off by default. */
  faults?: SimulationFaults;
}

/** Options of {@link Simulation.io}: those of an IO, less the backend and seed (the simulation's). */
export type SimulationIOOptions = Omit<IOOptions, 'backend' | 'seed'>;

const RATES: (keyof SimulationFaults)[] = [
  'partialSendProbability', 'shortRecvProbability', 'resetProbability', 'connectRefusedProbability',
  'acceptEmfileProbability', 'partitionProbability', 'clogProbability', 'readErrorProbability',
  'writeErrorProbability', 'crashLostSectorProbability', 'syncErrorProbability', 'timerLateProbability',
  'datagramLossProbability', 'datagramDuplicateProbability', 'crashLostNameProbability', 'cancelLostProbability',
  'cancelIgnoredProbability',
];
const DURATIONS: (keyof SimulationFaults)[] = [
  'networkDelayMinNs', 'networkDelayMeanNs', 'connectDelayMeanNs', 'partitionMinNs', 'partitionMaxNs',
  'clogMeanNs', 'diskLatencyMinNs', 'diskLatencyMeanNs', 'timerLateMeanNs',
];
const PARTS_PER_MILLION = 1_000_000;
const DURATION_NS_MAX = Number.MAX_SAFE_INTEGER;

/**
 * A deterministic simulated world: the same seed and the same program give
 * the same callbacks, results and bytes, and the same {@link trace}, on
 * every OS.
 *
 * @example
 * ```ts
 * const sim = new Simulation({ seed: 42, faults: { networkDelayMeanNs: 1_000_000 } });
 * const server = sim.io();
 * const client = sim.io();
 * // ... listen on `server`, connect from `client` ...
 * sim.run();
 * console.log(sim.trace); // replay with the same seed: the same hash
 * ```
 */
export class Simulation {
  /** The seed this world draws from. */
  readonly seed: number;
  private readonly world: NativeWorld;
  private readonly ios: IO[] = [];
  private readonly nodes = new Map<IO, number>();

  constructor(options?: SimulationOptions) {
    const opts = checkObject('options', options);
    this.seed = opts.seed === undefined ? 0 : checkInteger('options.seed', opts.seed, 0, Number.MAX_SAFE_INTEGER);
    this.world = createWorld(this.seed, encodeFaults(checkObject('options.faults', opts.faults)));
  }

  /** A new IO on this world (an IO's `backend` is `'simulation'`). At most 64 over the world's life. */
  io(options?: SimulationIOOptions): IO {
    const opts = checkObject('options', options);
    const node = this.world.nodeCount();
    const io = new IO({ ...opts, backend: 'simulation', [WORLD]: this.world } as IOOptions);
    if (this.world.nodeCount() !== node + 1) throw new Error('tigerio: the IO did not join the simulation');
    this.ios.push(io);
    this.nodes.set(io, node);
    return io;
  }

  /** The virtual clock, in nanoseconds since the world began. */
  get nowNs(): number {
    return this.world.nowNs();
  }

  /**
   * A hash (16 hex digits) of everything that has happened in the world, in
   * order: every operation issued and completed with its result, the bytes
   * received and read, connections, closes, faults and the clock's moves.
   * Equal seeds and programs give equal traces.
   */
  get trace(): string {
    return this.world.trace();
  }

  /** How many events the trace has folded in. */
  get traceEvents(): number {
    return this.world.traceEvents();
  }

  /** fds open in the world (sockets and files of all its IOs): a leak check for tests. */
  get openFds(): number {
    return this.world.openFds();
  }

  /**
   * Operations the world holds while ignoring their cancels
   * (`cancelIgnoredProbability`) and has not answered yet: abandoned ones,
   * and those whose IO is still asking. 0 once every one has ended (its data
   * came, its connection ended, its socket was closed, or its IO ended).
   */
  get cancelsIgnored(): number {
    return this.world.cancelsIgnored();
  }

  /**
   * Operations of this world's live IOs that completed abandoned (their
   * cancel was never answered: `ECANCELED` with `abandoned` true) and whose
   * late answer has not come yet: their native memory is kept out of reuse
   * until it does. A leak check for tests: 0 once every late answer came.
   */
  get abandonedOperations(): number {
    let count = 0;
    for (const io of this.ios) count += io[ABANDONED_OPERATIONS]();
    return count;
  }

  /**
   * True if `path` names a file or a Unix socket in the world's file
   * namespace (which `open` and `listenUnix` share, as on POSIX): what
   * `fs.existsSync` is on a real machine.
   */
  exists(path: string): boolean {
    if (typeof path !== 'string') throw new TypeError(`tigerio: path must be a string, got ${describe(path)}`);
    return this.world.exists(path);
  }

  /**
   * Removes `path` from the world's file namespace, as `fs.unlinkSync`
   * would on a real machine (a stale Unix socket file, a test's file); fds
   * open on the file keep it. False if nothing was there.
   */
  unlink(path: string): boolean {
    if (typeof path !== 'string') throw new TypeError(`tigerio: path must be a string, got ${describe(path)}`);
    return this.world.unlink(path);
  }

  /** Operations pending on all of this world's IOs. */
  get pending(): number {
    let pending = 0;
    for (const io of this.ios) pending += io.pending;
    return pending;
  }

  /**
   * Runs every IO of the world until none has an operation pending (true),
   * or until nothing more can happen (false: what is pending waits for
   * something no one will do, such as an accept no client connects to).
   * Never waits in wall time: the clock jumps to the next event.
   */
  run(): boolean {
    for (;;) {
      if (!this.tickAll()) return true;
      this.flushAll();
      if (!this.world.step(-1)) return this.pending === 0;
    }
  }

  /**
   * Runs every IO of the world for `nanoseconds` of virtual time; the clock
   * then stands that much later. Each round of callbacks that leaves the
   * clock where it was moves it 1 ns, so a chain of work due at once (a
   * `timeout(0)` that submits the next) cannot hold it still.
   */
  runForNs(nanoseconds: number): void {
    checkInteger('nanoseconds', nanoseconds, 0, DURATION_NS_MAX);
    const limit = this.world.nowNs() + nanoseconds;
    checkInteger('the end of runForNs', limit, 0, DURATION_NS_MAX);
    // Each round's start, which endRound returns for the next: one crossing a round.
    let now = this.world.nowNs();
    for (;;) {
      this.tickAll();
      this.flushAll();
      if (!this.world.step(limit)) return;
      // A round costs at least 1 ns of virtual time, else a chain of work due at once never reaches the limit.
      now = this.world.endRound(now, limit);
      if (now < 0) return; // the clock stands at the limit
    }
  }

  /**
   * Moves the virtual clock forward by `nanoseconds` without running any
   * callback, as if the program computed for that long: what is due
   * meanwhile happens in the world (bytes arrive, timers expire), and the
   * callbacks come at the next tick.
   */
  advanceNs(nanoseconds: number): void {
    checkInteger('nanoseconds', nanoseconds, 0, DURATION_NS_MAX);
    const limit = this.world.nowNs() + nanoseconds;
    checkInteger('the end of advanceNs', limit, 0, DURATION_NS_MAX);
    this.flushAll();
    this.world.runUntil(limit);
  }

  /**
   * The machine of `io` crashes: its connections are reset (peers see
   * `ECONNRESET`), writes to files since their last sync point may be lost
   * or torn (`crashLostSectorProbability`), and the IO is deinitialized
   * (its pending callbacks complete with `ECANCELED` inside this call, as
   * `deinit()` does). Make a new IO with `sim.io()` to "reboot".
   */
  crash(io: IO): void {
    const node = this.nodes.get(io);
    if (node === undefined) throw new TypeError(`tigerio: crash() takes an IO of this simulation, got ${describe(io)}`);
    this.world.crash(node);
    io.deinit();
  }

  /**
   * `io`'s process receives `signal` (`'SIGTERM'`, ...), as a real one
   * sent by `kill`: its pending `io.signal(signal)` waits complete at its
   * next tick (an arrival with no wait pending is remembered for the next
   * wait, as on a real kernel). A simulated IO hears only these, never the
   * process's own signals, so a graceful shutdown is tested
   * deterministically: the same program and seed, the same trace.
   * @throws TypeError, RangeError as `io.signal` does.
   */
  signal(io: IO, signal: string): void {
    if (!this.nodes.has(io)) throw new TypeError(`tigerio: signal() takes an IO of this simulation, got ${describe(io)}`);
    const number = checkSignal(signal);
    this.flushAll();
    io[SIMULATE_SIGNAL](number);
  }

  /** What the IOs' callbacks and the program submitted reaches the world (io.ts submission queue). */
  private flushAll(): void {
    for (const io of this.ios) io[FLUSH_SUBMISSIONS]();
  }

  /** One tick of every IO with work; false if none had any. */
  private tickAll(): boolean {
    let busy = false;
    for (const io of this.ios) {
      if (io.pending === 0) continue;
      busy = true;
      io.tick();
    }
    return busy;
  }
}

function encodeFaults(faults: Record<string, unknown>): Float64Array {
  for (const key of Object.keys(faults)) {
    if (!RATES.includes(key as keyof SimulationFaults) && !DURATIONS.includes(key as keyof SimulationFaults)) {
      throw new TypeError(`tigerio: unknown fault '${key}'; the faults are SimulationFaults' fields: ${[...RATES, ...DURATIONS].join(', ')}`);
    }
  }
  const values = new Float64Array(FAULT_FIELDS);
  let index = 0;
  for (const key of RATES) {
    const value = faults[key] ?? 0;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw new RangeError(`tigerio: faults.${key} must be a probability in [0, 1], got ${describe(value)}`);
    }
    values[index++] = Math.round(value * PARTS_PER_MILLION);
  }
  for (const key of DURATIONS) {
    values[index++] = checkInteger(`faults.${key}`, faults[key] ?? 0, 0, DURATION_NS_MAX);
  }
  const partitionMin = values[RATES.length + DURATIONS.indexOf('partitionMinNs')];
  const partitionMax = values[RATES.length + DURATIONS.indexOf('partitionMaxNs')];
  if (partitionMax < partitionMin) throw new RangeError(`tigerio: faults.partitionMaxNs (${partitionMax}) must be at least partitionMinNs (${partitionMin})`);
  return values;
}
