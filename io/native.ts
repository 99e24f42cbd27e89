// The compiled addon, loaded once per process (and once per worker thread:
// the addon is context-aware). Internal: the public API is io/index.ts.
import * as path from 'node:path';
import { loadNativeAddon } from './load';

/** The native IO object (native/addon.cc). Every method checks its own arguments too. */
export interface NativeIO {
  readonly backend: string;
  // Submissions are records in the submission queue (layout.h); these start
  // the first `count` of them.
  flush(count: number): void;
  /** The backend's clock now, in ns. */
  clock(): number;
  /** An id for the ArrayBuffer's memory, which submissions then name by number. */
  registerBuffer(buffer: ArrayBuffer): number;
  /** The ArrayBuffer of `id` was collected. */
  unregisterBuffer(id: number): void;
  /** Cancels the operation in `slot` (io/ checked its id's generation). */
  cancel(slot: number): boolean;
  // Driving: starts `count` queued submissions, then fills the completions
  // array; how many pairs it wrote is then in state[stateHarvested].
  /** Starts `count` queued records, harvests completions, waiting up to timeoutNs (-1: no limit). */
  poll(timeoutNs: number, count: number): void;
  /** poll() waiting until deadlineNs on clock()'s clock; a deadline passed harvests nothing and leaves -1. */
  pollUntil(deadlineNs: number, count: number): void;
  attach(dispatch: () => void): void;
  detach(): void;
  cancelAll(): void;
  destroy(): void;
  // Synchronous helpers.
  listen(host: string, port: number, backlog: number, reusePort: boolean): number;
  socket(ipv6: boolean): number;
  localAddress(fd: number): [string, number, number];
  remoteAddress(fd: number): [string, number, number];
  /** how: 1 send, 2 receive, 3 both. Returns 0 or a negative errno. */
  shutdown(fd: number, how: number): number;
  /** Returns 0 or a negative errno. */
  setCork(fd: number, on: boolean): number;
  eventOpen(): number;
  eventClose(handle: number): void;
  // Datagram and Unix-socket synchronous helpers: an fd (or 0), or a negative errno.
  udpSocket(ipv6: boolean): number;
  bind(fd: number, host: string, port: number): number;
  listenUnix(path: string, backlog: number): number;
  unixSocket(): number;
  /** A simulated IO only: its world sends it signal `number`. */
  simulateSignal(number: number): void;
  /** A buffer pool over `memory` (count * size bytes): its id. */
  poolCreate(memory: ArrayBuffer, count: number, size: number): number;
  /** Operations abandoned (their kernel never answered a cancel) whose kernel has not answered yet; 0 once destroyed. */
  abandoned(): number;
}

export interface NativeIOConstructor {
  new (
    backend: string,
    entries: number,
    operationsMax: number,
    bufferSizeMax: number,
    fdsMax: number,
    completions: Int32Array,
    state: Int32Array,
    submissions: Int32Array,
    sides: Side[],
    completionValues: Float64Array,
    fileThreads: number,
  ): NativeIO;
}

/** What an operation keeps beside its submission record, by slot: its buffer, host or path. */
export type Side = ArrayBufferView | string | undefined;

/** Numbers the TypeScript and C++ layers share; defined once, in native/core/layout.h. */
export interface NativeLayout {
  /** Low bits of an operation id (and of a completion's first word) that hold the slot. */
  slotBits: number;
  /** The largest `entries` option, and its default. */
  entriesMax: number;
  entriesDefault: number;
  /** The largest operationsMax (the slot space, less one batch of entries), and its default. */
  operationsMaxLimit: number;
  operationsMaxDefault: number;
  /** The largest bufferSizeMax (bytes one recv/send/read/write moves), and its default. */
  bufferSizeMaxLimit: number;
  bufferSizeMaxDefault: number;
  /** The largest fdsMax (fd table entries), and its default. */
  fdsMaxLimit: number;
  fdsMaxDefault: number;
  /** The largest fileThreads (threads of an IO's file-work pool), and its default. */
  fileThreadsMax: number;
  fileThreadsDefault: number;
  /** Cross-thread events one IO may have open at once. */
  eventsPerIOMax: number;
  /** Buffer pools one IO holds at most. */
  poolsPerIOMax: number;
  /** Buffers one pool holds at most. */
  poolBuffersMax: number;
  /** The longest timeout in nanoseconds (2^53 - 1: exact in a JS number). */
  timeoutNsMax: number;
  /** A completion's first word holds the operation kind from this bit up. */
  kindShift: number;
  /** Operation names by kind: what IOError.syscall says. */
  operationNames: string[];
  /** Index in the state array of the count of operations not yet harvested into the completions array. */
  stateInflight: number;
  /** Index in the state array where an attached IO's dispatch leaves the count of harvested completions it did not deliver (a callback threw). */
  stateUndelivered: number;
  stateHarvested: number;
  /** Length of the state array. */
  stateLength: number;
  /** The submission queue's record: its size in int32 words, the word of each field, the float64 index of each number. */
  submitRecordWords: number;
  submitKind: number;
  submitSlot: number;
  submitFd: number;
  submitInteger: number;
  submitBuffer: number;
  submitLength: number;
  /** A bit of a record's kind word: cancelled while still in the queue (ECANCELED at the flush). */
  submitKindCanceled: number;
  submitPoolRelease: number;
  submitNumberA: number;
  submitNumberB: number;
  /** Records in the submission queue; a full queue is flushed at once. */
  submitQueueRecords: number;
  /** Bits of an operation id above the slot: a generation that wraps. */
  idGenerationBits: number;
  /** Bits of open()'s flags argument. */
  openRead: number;
  openWrite: number;
  openCreate: number;
  openTruncate: number;
  openAppend: number;
  openExclusive: number;
  /** open()'s direct I/O bit: O_DIRECT, F_NOCACHE, FILE_FLAG_NO_BUFFERING. */
  openDirect: number;
  /** Bytes a direct read/write's buffer address, length and position must be multiples of. */
  directAlignment: number;
  /** The largest file offset or length (2^53 - 1: exact in a JS number). */
  fileBytesMax: number;
  /** Set in a completion's first word when its value is the float64 at its index in the completion values array. */
  completionValueFlag: number;
  /** Set in a completion's first word when its op was abandoned (its kernel never answered a cancel): keep its buffer. */
  completionAbandonedFlag: number;
  /** recvFrom's address object: its size and the byte offset of each field. */
  addressBytes: number;
  addressFamily: number;
  addressPort: number;
  addressScope: number;
  addressIp: number;
  /** The largest UDP payload of one datagram, IPv4 and IPv6. */
  datagramIpv4Max: number;
  datagramIpv6Max: number;
  /** The longest Unix socket path in bytes (107 on Linux and Windows, 103 on macOS). */
  unixPathMax: number;
  /** True where a path starting with NUL names Linux's abstract namespace. */
  unixAbstractNamespace: boolean;
  /** The highest signal number a signal wait takes. */
  signalNumberMax: number;
  /** processExit's result: this bit set, the signal that killed the process below it. */
  exitSignaled: number;
  /** processExit's result: the process exited and its status is gone (reaped by someone else). */
  exitUnknown: number;
  /** processExit's value for an exit code beyond 255 (Windows): this plus the code. */
  exitCodeWide: number;
}

/** A simulated world (native/simulation_addon.cc); IOs join it as backend `simulation:<id>`. */
export interface NativeWorld {
  readonly id: number;
  /** The virtual clock, in nanoseconds since the world began. */
  nowNs(): number;
  /** Runs what is due; if nothing is runnable, moves the clock to the next event at or before limitNs (-1: none). False when nothing can happen by then. */
  step(limitNs: number): boolean;
  /** Runs every event up to atNs, then stands the clock there. */
  runUntil(atNs: number): void;
  /**
   * Ends a round of callbacks begun at roundStartNs: one that left the clock
   * there moves it 1 ns, never past limitNs (-1: none). Returns the clock
   * after the round (the next round's start), or -1 when the clock stands
   * at the limit. See native/backend/sim_world.h World::end_round.
   */
  endRound(roundStartNs: number, limitNs: number): number;
  /** The trace hash, 16 hex digits. */
  trace(): string;
  traceEvents(): number;
  nodeCount(): number;
  /** fds open in the world, over all its IOs. */
  openFds(): number;
  /** Operations waiting on its sockets whose cancels it ignores (the fault), not yet answered. */
  cancelsIgnored(): number;
  crash(node: number): void;
  /** True if the world's file namespace has `path` (a file or a Unix socket). */
  exists(path: string): boolean;
  /** Removes `path` from the world's file namespace; false if there was nothing. */
  unlink(path: string): boolean;
}

export interface NativeWorldConstructor {
  new (seedHigh: number, seedLow: number, faults: Float64Array): NativeWorld;
  /** The length of `faults` (native/backend/sim_faults.h Faults::kFieldCount). */
  readonly faultFields: number;
}

export interface NativeBinding {
  NativeIO: NativeIOConstructor;
  NativeWorld: NativeWorldConstructor;
  layout: NativeLayout;
  /** Backends compiled in and usable on this machine, best first. */
  backends(): string[];
  /** Why the OS's best backend is unavailable here (Linux: io_uring turned off, epoll serves), or null. */
  defaultBackendFallback(): string | null;
  /** Thread-safe: wakes the listener of an event from any thread. */
  eventTrigger(handle: number): boolean;
  /** Bytes from the start of the ArrayBuffer's memory to its first address aligned to `directAlignment`. */
  alignmentOffset(buffer: ArrayBuffer): number;
  /** False where the OS has no AF_UNIX stream sockets at all (a Windows without the provider: before 10 1803, or Wine). */
  unixSocketsAvailable(): boolean;
  /** Node now has `count` process.on listeners for signal `number` (the native handler goes back in front of Node's). */
  signalNodeListeners(number: number, count: number): void;
}

/** dist/io/native.js -> the package root, where binding.gyp, build/ and prebuilds/ are. */
const packageRoot = path.join(__dirname, '..', '..');

export const binding = loadNativeAddon(packageRoot) as NativeBinding;
