// The IO: submits operations to the native layer and dispatches their
// completions. Completions cross the JS/C++ boundary in batches: one native
// call per tick writes (kind|slot, result) pairs into a shared Int32Array,
// and this file calls callbacks[slot] for each. No JS object per operation
// beyond the caller's own callback.
import { unlinkSync } from 'node:fs';
import { binding, type NativeIO, type NativeWorld, type Side } from './native';
import { keepAbandoned } from './abandoned';
import { BufferRegistry, DIRECTION_IN, DIRECTION_OUT } from './buffers';
import { clockOffsetNs, jsNowNs } from './clock';
import { defaultBackend } from './default-backend';
import { OperationSlots } from './slots';
import { worldOf } from './world';
import { IOError, abandonedError, deinitializedError, fullError, ioErrorFromResult } from './errors';
import { IOPromises } from './promises';
import { checkPath, directoryMode, renameSubmission } from './files';
import { NO_EXIT, SIMULATE_SIGNAL, checkPid, checkSignal, decodeExit } from './signals';
import { BufferPool, type BufferPoolOptions } from './buffer-pool';
import { ADDRESS_BYTES, addressFamily, addressPort, decodeAddress, newAddressBuffer, type AddressBuffer } from './address';
import type {
  Callback,
  EventHandle,
  IOLimits,
  IOOptions,
  ListenOptions,
  ListenUnixOptions,
  OpenFlags,
  OpenOptions,
  OperationId,
  RenameOptions,
  ProcessExitCallback,
  PooledCallback,
  ShutdownHow,
  SocketAddress,
  SocketFamily,
} from './types';
import {
  checkBoolean,
  checkBuffer,
  checkCallback,
  checkFd,
  checkHost,
  checkInteger,
  checkObject,
  checkString,
  describe,
} from './validate';

const layout = binding.layout;
const SLOT_MASK = (1 << layout.slotBits) - 1;
const KIND_SHIFT = layout.kindShift;
/** Operation kinds by name, as the native layer numbers them. */
const KIND = Object.fromEntries(layout.operationNames.map((name, kind) => [name, kind])) as Record<string, number>;
const KIND_ACCEPT = KIND.accept;
const KIND_CONNECT = KIND.connect;
const KIND_RECV = KIND.recv;
const KIND_SEND = KIND.send;
const KIND_TIMEOUT = KIND.timeout;
const KIND_CLOSE = KIND.close;
const KIND_OPEN = KIND.open;
const KIND_READ = KIND.read;
const KIND_WRITE = KIND.write;
const KIND_EVENT_LISTEN = KIND.eventListen;
const KIND_FSYNC = KIND.fsync;
const KIND_FDATASYNC = KIND.fdatasync;
const KIND_FILE_SIZE = KIND.fileSize;
const KIND_TRUNCATE = KIND.truncate;
const KIND_ALLOCATE = KIND.allocate;
const KIND_SEND_TO = KIND.sendTo;
const KIND_RECV_FROM = KIND.recvFrom;
const KIND_CONNECT_UNIX = KIND.connectUnix;
const KIND_SEND_FILE = KIND.sendFile;
const KIND_RENAME = KIND.rename;
const KIND_UNLINK = KIND.unlink;
const KIND_MKDIR = KIND.mkdir;
const KIND_OPEN_DIRECTORY = KIND.openDirectory;
const KIND_SIGNAL = KIND.signal;
const KIND_PROCESS_EXIT = KIND.processExit;
const KIND_RECV_POOLED = KIND.recvPooled;
/** A recvPooled's completion value is pool id * this + buffer index (native/core/layout.h). */
const POOL_BUFFERS_MAX = layout.poolBuffersMax;
const DATAGRAM_IPV4_MAX = layout.datagramIpv4Max;
const DATAGRAM_IPV6_MAX = layout.datagramIpv6Max;
const UNIX_PATH_MAX = layout.unixPathMax;
const UNIX_ABSTRACT = layout.unixAbstractNamespace;
const RECORD_WORDS = layout.submitRecordWords;
const QUEUE_RECORDS = layout.submitQueueRecords;
const SUBMIT_SLOT = layout.submitSlot;
const SUBMIT_FD = layout.submitFd;
const SUBMIT_INTEGER = layout.submitInteger;
const SUBMIT_BUFFER = layout.submitBuffer;
const SUBMIT_LENGTH = layout.submitLength;
const SUBMIT_NUMBER_A = layout.submitNumberA;
const SUBMIT_NUMBER_B = layout.submitNumberB;
const SUBMIT_KIND = layout.submitKind;
const SUBMIT_KIND_CANCELED = layout.submitKindCanceled;
const SUBMIT_POOL_RELEASE = layout.submitPoolRelease;

const OPERATION_NAMES = layout.operationNames;
const STATE_INFLIGHT = layout.stateInflight;
const STATE_UNDELIVERED = layout.stateUndelivered;
const STATE_HARVESTED = layout.stateHarvested;
/** A completion whose value is in `completionValues` (a size beyond int32), not in its result word. */
const COMPLETION_VALUE_FLAG = layout.completionValueFlag;
/** A completion of an abandoned operation (its kernel never answered the cancel): its buffer is kept (abandoned.ts). */
const COMPLETION_ABANDONED_FLAG = layout.completionAbandonedFlag;

/** Limits of the constructor's options; see {@link IOOptions}. */
const ENTRIES_DEFAULT = layout.entriesDefault;
const ENTRIES_MAX = layout.entriesMax;
const OPERATIONS_MAX_DEFAULT = layout.operationsMaxDefault;
const OPERATIONS_MAX_LIMIT = layout.operationsMaxLimit;
const BUFFER_SIZE_MAX_DEFAULT = layout.bufferSizeMaxDefault;
const BUFFER_SIZE_MAX_LIMIT = layout.bufferSizeMaxLimit;
const FDS_MAX_DEFAULT = layout.fdsMaxDefault;
const FDS_MAX_LIMIT = layout.fdsMaxLimit;
const LISTEN_BACKLOG_DEFAULT = 511;
/** Timeouts are integer nanoseconds up to 2^53 - 1 (about 104 days). */
const TIMEOUT_NS_MAX = layout.timeoutNsMax;
/** File positions are byte offsets up to 2^53 - 1; `null` means the current position. */
const POSITION_MAX = layout.fileBytesMax;
/** Sizes, offsets and lengths of truncate and allocate: bytes up to 2^53 - 1. */
const FILE_BYTES_MAX = layout.fileBytesMax;
const FILE_MODE_DEFAULT = 0o666;
const DIRECT_ALIGNMENT = layout.directAlignment;
const OPEN_OPTION_KEYS = new Set(['mode', 'direct']);

const OPEN_FLAGS: Record<OpenFlags, number> = {
  r: layout.openRead,
  'r+': layout.openRead | layout.openWrite,
  w: layout.openWrite | layout.openCreate | layout.openTruncate,
  wx: layout.openWrite | layout.openCreate | layout.openTruncate | layout.openExclusive,
  'w+': layout.openRead | layout.openWrite | layout.openCreate | layout.openTruncate,
  'wx+': layout.openRead | layout.openWrite | layout.openCreate | layout.openTruncate | layout.openExclusive,
  a: layout.openWrite | layout.openCreate | layout.openAppend,
  ax: layout.openWrite | layout.openCreate | layout.openAppend | layout.openExclusive,
  'a+': layout.openRead | layout.openWrite | layout.openCreate | layout.openAppend,
  'ax+': layout.openRead | layout.openWrite | layout.openCreate | layout.openAppend | layout.openExclusive,
};

/**
 * A completion-based I/O loop over the OS's best kernel interface.
 *
 * Every operation takes a completion callback, called exactly once, never
 * inside the call that submitted it: from `tick()`, `runForNs()`, `run()`,
 * or from Node's event loop after `attach()`. One IO belongs to the thread
 * that made it; make one per worker thread.
 *
 * @example
 * ```ts
 * const io = new IO();
 * io.timeout(1_000_000, (error) => console.log('1 ms later', error));
 * io.run();
 * io.deinit();
 * ```
 */
/**
 * Internal (not exported by the package entry): starts the operations an
 * IO holds in its submission queue. A Simulation calls it on each of its IOs
 * before its world's clock moves, so that what callbacks submitted is in
 * the world first.
 */
export const FLUSH_SUBMISSIONS: unique symbol = Symbol('tigerio.flushSubmissions');

/**
 * Internal: the operations of this IO the core abandoned (their kernel
 * never answered a cancel) whose kernel has not answered yet; 0 once
 * deinitialized. Simulation.abandonedOperations sums it.
 */
export const ABANDONED_OPERATIONS: unique symbol = Symbol('tigerio.abandonedOperations');

/**
 * One completion-callback I/O loop: submit operations with buffers you own,
 * and exactly one callback per operation says what the kernel did. Make
 * one per thread; drive it with `attach()` (Node's event loop) or
 * `tick`/`runForNs`/`run`. The rules every backend keeps are in io/README.md.
 */
export class IO {
  /** Every limit of an IO's options and operations, defined once in the native layer. */
  static readonly limits: IOLimits = Object.freeze({
    entriesMax: layout.entriesMax,
    entriesDefault: layout.entriesDefault,
    operationsMaxLimit: layout.operationsMaxLimit,
    operationsMaxDefault: layout.operationsMaxDefault,
    bufferSizeMaxLimit: layout.bufferSizeMaxLimit,
    bufferSizeMaxDefault: layout.bufferSizeMaxDefault,
    fdsMaxLimit: layout.fdsMaxLimit,
    fdsMaxDefault: layout.fdsMaxDefault,
    fileThreadsMax: layout.fileThreadsMax,
    fileThreadsDefault: layout.fileThreadsDefault,
    eventsPerIOMax: layout.eventsPerIOMax,
    poolsPerIOMax: layout.poolsPerIOMax,
    poolBuffersMax: layout.poolBuffersMax,
    timeoutNsMax: layout.timeoutNsMax,
    fileBytesMax: layout.fileBytesMax,
    directAlignment: layout.directAlignment,
    datagramIpv4Max: layout.datagramIpv4Max,
    datagramIpv6Max: layout.datagramIpv6Max,
    unixPathMax: layout.unixPathMax,
    addressBytes: layout.addressBytes,
  });

  /**
   * The alignment, in bytes, of direct I/O (`open(..., { direct: true })`):
   * every read and write on a direct fd must have its buffer's address, its
   * length and its position multiples of it. 4096: the logical block size of
   * 4Kn disks and the page size, enough for the devices in common use.
   */
  static readonly directAlignment: number = DIRECT_ALIGNMENT;

  /** The family of the sender in an address object (`io.addressBuffer()`): 4, 6, or 0 before any datagram. No allocation. */
  static addressFamily(address: AddressBuffer): 0 | 4 | 6 {
    checkAddressBuffer(address);
    return addressFamily(address);
  }

  /** The port of the sender in an address object. No allocation. */
  static addressPort(address: AddressBuffer): number {
    checkAddressBuffer(address);
    return addressPort(address);
  }

  /**
   * The sender in an address object as a {@link SocketAddress} (this
   * allocates its strings: for logging, or a map keyed by peer).
   * @throws RangeError when no datagram has filled it yet.
   */
  static decodeAddress(address: AddressBuffer): SocketAddress {
    checkAddressBuffer(address);
    return decodeAddress(address);
  }

  /** Backends usable on this machine, best first. The first is the default. */
  static backends(): string[] {
    return binding.backends();
  }

  /**
   * Triggers an event from any thread (a worker gets the handle as a plain
   * number). The event's pending `eventListen` callback runs on the IO's own
   * thread; triggers before a listener runs coalesce into one callback.
   *
   * @returns false when no such event is open (closed, or its IO deinitialized).
   */
  static eventTrigger(handle: EventHandle): boolean {
    checkInteger('handle', handle, 1, 0xffffffff);
    return binding.eventTrigger(handle);
  }

  /** The backend this IO runs on: `epoll`, `io_uring`, `kqueue`, `iocp`, `simulation`. */
  readonly backend: string;
  /** The same operations returning promises, for code that prefers `await`. */
  readonly promises: IOPromises;

  private native: NativeIO | null;
  /** The simulated world of a `simulation` IO, whose virtual clock runForNs() counts; else null. */
  private readonly world: NativeWorld | null;
  private readonly completions: Int32Array;
  /** Beside `completions`, by pair index: values that may not fit an int32 (fileSize's bytes). */
  private readonly completionValues: Float64Array;
  private readonly state: Int32Array;
  private readonly operationsMax: number;
  private readonly bufferSizeMax: number;
  private readonly buffersRegistered: BufferRegistry;
  /** The native clock minus JS's (io/clock.ts): a timeout's deadline is its call's JS time plus this plus its delay. */
  private readonly clockOffsetNs: number;
  /** The latest clock read a timeout was stamped with (native ns): no stamp so far is later. */
  private stampNs = 0;
  /** The latest deadline of any timeout with a delay this IO was given (native ns). */
  private delayedDeadlineMaxNs = -Infinity;
  private readonly slots: OperationSlots;
  /** Callback of the operation in each slot; undefined when the slot is free. */
  private readonly callbacks: (Callback | undefined)[] = [];
  /**
   * Each operation's buffer (also kept reachable until its callback,
   * contract rule 3), host or path, by slot: the native flush reads it there.
   * Written only for an operation that has one, so that the array grows to
   * the highest slot of those, not of every operation (an accept's or a
   * recvPooled's slot costs nothing here).
   */
  private readonly sides: Side[] = [];
  /** sendTo's and recvFrom's second view by slot (the address object; a sendTo to a host: its bytes), kept reachable until the callback. The native flush never reads this array. */
  private readonly addressSides: (AddressBuffer | undefined)[] = [];
  /** This IO's buffer pools by id: a recvPooled's completion names its pool. */
  private readonly pools: BufferPool[] = [];
  /** Paths of the Unix listeners this IO made, by fd: close() and deinit() remove them (as libuv does). */
  private readonly unixPaths = new Map<number, string>();
  /** The submission queue (native/core/layout.h): records as int32 words, and the same memory as float64s. */
  private readonly queueWords: Int32Array;
  private readonly queueNumbers: Float64Array;
  /** Records written and not yet flushed. */
  private queued = 0;
  /** Of the queued records, the pool releases (no operation: no slot, not pending, no room in operationsMax). */
  private queuedReleases = 0;
  private flushScheduled = false;
  private readonly flushFromMicrotask = (): void => {
    this.flushScheduled = false;
    if (this.native !== null && this.queued > 0) this.flush(this.native);
  };
  /** The current batch: pairs [batchIndex, batchCount) of `completions` are not yet dispatched. */
  private batchIndex = 0;
  private batchCount = 0;
  private dispatching = false;
  private attachedToLoop = false;
  private deinitializing = false;

  constructor(options?: IOOptions) {
    const opts = checkObject('options', options);
    const backends = binding.backends();
    const backend = opts.backend === undefined ? defaultBackend(backends) : opts.backend;
    if (typeof backend !== 'string') {
      throw new TypeError(`tigerio: options.backend must be a string, got ${describe(backend)}`);
    }
    if (!backends.includes(backend)) {
      throw new RangeError(`tigerio: backend '${backend}' is not available here; available: ${backends.join(', ')}`);
    }
    const entries = optionalInteger('options.entries', opts.entries, ENTRIES_DEFAULT, 1, ENTRIES_MAX);
    const operationsMax = optionalInteger(
      'options.operationsMax', opts.operationsMax, OPERATIONS_MAX_DEFAULT, 1, OPERATIONS_MAX_LIMIT);
    const bufferSizeMax = optionalInteger(
      'options.bufferSizeMax', opts.bufferSizeMax, BUFFER_SIZE_MAX_DEFAULT, 1, BUFFER_SIZE_MAX_LIMIT);
    const fdsMax = optionalInteger('options.fdsMax', opts.fdsMax, FDS_MAX_DEFAULT, 1, FDS_MAX_LIMIT);
    const fileThreads = optionalInteger(
      'options.fileThreads', opts.fileThreads, layout.fileThreadsDefault, 1, layout.fileThreadsMax);
    // A simulated IO joins a world: the one its Simulation made, or its own.
    this.world = backend === 'simulation' ? worldOf(opts) : null;
    if (this.world === null && opts.seed !== undefined) {
      throw new TypeError("tigerio: options.seed is for backend 'simulation' only");
    }
    this.completions = new Int32Array(entries * 2);
    this.completionValues = new Float64Array(entries);
    this.state = new Int32Array(layout.stateLength);
    this.operationsMax = operationsMax;
    this.slots = new OperationSlots(operationsMax + entries);
    const queue = new ArrayBuffer(QUEUE_RECORDS * RECORD_WORDS * 4);
    this.queueWords = new Int32Array(queue);
    this.queueNumbers = new Float64Array(queue);
    this.native = new binding.NativeIO(
      this.world === null ? backend : `simulation:${this.world.id}`,
      entries, operationsMax, bufferSizeMax, fdsMax, this.completions, this.state, this.queueWords, this.sides,
      this.completionValues, fileThreads);
    this.backend = this.native.backend;
    this.bufferSizeMax = bufferSizeMax;
    this.buffersRegistered = new BufferRegistry(this.native);
    this.clockOffsetNs = clockOffsetNs(this.native);
    this.stampNs = jsNowNs() + this.clockOffsetNs;
    this.promises = new IOPromises(this);
  }

  /** Operations submitted whose callback has not run yet. */
  get pending(): number {
    return this.state[STATE_INFLIGHT] + this.queued - this.queuedReleases + (this.batchCount - this.batchIndex);
  }

  /** True between `attach()` and `detach()`. */
  get attached(): boolean {
    return this.attachedToLoop;
  }

  // ---- Synchronous socket helpers ------------------------------------------

  /**
   * Opens a non-blocking TCP listening socket bound to `host:port`.
   * @param port - 0 lets the OS choose; read it back with `localAddress()`.
   * @returns the listening fd.
   * @throws IOError (`EADDRINUSE`, `EACCES`, ...), TypeError, RangeError.
   */
  listen(host: string, port: number, options?: ListenOptions): number {
    const native = this.synced('listen');
    checkHost(host);
    checkInteger('port', port, 0, 65535);
    const opts = checkObject('options', options);
    const backlog = optionalInteger('options.backlog', opts.backlog, LISTEN_BACKLOG_DEFAULT, 1, 65535);
    const reusePort = checkBoolean('options.reusePort', opts.reusePort ?? false);
    return orThrow(native.listen(host, port, backlog, reusePort), 'listen');
  }

  /**
   * Opens a non-blocking TCP socket (TCP_NODELAY set) for `connect()`.
   * @returns the socket's fd.
   */
  socket(family: SocketFamily | 'unix'): number {
    const native = this.synced('socket');
    if (family === 'unix') return unixOrThrow(native.unixSocket(), 'socket');
    if (family !== 'ipv4' && family !== 'ipv6') {
      throw new TypeError(`tigerio: family must be 'ipv4', 'ipv6' or 'unix', got ${describe(family)}`);
    }
    return orThrow(native.socket(family === 'ipv6'), 'socket');
  }

  // ---- Datagrams and Unix sockets: synchronous helpers -----------------------

  /**
   * Opens a non-blocking UDP socket. `bind()` it to receive on a known port;
   * `connect()` it to use `send`/`recv` with one peer.
   * @returns the socket's fd.
   */
  udpSocket(family: SocketFamily): number {
    const native = this.synced('udpSocket');
    if (family !== 'ipv4' && family !== 'ipv6') {
      throw new TypeError(`tigerio: family must be 'ipv4' or 'ipv6', got ${describe(family)}`);
    }
    return orThrow(native.udpSocket(family === 'ipv6'), 'socket');
  }

  /**
   * Binds a socket (a UDP socket, usually) to an IP literal and port,
   * synchronously. Port 0 lets the OS choose: read it with `localAddress()`.
   * @throws IOError (`EADDRINUSE`, `EAFNOSUPPORT` for an IPv6 address on an IPv4 socket, `EINVAL` the other way, ...), TypeError, RangeError.
   */
  bind(fd: number, host: string, port: number): void {
    const native = this.synced('bind');
    checkFd(fd);
    checkHost(host);
    checkInteger('port', port, 0, 65535);
    orThrow(native.bind(fd, host, port), 'bind');
  }

  /**
   * Opens a non-blocking listening Unix stream socket at `path` (a file
   * path, or on Linux `'\0name'` in the abstract namespace). A file
   * already at the path (a stale socket) fails with `EADDRINUSE`: remove it
   * first if it is yours. `close()` of the listener (or `deinit()`)
   * removes the path again, as libuv does.
   * @throws IOError, TypeError, RangeError (a path longer than `IO.limits.unixPathMax` bytes).
   */
  listenUnix(path: string, options?: ListenUnixOptions): number {
    const native = this.synced('listenUnix');
    checkUnixPath(path);
    const opts = checkObject('options', options);
    const backlog = optionalInteger('options.backlog', opts.backlog, LISTEN_BACKLOG_DEFAULT, 1, 65535);
    const fd = unixOrThrow(native.listenUnix(path, backlog), 'listen');
    // A simulated world's paths are its own (not the machine's files): its backend removes them.
    if (path.charCodeAt(0) !== 0 && this.world === null) this.unixPaths.set(fd, path);
    return fd;
  }

  /** A new address object for `recvFrom` (and `sendTo` replies): caller-owned, reused for every datagram. */
  addressBuffer(): AddressBuffer {
    return newAddressBuffer();
  }

  /** The local address of a socket (after listen, connect or accept). */
  localAddress(fd: number): SocketAddress {
    const native = this.synced('localAddress');
    return toAddress(native.localAddress(checkFd(fd)), 'getsockname');
  }

  /** The peer address of a connected socket. */
  remoteAddress(fd: number): SocketAddress {
    const native = this.synced('remoteAddress');
    return toAddress(native.remoteAddress(checkFd(fd)), 'getpeername');
  }

  /**
   * Shuts down one side of a connected socket, synchronously: `send` (the
   * default) makes the peer's recv read 0 once it has read what was sent,
   * while this side can still receive (a lingering close, a half-closed
   * request). The fd stays open: `close()` it as usual.
   * @throws IOError (`ENOTCONN`, `EBADF`, ...), TypeError.
   */
  shutdown(fd: number, how: ShutdownHow = 'send'): void {
    const native = this.synced('shutdown');
    checkFd(fd);
    const bits = how === 'send' ? 1 : how === 'receive' ? 2 : how === 'both' ? 3 : 0;
    if (bits === 0) {
      throw new TypeError(`tigerio: how must be 'send', 'receive' or 'both', got ${describe(how)}`);
    }
    orThrow(native.shutdown(fd, bits), 'shutdown');
  }

  /**
   * Corks a TCP socket, synchronously: while `on`, the kernel holds back
   * partial segments, so that a response head and the body after it
   * (a `sendFile`, several sends) leave in full segments; `false` sends
   * what it held at once. Linux `TCP_CORK`, FreeBSD/OpenBSD/NetBSD
   * `TCP_NOPUSH`; on Windows and macOS (whose `TCP_NOPUSH` keeps the held
   * tail after it is cleared) the fd is checked and nothing is held.
   * Sends submitted before the call reach the kernel before it.
   * @throws IOError (`EBADF`, `ENOTSOCK`, `ENOTSUP` for a socket that is not TCP), TypeError.
   */
  setCork(fd: number, on: boolean): void {
    const native = this.synced('setCork');
    checkFd(fd);
    checkBoolean('on', on);
    orThrow(native.setCork(fd, on), 'setsockopt');
  }

  // ---- Operations ------------------------------------------------------------

  /** Accepts a connection on a listening fd. Result: the new socket's fd (non-blocking, TCP_NODELAY). */
  accept(fd: number, callback: Callback): OperationId {
    this.live('accept');
    checkFd(fd);
    checkCallback(callback);
    return this.submit(KIND_ACCEPT, fd, 0, 0, 0, undefined, callback);
  }

  /** Connects a socket from `socket()` to an IP literal and port. Result: 0. */
  connect(fd: number, host: string, port: number, callback: Callback): OperationId {
    this.live('connect');
    checkFd(fd);
    checkHost(host);
    checkInteger('port', port, 1, 65535);
    checkCallback(callback);
    return this.submit(KIND_CONNECT, fd, port, 0, 0, host, callback);
  }

  /** Receives into `buffer`. Result: bytes received; 0 means the peer closed. */
  recv(fd: number, buffer: Uint8Array, callback: Callback): OperationId {
    this.live('recv');
    checkFd(fd);
    const length = checkBuffer(buffer);
    checkCallback(callback);
    return this.submitTransfer(KIND_RECV, fd, buffer, length, 0, callback);
  }

  /** Sends from `buffer`. Result: bytes sent, which may be fewer than asked. Never raises SIGPIPE. */
  send(fd: number, buffer: Uint8Array, callback: Callback): OperationId {
    this.live('send');
    checkFd(fd);
    const length = checkBuffer(buffer);
    checkCallback(callback);
    return this.submitTransfer(KIND_SEND, fd, buffer, length, 0, callback);
  }

  /**
   * Completes after at least `nanoseconds` on the monotonic clock, counted
   * from this call. Result: 0.
   */
  timeout(nanoseconds: number, callback: Callback): OperationId {
    this.live('timeout');
    checkInteger('nanoseconds', nanoseconds, 0, TIMEOUT_NS_MAX);
    checkCallback(callback);
    // The deadline is this call's time plus the delay: stamped now, however late the flush.
    // On a simulated world the clock is the world's (it moves only when the world runs).
    let now: number;
    if (this.world !== null) {
      now = this.world.nowNs();
    } else if (nanoseconds === 0 && this.delayedDeadlineMaxNs <= this.stampNs) {
      // A zero-delay timeout is due at once; its stamp only orders it among
      // the other timers. Every timer with a delay has a deadline at or
      // before the last stamp, and every stamp so far is at most the last:
      // the last stamp and the time of this call order it the same way, so
      // the clock read (~35 ns, a third of the op) is skipped.
      now = this.stampNs;
    } else {
      now = jsNowNs() + this.clockOffsetNs;
      this.stampNs = now;
      if (now + nanoseconds > this.delayedDeadlineMaxNs) this.delayedDeadlineMaxNs = now + nanoseconds;
    }
    return this.submit(KIND_TIMEOUT, -1, 0, nanoseconds, now + nanoseconds, undefined, callback);
  }

  /**
   * Closes an fd. Operations pending on it complete with `ECANCELED` before
   * this callback runs. Result: 0.
   */
  close(fd: number, callback: Callback): OperationId {
    this.live('close');
    checkFd(fd);
    checkCallback(callback);
    if (this.unixPaths.size > 0) {
      const left = this.unlinkUnixPath(fd);
      if (left !== undefined) {
        // The path could not go while its socket was open (an OS that holds
        // the socket file busy meanwhile): once more after the close.
        const closed = callback;
        callback = (error, result) => {
          unlinkFile(left);
          closed(error, result);
        };
      }
    }
    this.buffersRegistered.forget(fd);
    return this.submit(KIND_CLOSE, fd, 0, 0, 0, undefined, callback);
  }

  /**
   * Opens a file. Result: its fd. The third argument is the mode (default
   * 0o666, applied when the file is created), `undefined`, or
   * {@link OpenOptions} `{ mode?, direct? }`: `direct: true` bypasses the
   * page cache (see {@link IO.directAlignment}); a file system that refuses
   * it fails the open with `EINVAL`.
   */
  open(path: string, flags: OpenFlags, options: number | OpenOptions | undefined, callback: Callback): OperationId {
    this.live('open');
    checkString('path', path);
    if (typeof flags !== 'string' || !Object.prototype.hasOwnProperty.call(OPEN_FLAGS, flags)) {
      throw new TypeError(`tigerio: flags must be one of ${Object.keys(OPEN_FLAGS).join(' ')}, got ${describe(flags)}`);
    }
    let fileMode = FILE_MODE_DEFAULT;
    let direct = false;
    if (typeof options === 'number') {
      fileMode = checkInteger('mode', options, 0, 0o7777);
    } else if (options !== undefined) {
      if (options === null || typeof options !== 'object' || Array.isArray(options)) {
        throw new TypeError(`tigerio: open's third argument must be a mode number, undefined or { mode?, direct? }, got ${describe(options)}`);
      }
      for (const key of Object.keys(options)) {
        // A misspelt `direct` would silently open through the page cache.
        if (!OPEN_OPTION_KEYS.has(key)) throw new TypeError(`tigerio: unknown open option '${key}' (known: mode, direct)`);
      }
      if (options.mode !== undefined) fileMode = checkInteger('options.mode', options.mode, 0, 0o7777);
      if (options.direct !== undefined) direct = checkBoolean('options.direct', options.direct);
    }
    checkCallback(callback);
    const bits = OPEN_FLAGS[flags] | (direct ? layout.openDirect : 0);
    return this.submit(KIND_OPEN, -1, bits, fileMode, 0, path, callback);
  }

  /** Reads from a file at `position` (null: the current position). Result: bytes read; 0 at end of file. */
  read(fd: number, buffer: Uint8Array, position: number | null, callback: Callback): OperationId {
    this.live('read');
    checkFd(fd);
    const length = checkBuffer(buffer);
    const at = position === null ? -1 : checkInteger('position', position, 0, POSITION_MAX);
    checkCallback(callback);
    return this.submitTransfer(KIND_READ, fd, buffer, length, at, callback);
  }

  /** Writes to a file at `position` (null: the current position). Result: bytes written. */
  write(fd: number, buffer: Uint8Array, position: number | null, callback: Callback): OperationId {
    this.live('write');
    checkFd(fd);
    const length = checkBuffer(buffer);
    const at = position === null ? -1 : checkInteger('position', position, 0, POSITION_MAX);
    checkCallback(callback);
    return this.submitTransfer(KIND_WRITE, fd, buffer, length, at, callback);
  }

  // ---- Datagrams, Unix sockets, sendFile --------------------------------------

  /**
   * Sends one datagram from a UDP socket to `host:port`, or to the sender an
   * address object holds (`sendTo(fd, buffer, address, callback)`, a reply
   * after `recvFrom`). Result: bytes sent (the whole datagram).
   * @throws RangeError for a datagram longer than the family's UDP limit
   *   (`IO.limits.datagramIpv4Max` 65507, `datagramIpv6Max` 65527) or a buffer longer than `bufferSizeMax`.
   */
  sendTo(fd: number, buffer: Uint8Array, host: string, port: number, callback: Callback): OperationId;
  sendTo(fd: number, buffer: Uint8Array, address: AddressBuffer, callback: Callback): OperationId;
  sendTo(
    fd: number,
    buffer: Uint8Array,
    to: string | AddressBuffer,
    portOrCallback: number | Callback,
    maybeCallback?: Callback,
  ): OperationId {
    this.live('sendTo');
    checkFd(fd);
    const byteLength = checkBuffer(buffer);
    checkRegistrable('buffer', buffer);
    if (typeof to === 'string') {
      checkHost(to);
      checkInteger('port', portOrCallback, 1, 65535);
      checkCallback(maybeCallback);
      checkDatagramLength(byteLength, to.includes(':') ? DATAGRAM_IPV6_MAX : DATAGRAM_IPV4_MAX, this.bufferSizeMax);
      return this.submitDatagram(KIND_SEND_TO, fd, buffer, byteLength, undefined, portOrCallback as number, to, maybeCallback as Callback);
    }
    checkAddressBuffer(to);
    checkCallback(portOrCallback);
    checkDatagramLength(byteLength, addressFamily(to) === 4 ? DATAGRAM_IPV4_MAX : DATAGRAM_IPV6_MAX, this.bufferSizeMax);
    return this.submitDatagram(KIND_SEND_TO, fd, buffer, byteLength, to, 0, undefined, portOrCallback as Callback);
  }

  /**
   * Receives one datagram into `buffer`, and its sender into `address` (an
   * object from `io.addressBuffer()`, read with `IO.addressPort`/`IO.decodeAddress`).
   * Result: the datagram's size. A datagram longer than the buffer fails
   * with `EMSGSIZE`: the buffer then holds its first `buffer.byteLength`
   * bytes, `address` its sender, and the rest is gone (as the kernel drops it).
   */
  recvFrom(fd: number, buffer: Uint8Array, address: AddressBuffer, callback: Callback): OperationId {
    this.live('recvFrom');
    checkFd(fd);
    const byteLength = checkBuffer(buffer);
    checkRegistrable('buffer', buffer);
    checkAddressBuffer(address);
    checkCallback(callback);
    return this.submitDatagram(KIND_RECV_FROM, fd, buffer, byteLength, address, 0, undefined, callback);
  }

  /**
   * Connects a socket from `socket('unix')` to the Unix socket at `path`.
   * Completes at once or fails (`ENOENT`, `ECONNREFUSED`; `EAGAIN` when
   * the listener's backlog is full, as in libuv). Result: 0.
   */
  connectUnix(fd: number, path: string, callback: Callback): OperationId {
    this.live('connectUnix');
    checkFd(fd);
    checkUnixPath(path);
    checkCallback(callback);
    return this.submit(KIND_CONNECT_UNIX, fd, 0, 0, 0, path, callback);
  }

  /**
   * Sends `length` bytes of the file `fileFd` from `offset` to the socket
   * `socketFd`, in the kernel (sendfile(2); TransmitFile on Windows): no
   * byte passes through JavaScript, and the file's own position does not
   * move. Result: bytes sent, possibly fewer than asked (loop, as with
   * `send`); 0 at or past the end of the file. The file must stay open
   * until the callback. `length` is clamped to `bufferSizeMax`.
   */
  sendFile(socketFd: number, fileFd: number, offset: number, length: number, callback: Callback): OperationId {
    this.live('sendFile');
    checkFd(socketFd);
    checkInteger('fileFd', fileFd, 0, 0x7fffffff);
    checkInteger('offset', offset, 0, POSITION_MAX);
    checkInteger('length', length, 1, Number.MAX_SAFE_INTEGER);
    checkCallback(callback);
    const clamped = length < this.bufferSizeMax ? length : this.bufferSizeMax;
    return this.submitRecord(KIND_SEND_FILE, socketFd, fileFd, -1, clamped, offset, 0, undefined, callback);
  }

  /**
   * Makes the file's data and metadata durable: result 0 once the writes
   * completed before it, and the file's size and other metadata, have
   * reached stable storage. Runs after the fd's earlier operations.
   * Linux: fsync(2); macOS: fcntl F_FULLFSYNC (a plain fsync there stops at
   * the drive's cache), fsync where the file system refuses it; Windows:
   * FlushFileBuffers.
   */
  fsync(fd: number, callback: Callback): OperationId {
    this.live('fsync');
    checkFd(fd);
    checkCallback(callback);
    return this.submit(KIND_FSYNC, fd, 0, 0, 0, undefined, callback);
  }

  /**
   * Makes the file's data durable, and of its metadata only what reading
   * the data back needs (the size after an append): result 0. Linux:
   * fdatasync(2), which skips timestamps; macOS: F_FULLFSYNC as `fsync`;
   * Windows: FlushFileBuffers as `fsync`.
   */
  fdatasync(fd: number, callback: Callback): OperationId {
    this.live('fdatasync');
    checkFd(fd);
    checkCallback(callback);
    return this.submit(KIND_FDATASYNC, fd, 0, 0, 0, undefined, callback);
  }

  /** The file's size. Result: its size in bytes (exact up to 2^53 - 1), after the fd's earlier operations. */
  fileSize(fd: number, callback: Callback): OperationId {
    this.live('fileSize');
    checkFd(fd);
    checkCallback(callback);
    return this.submit(KIND_FILE_SIZE, fd, 0, 0, 0, undefined, callback);
  }

  /**
   * Sets the file's size to `length` bytes (0..2^53 - 1): a shorter file
   * loses its tail, a longer one reads as zeros there (a hole where the file
   * system has them: no disk blocks; see `allocate`). Result: 0.
   */
  truncate(fd: number, length: number, callback: Callback): OperationId {
    this.live('truncate');
    checkFd(fd);
    checkInteger('length', length, 0, FILE_BYTES_MAX);
    checkCallback(callback);
    return this.submit(KIND_TRUNCATE, fd, 0, length, 0, undefined, callback);
  }

  /**
   * Reserves disk blocks for bytes [offset, offset + length) and makes the
   * file at least offset + length bytes long (never shorter): later writes
   * there cannot fail for want of space. Result: 0; `ENOSPC` when the disk
   * lacks the room. Linux: posix_fallocate (fallocate; glibc writes zeros
   * where the file system has none); macOS: F_PREALLOCATE at the end of the
   * file, then ftruncate; Windows: FileAllocationInfo, then the end of file.
   * `offset` 0..2^53 - 1, `length` 1..2^53 - 1, their sum at most 2^53 - 1.
   */
  allocate(fd: number, offset: number, length: number, callback: Callback): OperationId {
    this.live('allocate');
    checkFd(fd);
    checkInteger('offset', offset, 0, FILE_BYTES_MAX);
    checkInteger('length', length, 1, FILE_BYTES_MAX);
    if (offset + length > FILE_BYTES_MAX) {
      throw new RangeError(`tigerio: offset + length must be at most ${FILE_BYTES_MAX}, got ${offset} + ${length}`);
    }
    checkCallback(callback);
    return this.submit(KIND_ALLOCATE, fd, 0, offset, length, undefined, callback);
  }

  // ---- The file namespace (argument checks in files.ts) ----------------------

  /**
   * Renames `from` to `to`, replacing `to` if it exists (a file by a file,
   * an empty directory by a directory), atomically: a reader sees the old
   * or the new, never neither. Result: 0. Durable only once the directory
   * is synced (`openDirectory`, then `fsync`). Errors as rename(2):
   * `ENOENT`, `EXDEV` (another file system), `EISDIR`, `ENOTDIR`,
   * `ENOTEMPTY`; `EEXIST` with `{ noReplace: true }`.
   */
  rename(from: string, to: string, callback: Callback): OperationId;
  rename(from: string, to: string, options: RenameOptions, callback: Callback): OperationId;
  rename(from: string, to: string, optionsOrCallback: RenameOptions | Callback, maybeCallback?: Callback): OperationId {
    this.live('rename');
    const rename = renameSubmission(from, to, optionsOrCallback, maybeCallback);
    return this.submit(KIND_RENAME, -1, rename.flags, 0, 0, rename.paths, rename.callback);
  }

  /** Removes a file's name (open fds keep the file). Result: 0. `EISDIR` for a directory, on every OS. */
  unlink(path: string, callback: Callback): OperationId {
    this.live('unlink');
    checkPath(path);
    checkCallback(callback);
    return this.submit(KIND_UNLINK, -1, 0, 0, 0, path, callback);
  }

  /** Makes a directory with `mode` (undefined: 0o777, before the umask; ignored on Windows). Result: 0; `EEXIST` if anything is there. */
  mkdir(path: string, mode: number | undefined, callback: Callback): OperationId {
    this.live('mkdir');
    checkPath(path);
    const bits = directoryMode(mode);
    checkCallback(callback);
    return this.submit(KIND_MKDIR, -1, 0, bits, 0, path, callback);
  }

  /**
   * Opens a directory for `fsync`, which makes the creates, renames and
   * unlinks in it durable. Result: an fd; `close` it as any other. Its
   * other operations fail as the OS fails them (a read: `EISDIR`).
   */
  openDirectory(path: string, callback: Callback): OperationId {
    this.live('openDirectory');
    checkPath(path);
    checkCallback(callback);
    return this.submit(KIND_OPEN_DIRECTORY, -1, 0, 0, 0, path, callback);
  }

  /**
   * A pool of `count` receive buffers of `size` bytes for
   * {@link IO.recvPooled}, allocated once, now; it lives as long as this IO.
   * At most `IO.limits.poolsPerIOMax` (64) pools per IO.
   */
  bufferPool(options: BufferPoolOptions): BufferPool {
    this.live('bufferPool');
    const pool = new BufferPool(this, this.nativeOrNull, this.submitPoolRelease, options, this.bufferSizeMax);
    this.pools[pool.id] = pool;
    return pool;
  }

  /**
   * Receives into a buffer of `pool` taken only when data has arrived, so
   * that a receive that waits holds no buffer. The callback gets the bytes
   * and the buffer, which is the caller's until `pool.release(buffer)`.
   * When every buffer is lent, the receive waits (its data stays in the
   * socket) until one is released; it fails only if cancelled or its fd closed.
   */
  recvPooled(fd: number, pool: BufferPool, callback: PooledCallback): OperationId {
    this.live('recvPooled');
    checkFd(fd);
    if (!(pool instanceof BufferPool)) throw new TypeError(`tigerio: pool must be a BufferPool from io.bufferPool(), got ${describe(pool)}`);
    if (pool.owner !== this) throw new TypeError(`tigerio: that BufferPool belongs to another IO; receive into a pool from this IO's bufferPool()`);
    checkCallback(callback);
    // No side: the pool stays reachable through this.pools, and the completion names it.
    return this.submit(KIND_RECV_POOLED, fd, pool.id, 0, 0, undefined, callback as unknown as Callback);
  }

  /**
   * A zeroed Uint8Array of `size` bytes whose memory starts at an address
   * aligned to {@link IO.directAlignment}: a buffer for direct I/O. `size`
   * must be a multiple of the alignment, 1 block up to `IO.limits.bufferSizeMaxLimit`
   * bytes. Its `buffer` is an ArrayBuffer up to one block larger; use only the view.
   */
  alignedBuffer(size: number): Uint8Array {
    this.live('alignedBuffer');
    checkInteger('size', size, DIRECT_ALIGNMENT, layout.bufferSizeMaxLimit);
    if (size % DIRECT_ALIGNMENT !== 0) {
      throw new RangeError(`tigerio: size must be a multiple of IO.directAlignment (${DIRECT_ALIGNMENT}), got ${size}`);
    }
    const memory = new ArrayBuffer(size + DIRECT_ALIGNMENT);
    return new Uint8Array(memory, binding.alignmentOffset(memory), size);
  }

  /**
   * Cancels one operation: it completes with `ECANCELED` unless it has
   * completed already (then its callback gets its own result).
   * @returns true when the operation was pending and is now cancelled.
   */
  cancel(operation: OperationId): boolean {
    const native = this.live('cancel');
    checkInteger('operation', operation, 0, Number.MAX_SAFE_INTEGER);
    const slot = this.slots.slotOf(operation);
    if (slot < 0 || this.callbacks[slot] === undefined) return false;
    if (this.queued > 0) {
      // An operation still in the queue is marked there: the flush completes
      // it with ECANCELED and it never reaches the kernel. A close cannot be
      // cancelled (it runs once the fd's operations have drained).
      const words = this.queueWords;
      for (let record = (this.queued - 1) * RECORD_WORDS; record >= 0; record -= RECORD_WORDS) {
        if (words[record + SUBMIT_SLOT] !== slot) continue;
        const kind = words[record + SUBMIT_KIND];
        if (kind === KIND_CLOSE) return false;
        if ((kind & SUBMIT_KIND_CANCELED) !== 0) return false; // cancelled already
        words[record + SUBMIT_KIND] = kind | SUBMIT_KIND_CANCELED;
        return true;
      }
    }
    return native.cancel(slot);
  }

  // ---- Cross-thread events --------------------------------------------------

  /**
   * Opens a cross-thread event owned by this IO. Pass the handle to any
   * thread; `IO.eventTrigger(handle)` there wakes this IO's listener.
   * At most `IO.limits.eventsPerIOMax` (64) events per IO.
   */
  eventOpen(): EventHandle {
    return this.synced('eventOpen').eventOpen();
  }

  /** Waits for the event to be triggered. One callback per listen; result 0. One listener at a time. */
  eventListen(handle: EventHandle, callback: Callback): OperationId {
    this.live('eventListen');
    checkInteger('handle', handle, 1, 0xffffffff);
    checkCallback(callback);
    return this.submit(KIND_EVENT_LISTEN, -1, 0, handle, 0, undefined, callback);
  }

  /** Closes an event of this IO; its pending listener completes with `ECANCELED`. */
  eventClose(handle: EventHandle): void {
    const native = this.synced('eventClose');
    checkInteger('handle', handle, 1, 0xffffffff);
    native.eventClose(handle);
  }

  // ---- Signals and process exits ------------------------------------------------

  /**
   * Waits for the next arrival of `signal` (`'SIGTERM'`, `'SIGINT'`, ...):
   * the callback gets its number (os.constants.signals). One completion per
   * wait; submit the next wait from the callback to keep listening: an
   * arrival between the two is remembered, not lost. While this IO waits,
   * the signal's default action (terminating the process) is replaced by
   * the wait; handlers Node or the user installed still run.
   * @throws TypeError for a name this OS does not have; RangeError for a
   * signal that cannot be waited for (SIGKILL, SIGSTOP, SIGSEGV, ...).
   */
  signal(signal: string, callback: Callback): OperationId {
    this.live('signal');
    const number = checkSignal(signal);
    checkCallback(callback);
    return this.submit(KIND_SIGNAL, -1, number, 0, 0, undefined, callback);
  }

  /**
   * Waits for process `pid` to exit: the callback gets its exit code or the
   * signal that killed it ({@link ProcessExit}); `ESRCH` when no such
   * process exists (never did, or exited and was reaped already).
   * @throws RangeError when pid is not a positive integer.
   */
  processExit(pid: number, callback: ProcessExitCallback): OperationId {
    this.live('processExit');
    checkPid(pid);
    checkCallback(callback);
    return this.submit(KIND_PROCESS_EXIT, -1, pid, 0, 0, undefined, (error, result) => {
      if (error !== null) callback(error, NO_EXIT);
      else callback(null, decodeExit(result));
    });
  }

  /** See SIMULATE_SIGNAL. */
  [SIMULATE_SIGNAL](number: number): void {
    this.synced('signal').simulateSignal(number);
  }

  // ---- Driving ------------------------------------------------------------------

  /** Submits what is queued, harvests what is ready without blocking, runs those callbacks. */
  tick(): void {
    this.checkDrivable('tick');
    this.pollAndDispatch(0);
  }

  /**
   * Runs callbacks as operations complete, for `nanoseconds` on the
   * monotonic clock; returns once that time has passed, also while
   * callbacks keep submitting work that is due at once. On a simulated IO
   * the clock is the world's virtual one, and a round that leaves it where
   * it was moves it 1 ns.
   */
  runForNs(nanoseconds: number): void {
    this.checkDrivable('runForNs');
    checkInteger('nanoseconds', nanoseconds, 0, TIMEOUT_NS_MAX);
    if (this.world !== null) {
      this.runSimulatedForNs(this.world, nanoseconds);
      return;
    }
    // The deadline on the native clock (clockOffsetNs is an upper bound of
    // its lead, so the deadline is never early); the native poll reads that
    // clock itself, once a round, where a performance.now() here cost more
    // than the rest of the loop.
    const deadlineNs = jsNowNs() + this.clockOffsetNs + nanoseconds;
    this.pollAndDispatch(0);
    // A callback may deinit() the IO: then there is nothing left to run.
    // A callback that throws ends the call, so every round here starts with its batch dispatched.
    for (let native = this.native; native !== null; native = this.native) {
      const count = this.queued;
      this.queued = this.queuedReleases = 0;
      native.pollUntil(deadlineNs, count);
      const harvested = this.state[STATE_HARVESTED];
      if (harvested < 0) return; // the deadline has passed
      this.batchCount = harvested;
      this.batchIndex = 0;
      this.dispatch();
    }
  }

  /** runForNs on a simulated world: its virtual clock, read here, bounds each round. */
  private runSimulatedForNs(world: NativeWorld, nanoseconds: number): void {
    const deadline = world.nowNs() + nanoseconds;
    this.pollAndDispatch(0);
    // Each round's start, which endRound returns for the next: one crossing a round.
    let now = world.nowNs();
    while (this.native !== null) {
      const remaining = Math.ceil(deadline - now);
      if (remaining <= 0) return;
      if (this.state[STATE_INFLIGHT] === 0 && this.queued === 0 && this.batchIndex >= this.batchCount) {
        // Nothing pending: no callback can come, and virtual time passes
        // only if someone moves it (the native poll does not wait then).
        world.runUntil(deadline);
        return;
      }
      this.pollAndDispatch(remaining);
      if (this.native === null) return; // deinit() ran inside a callback
      // A round costs at least 1 ns of virtual time, else a chain of work due at once never reaches the deadline.
      now = world.endRound(now, deadline);
      if (now < 0) return; // the clock stands at the deadline
    }
  }

  /** Runs until no operation is pending. Blocks while any is (an unfired eventListen included). */
  run(): void {
    this.checkDrivable('run');
    while (this.native !== null && this.pending > 0) this.pollAndDispatch(-1);
  }

  /**
   * Lets Node's event loop drive this IO: callbacks run from the loop,
   * beside timers, promises and node:fs, each batch inside a callback scope
   * so promise reactions run after it. An attached IO holds the process open
   * only while operations are pending. `tick`/`run`/`runForNs` throw while attached.
   */
  attach(): void {
    const native = this.synced('attach');
    if (this.attachedToLoop) return;
    native.attach(() => this.dispatchFromLoop());
    this.attachedToLoop = true;
  }

  /** Stops Node's event loop from driving this IO; drive it with `tick`/`run` again. */
  detach(): void {
    const native = this.live('detach');
    if (!this.attachedToLoop) return;
    native.detach();
    this.attachedToLoop = false;
  }

  /**
   * Completes every pending operation with `ECANCELED` (their callbacks run
   * inside this call, after the rest of any batch in progress), closes every
   * fd this IO opened that is still open, and frees the IO. No callback runs
   * after it returns; every later call throws. Safe inside a callback; calling
   * it twice is a no-op. If callbacks throw, all still run and the first
   * error is rethrown at the end.
   */
  deinit(): void {
    const native = this.native;
    if (native === null || this.deinitializing) return;
    this.deinitializing = true;
    let failed = false;
    let failure: unknown;
    const deliverAll = (): void => {
      for (;;) {
        try {
          this.dispatch();
          return;
        } catch (error) {
          if (!failed) {
            failed = true;
            failure = error;
          }
        }
      }
    };
    try {
      deliverAll();
      if (this.queued > 0) this.flush(native);
      native.cancelAll();
      while (this.state[STATE_INFLIGHT] > 0) {
        native.poll(0, 0);
        this.batchCount = this.state[STATE_HARVESTED];
        this.batchIndex = 0;
        if (this.batchCount === 0) {
          throw new Error(`tigerio: deinit: ${this.state[STATE_INFLIGHT]} operations did not complete after cancelAll (a backend bug)`);
        }
        deliverAll();
      }
    } finally {
      if (this.attachedToLoop) native.detach();
      this.attachedToLoop = false;
      native.destroy();
      this.native = null;
      this.buffersRegistered.close();
      for (const fd of [...this.unixPaths.keys()]) this.unlinkUnixPath(fd);
    }
    if (failed) throw failure;
  }

  // ---- Internals ----------------------------------------------------------------

  private readonly nativeOrNull = (): NativeIO | null => (this.deinitializing ? null : this.native);

  private live(method: string): NativeIO {
    if (this.native === null || this.deinitializing) throw deinitializedError(method);
    return this.native;
  }

  private checkDrivable(method: string): void {
    this.live(method);
    if (this.attachedToLoop) {
      throw new Error(`tigerio: ${method}() on an attached IO: Node's event loop drives it; detach() first`);
    }
    if (this.dispatching) {
      throw new Error(`tigerio: ${method}() called from inside one of this IO's callbacks; return and let the running tick go on`);
    }
  }

  /** live(), with the submission queue flushed: for a synchronous call that must come after the operations before it. */
  private synced(method: string): NativeIO {
    const native = this.live(method);
    if (this.queued > 0) this.flush(native);
    return native;
  }

  /**
   * Writes one operation into the submission queue: no native call, unless
   * the queue is full (then it is flushed at once). An attached IO flushes
   * what was submitted outside its own callbacks in a microtask, the way
   * Node runs its own follow-up work, so it starts without waiting for a
   * kernel event.
   */
  private submit(kind: number, fd: number, integer: number, a: number, b: number, side: Side, callback: Callback): OperationId {
    return this.submitRecord(kind, fd, integer, -1, 0, a, b, side, callback);
  }

  /** A recv, send, read or write: its bytes named by registered ArrayBuffer, offset and length. */
  private submitTransfer(kind: number, fd: number, view: ArrayBufferView, byteLength: number, position: number, callback: Callback): OperationId {
    const length = byteLength < this.bufferSizeMax ? byteLength : this.bufferSizeMax;
    const direction = kind === KIND_RECV || kind === KIND_READ ? DIRECTION_IN : DIRECTION_OUT;
    const registry = this.buffersRegistered;
    const id = registry.idOfTransfer(view, fd, direction);
    return this.submitRecord(kind, fd, 0, id, length, position, registry.transferOffset, view, callback);
  }

  /**
   * A sendTo or recvFrom: bytes as in submitTransfer (the same per-fd cache
   * finds their buffer), plus a host (in sides) or an address object (by id
   * and offset).
   */
  private submitDatagram(
    kind: number,
    fd: number,
    view: Uint8Array,
    byteLength: number,
    address: AddressBuffer | undefined,
    port: number,
    host: string | undefined,
    callback: Callback,
  ): OperationId {
    const length = byteLength < this.bufferSizeMax ? byteLength : this.bufferSizeMax;
    const registry = this.buffersRegistered;
    const id = registry.idOfTransfer(view, fd, kind === KIND_RECV_FROM ? DIRECTION_IN : DIRECTION_OUT);
    const offset = registry.transferOffset;
    if (address === undefined) {
      // sides holds the host: the bytes are kept reachable beside it.
      const hosted = this.submitRecord(kind, fd, port, id, length, -1, offset, host, callback);
      this.addressSides[this.slots.slotOf(hosted)] = view;
      return hosted;
    }
    const addressId = registry.idOf(address);
    const operation = this.submitRecord(kind, fd, addressId, id, length, address.byteOffset, offset, view, callback);
    this.addressSides[this.slots.slotOf(operation)] = address;
    return operation;
  }

  /**
   * A Unix listener's path goes with its fd (libuv's uv_pipe close does the
   * same). Returns the path if it is still there for a reason other than
   * being gone already (EBUSY, EPERM, ...): the caller may try again once the
   * socket is closed.
   */
  private unlinkUnixPath(fd: number): string | undefined {
    const path = this.unixPaths.get(fd);
    if (path === undefined) return undefined;
    this.unixPaths.delete(fd);
    return unlinkFile(path) ? undefined : path;
  }

  private submitRecord(
    kind: number,
    fd: number,
    integer: number,
    bufferId: number,
    length: number,
    a: number,
    b: number,
    side: Side,
    callback: Callback,
  ): OperationId {
    if (this.state[STATE_INFLIGHT] + this.queued - this.queuedReleases >= this.operationsMax) throw fullError(this.operationsMax);
    const slot = this.slots.allocate();
    const record = this.queued * RECORD_WORDS;
    const words = this.queueWords;
    words[record + SUBMIT_KIND] = kind;
    words[record + SUBMIT_SLOT] = slot;
    words[record + SUBMIT_FD] = fd;
    words[record + SUBMIT_INTEGER] = integer;
    words[record + SUBMIT_BUFFER] = bufferId;
    words[record + SUBMIT_LENGTH] = length;
    const numbers = record >> 1;
    this.queueNumbers[numbers + SUBMIT_NUMBER_A] = a;
    this.queueNumbers[numbers + SUBMIT_NUMBER_B] = b;
    this.callbacks[slot] = callback;
    if (side !== undefined) this.sides[slot] = side;
    this.recordQueued();
    return this.slots.id(slot);
  }

  /**
   * Counts the record just written at `queued`: a full queue is started at
   * once; an attached IO's queue at the end of this task (a microtask), or
   * by the running dispatch.
   */
  private recordQueued(): void {
    if (++this.queued === QUEUE_RECORDS) {
      this.flush(this.native!);
    } else if (this.attachedToLoop && !this.dispatching && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushFromMicrotask);
    }
  }

  /** See ABANDONED_OPERATIONS. */
  [ABANDONED_OPERATIONS](): number {
    return this.native === null ? 0 : this.native.abandoned();
  }

  /**
   * BufferPool.release's give-back, queued as a record of its own (layout.h
   * kSubmitPoolRelease): the native side frees the buffer at the next flush,
   * in order with the operations queued around it. Made once per IO.
   */
  private readonly submitPoolRelease = (poolId: number, index: number): void => {
    const record = this.queued * RECORD_WORDS;
    const words = this.queueWords;
    words[record + SUBMIT_KIND] = SUBMIT_POOL_RELEASE;
    words[record + SUBMIT_SLOT] = -1;
    words[record + SUBMIT_FD] = -1;
    words[record + SUBMIT_INTEGER] = poolId;
    words[record + SUBMIT_LENGTH] = index;
    this.queuedReleases++;
    this.recordQueued();
  };

  /** See FLUSH_SUBMISSIONS. */
  [FLUSH_SUBMISSIONS](): void {
    if (this.native !== null && this.queued > 0) this.flush(this.native);
  }

  private flush(native: NativeIO): void {
    const count = this.queued;
    this.queued = this.queuedReleases = 0;
    native.flush(count);
  }

  /** One round: finish an interrupted batch, then one native poll and its batch. */
  private pollAndDispatch(timeoutNs: number): void {
    const native = this.native;
    if (native === null) return;
    if (this.batchIndex < this.batchCount) {
      this.dispatch();
      timeoutNs = 0;
    }
    if (this.native !== native) return; // deinit() ran inside a callback
    const count = this.queued;
    this.queued = this.queuedReleases = 0;
    native.poll(timeoutNs, count);
    this.batchCount = this.state[STATE_HARVESTED];
    this.batchIndex = 0;
    this.dispatch();
  }

  /** Called by the native layer from Node's event loop when the IO is attached. */
  private dispatchFromLoop(): void {
    try {
      if (this.native !== null && !this.deinitializing) {
        const world = this.world;
        if (world === null) {
          this.pollAndDispatch(0);
        } else {
          // When nothing in the world is runnable, its clock moves to the next event.
          const roundStartNs = world.nowNs();
          world.step(-1);
          this.pollAndDispatch(0);
          // A round that ran callbacks costs at least 1 ns, else a chain of work due at once starves later timers.
          if (this.native !== null && this.batchCount > 0) world.endRound(roundStartNs, -1);
        }
        // What the callbacks submitted starts now, before the loop sleeps.
        if (this.native !== null && this.queued > 0) this.flush(this.native);
      }
    } finally {
      // A callback that threw leaves part of the batch: the native side then
      // schedules another round at once instead of waiting for the kernel.
      this.state[STATE_UNDELIVERED] = this.batchCount - this.batchIndex;
    }
  }

  /**
   * Runs the callbacks of the current batch. An exception from a callback
   * propagates; the batch's remaining completions run on the next round.
   */
  private dispatch(): void {
    const completions = this.completions;
    const values = this.completionValues;
    const callbacks = this.callbacks;
    const sides = this.sides;
    const slots = this.slots;
    this.dispatching = true;
    try {
      while (this.batchIndex < this.batchCount) {
        const at = this.batchIndex++;
        const word = completions[at << 1];
        const result = completions[(at << 1) + 1];
        const slot = word & SLOT_MASK;
        const kind = word >>> KIND_SHIFT;
        const callback = callbacks[slot]!;
        const side = sides[slot];
        callbacks[slot] = undefined;
        if (side !== undefined) sides[slot] = undefined;
        const abandoned = (word & COMPLETION_ABANDONED_FLAG) !== 0;
        if (abandoned) {
          // A hosted sendTo's bytes, which the kernel may still read, are in addressSides (sides holds the host).
          keepAbandoned(side);
          keepAbandoned(this.addressSides[slot]);
        }
        slots.release(slot);
        if (kind >= KIND_SEND_TO) {
          if (kind === KIND_RECV_POOLED) {
            const value = values[at];
            const pool = this.pools[(value / POOL_BUFFERS_MAX) | 0];
            // An abandoned receive's buffer may still be written by the kernel: its pool stays alive.
            if (abandoned) keepAbandoned(pool);
            dispatchPooled(callback as unknown as PooledCallback, pool, result, value % POOL_BUFFERS_MAX, abandoned);
            continue;
          }
          // Only these two write addressSides: clearing it for other kinds would grow it to their slots.
          if (kind === KIND_SEND_TO || kind === KIND_RECV_FROM) this.addressSides[slot] = undefined;
        }
        if (result >= 0) callback(null, (word & COMPLETION_VALUE_FLAG) === 0 ? result : values[at]);
        else callback(completionError(result, kind, abandoned), 0);
      }
    } finally {
      this.dispatching = false;
    }
  }
}

/** A recvPooled's completion: the buffer that holds its bytes is lent to the caller now. */
function dispatchPooled(callback: PooledCallback, pool: BufferPool, result: number, index: number, abandoned: boolean): void {
  if (result > 0) callback(null, result, pool.lend(index));
  else if (result === 0) callback(null, 0, null);
  else callback(completionError(result, KIND_RECV_POOLED, abandoned), 0, null);
}

function optionalInteger(name: string, value: unknown, fallback: number, min: number, max: number): number {
  return value === undefined ? fallback : checkInteger(name, value, min, max);
}

function orThrow(result: number, syscall: string): number {
  if (result < 0) throw ioErrorFromResult(result, syscall);
  return result;
}

/**
 * Removes a file. False if it is still there (EBUSY, EPERM: replaced by
 * someone else's file we may not remove, or held busy); true once it is
 * gone, already gone included. Never throws: the path is not ours to force.
 */
function unlinkFile(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** A failed completion's error (a cold path: the kind is looked at only here). */
function completionError(result: number, kind: number, abandoned: boolean): IOError {
  if (abandoned) return abandonedError(result, OPERATION_NAMES[kind]);
  return kind === KIND_CONNECT_UNIX ? unixError(result, 'connectUnix') : ioErrorFromResult(result, OPERATION_NAMES[kind]);
}

function unixOrThrow(result: number, syscall: string): number {
  if (result < 0) throw unixError(result, syscall);
  return result;
}

/**
 * A Unix socket call's error. Where the OS has no AF_UNIX at all (a Windows
 * without the AF_UNIX provider: before Windows 10 1803, or Wine), the
 * EAFNOSUPPORT says so in words.
 */
function unixError(result: number, syscall: string): IOError {
  const error = ioErrorFromResult(result, syscall);
  if (error.code !== 'EAFNOSUPPORT' || binding.unixSocketsAvailable()) return error;
  return new IOError(
    error.code,
    result,
    syscall,
    `${syscall} EAFNOSUPPORT: this Windows has no AF_UNIX provider, so Unix domain sockets cannot work here ` +
      '(they need Windows 10 1803 or later; Wine has none)',
  );
}

function toAddress(raw: [string, number, number], syscall: string): SocketAddress {
  const [address, port, family] = raw;
  if (family < 0) throw ioErrorFromResult(family, syscall);
  return { address, port, family: family === 6 ? 'IPv6' : 'IPv4' };
}


function checkRegistrable(name: string, view: ArrayBufferView): void {
  if (!(view.buffer instanceof ArrayBuffer)) {
    throw new TypeError(`tigerio: ${name} of sendTo/recvFrom must be backed by an ArrayBuffer, not a SharedArrayBuffer`);
  }
}

function checkAddressBuffer(address: unknown): void {
  if (!(address instanceof Uint8Array)) {
    throw new TypeError(`tigerio: address must be an address object from io.addressBuffer(), got ${describe(address)}`);
  }
  if (address.byteLength !== ADDRESS_BYTES) {
    throw new RangeError(`tigerio: address must be ${ADDRESS_BYTES} bytes (io.addressBuffer()), got ${address.byteLength}`);
  }
  checkRegistrable('address', address);
}

function checkDatagramLength(length: number, max: number, bufferSizeMax: number): void {
  if (length > max) throw new RangeError(`tigerio: a UDP datagram carries at most ${max} bytes, got ${length}`);
  if (length > bufferSizeMax) {
    throw new RangeError(`tigerio: a datagram of ${length} bytes is longer than this IO's bufferSizeMax (${bufferSizeMax}) and cannot be split`);
  }
}

/** A Unix socket path: 1..unixPathMax bytes of UTF-8; NUL only first, and only where the abstract namespace exists. */
function checkUnixPath(path: unknown): string {
  if (typeof path !== 'string') throw new TypeError(`tigerio: path must be a string, got ${describe(path)}`);
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes === 0 || bytes > UNIX_PATH_MAX) {
    throw new RangeError(`tigerio: a Unix socket path is 1..${UNIX_PATH_MAX} bytes on this OS, got ${bytes}`);
  }
  const nul = path.indexOf('\0');
  if (nul > 0 || (nul === 0 && path.indexOf('\0', 1) > 0)) {
    throw new TypeError('tigerio: a Unix socket path may contain NUL only as its first byte (the abstract namespace)');
  }
  if (nul === 0 && !UNIX_ABSTRACT) {
    throw new RangeError("tigerio: a path starting with NUL (Linux's abstract namespace) is not supported on this OS");
  }
  return path;
}
