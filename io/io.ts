// The IO: submits operations to the native layer and dispatches their
// completions. Completions cross the JS/C++ boundary in batches: one native
// call per tick writes (kind|slot, result) pairs into a shared Int32Array,
// and this file calls callbacks[slot] for each. No JS object per operation
// beyond the caller's own callback.
import { binding, type NativeIO, type NativeWorld } from './native';
import { worldOf } from './world';
import { deinitializedError, ioErrorFromResult } from './errors';
import { IOPromises } from './promises';
import type {
  Callback,
  EventHandle,
  IOLimits,
  IOOptions,
  ListenOptions,
  OpenFlags,
  OperationId,
  ShutdownHow,
  SocketAddress,
  SocketFamily,
} from './types';
import {
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
const OPERATION_NAMES = layout.operationNames;
const STATE_INFLIGHT = layout.stateInflight;
const STATE_UNDELIVERED = layout.stateUndelivered;

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
const POSITION_MAX = Number.MAX_SAFE_INTEGER;
const FILE_MODE_DEFAULT = 0o666;

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
export class IO {
  /** Backends usable on this machine, best first. The first is the default. */
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
    eventsPerIOMax: layout.eventsPerIOMax,
    timeoutNsMax: layout.timeoutNsMax,
  });

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
  private readonly state: Int32Array;
  /** Callback of the operation in each slot; undefined when the slot is free. */
  private readonly callbacks: (Callback | undefined)[] = [];
  /** Keeps each operation's buffer reachable until its callback (contract rule 3). */
  private readonly buffers: (ArrayBufferView | undefined)[] = [];
  /** The current batch: pairs [batchIndex, batchCount) of `completions` are not yet dispatched. */
  private batchIndex = 0;
  private batchCount = 0;
  private dispatching = false;
  private attachedToLoop = false;
  private deinitializing = false;

  constructor(options?: IOOptions) {
    const opts = checkObject('options', options);
    const backends = binding.backends();
    const backend = opts.backend === undefined ? backends[0] : opts.backend;
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
    // A simulated IO joins a world: the one its Simulation made, or its own.
    this.world = backend === 'simulation' ? worldOf(opts) : null;
    if (this.world === null && opts.seed !== undefined) {
      throw new TypeError("tigerio: options.seed is for backend 'simulation' only");
    }
    this.completions = new Int32Array(entries * 2);
    this.state = new Int32Array(layout.stateLength);
    this.native = new binding.NativeIO(
      this.world === null ? backend : `simulation:${this.world.id}`,
      entries, operationsMax, bufferSizeMax, fdsMax, this.completions, this.state);
    this.backend = this.native.backend;
    this.promises = new IOPromises(this);
  }

  /** Operations submitted whose callback has not run yet. */
  get pending(): number {
    return this.state[STATE_INFLIGHT] + (this.batchCount - this.batchIndex);
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
    const native = this.live('listen');
    checkHost(host);
    checkInteger('port', port, 0, 65535);
    const opts = checkObject('options', options);
    const backlog = optionalInteger('options.backlog', opts.backlog, LISTEN_BACKLOG_DEFAULT, 1, 65535);
    const reusePort = opts.reusePort ?? false;
    if (typeof reusePort !== 'boolean') {
      throw new TypeError(`tigerio: options.reusePort must be a boolean, got ${describe(reusePort)}`);
    }
    return orThrow(native.listen(host, port, backlog, reusePort), 'listen');
  }

  /**
   * Opens a non-blocking TCP socket (TCP_NODELAY set) for `connect()`.
   * @returns the socket's fd.
   */
  socket(family: SocketFamily): number {
    const native = this.live('socket');
    if (family !== 'ipv4' && family !== 'ipv6') {
      throw new TypeError(`tigerio: family must be 'ipv4' or 'ipv6', got ${describe(family)}`);
    }
    return orThrow(native.socket(family === 'ipv6'), 'socket');
  }

  /** The local address of a socket (after listen, connect or accept). */
  localAddress(fd: number): SocketAddress {
    const native = this.live('localAddress');
    return toAddress(native.localAddress(checkFd(fd)), 'getsockname');
  }

  /** The peer address of a connected socket. */
  remoteAddress(fd: number): SocketAddress {
    const native = this.live('remoteAddress');
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
    const native = this.live('shutdown');
    checkFd(fd);
    const bits = how === 'send' ? 1 : how === 'receive' ? 2 : how === 'both' ? 3 : 0;
    if (bits === 0) {
      throw new TypeError(`tigerio: how must be 'send', 'receive' or 'both', got ${describe(how)}`);
    }
    orThrow(native.shutdown(fd, bits), 'shutdown');
  }

  // ---- Operations ------------------------------------------------------------

  /** Accepts a connection on a listening fd. Result: the new socket's fd (non-blocking, TCP_NODELAY). */
  accept(fd: number, callback: Callback): OperationId {
    const native = this.live('accept');
    checkFd(fd);
    checkCallback(callback);
    return this.track(native.accept(fd), callback, undefined);
  }

  /** Connects a socket from `socket()` to an IP literal and port. Result: 0. */
  connect(fd: number, host: string, port: number, callback: Callback): OperationId {
    const native = this.live('connect');
    checkFd(fd);
    checkHost(host);
    checkInteger('port', port, 1, 65535);
    checkCallback(callback);
    return this.track(native.connect(fd, host, port), callback, undefined);
  }

  /** Receives into `buffer`. Result: bytes received; 0 means the peer closed. */
  recv(fd: number, buffer: Uint8Array, callback: Callback): OperationId {
    const native = this.live('recv');
    checkFd(fd);
    checkBuffer(buffer);
    checkCallback(callback);
    return this.track(native.recv(fd, buffer), callback, buffer);
  }

  /** Sends from `buffer`. Result: bytes sent, which may be fewer than asked. Never raises SIGPIPE. */
  send(fd: number, buffer: Uint8Array, callback: Callback): OperationId {
    const native = this.live('send');
    checkFd(fd);
    checkBuffer(buffer);
    checkCallback(callback);
    return this.track(native.send(fd, buffer), callback, buffer);
  }

  /** Completes after at least `nanoseconds` on the monotonic clock. Result: 0. */
  timeout(nanoseconds: number, callback: Callback): OperationId {
    const native = this.live('timeout');
    checkInteger('nanoseconds', nanoseconds, 0, TIMEOUT_NS_MAX);
    checkCallback(callback);
    return this.track(native.timeout(nanoseconds), callback, undefined);
  }

  /**
   * Closes an fd. Operations pending on it complete with `ECANCELED` before
   * this callback runs. Result: 0.
   */
  close(fd: number, callback: Callback): OperationId {
    const native = this.live('close');
    checkFd(fd);
    checkCallback(callback);
    return this.track(native.close(fd), callback, undefined);
  }

  /** Opens a file. Result: its fd. `mode` (default 0o666) applies when the file is created. */
  open(path: string, flags: OpenFlags, mode: number | undefined, callback: Callback): OperationId {
    const native = this.live('open');
    checkString('path', path);
    if (typeof flags !== 'string' || !Object.prototype.hasOwnProperty.call(OPEN_FLAGS, flags)) {
      throw new TypeError(`tigerio: flags must be one of ${Object.keys(OPEN_FLAGS).join(' ')}, got ${describe(flags)}`);
    }
    const fileMode = mode === undefined ? FILE_MODE_DEFAULT : checkInteger('mode', mode, 0, 0o7777);
    checkCallback(callback);
    return this.track(native.open(path, OPEN_FLAGS[flags], fileMode), callback, undefined);
  }

  /** Reads from a file at `position` (null: the current position). Result: bytes read; 0 at end of file. */
  read(fd: number, buffer: Uint8Array, position: number | null, callback: Callback): OperationId {
    const native = this.live('read');
    checkFd(fd);
    checkBuffer(buffer);
    const at = position === null ? -1 : checkInteger('position', position, 0, POSITION_MAX);
    checkCallback(callback);
    return this.track(native.read(fd, buffer, at), callback, buffer);
  }

  /** Writes to a file at `position` (null: the current position). Result: bytes written. */
  write(fd: number, buffer: Uint8Array, position: number | null, callback: Callback): OperationId {
    const native = this.live('write');
    checkFd(fd);
    checkBuffer(buffer);
    const at = position === null ? -1 : checkInteger('position', position, 0, POSITION_MAX);
    checkCallback(callback);
    return this.track(native.write(fd, buffer, at), callback, buffer);
  }

  /**
   * Cancels one operation: it completes with `ECANCELED` unless it has
   * completed already (then its callback gets its own result).
   * @returns true when the operation was pending and is now cancelled.
   */
  cancel(operation: OperationId): boolean {
    const native = this.live('cancel');
    checkInteger('operation', operation, 0, Number.MAX_SAFE_INTEGER);
    return native.cancel(operation);
  }

  // ---- Cross-thread events --------------------------------------------------

  /**
   * Opens a cross-thread event owned by this IO. Pass the handle to any
   * thread; `IO.eventTrigger(handle)` there wakes this IO's listener.
   * At most `IO.limits.eventsPerIOMax` (64) events per IO.
   */
  eventOpen(): EventHandle {
    return this.live('eventOpen').eventOpen();
  }

  /** Waits for the event to be triggered. One callback per listen; result 0. One listener at a time. */
  eventListen(handle: EventHandle, callback: Callback): OperationId {
    const native = this.live('eventListen');
    checkInteger('handle', handle, 1, 0xffffffff);
    checkCallback(callback);
    return this.track(native.eventListen(handle), callback, undefined);
  }

  /** Closes an event of this IO; its pending listener completes with `ECANCELED`. */
  eventClose(handle: EventHandle): void {
    const native = this.live('eventClose');
    checkInteger('handle', handle, 1, 0xffffffff);
    native.eventClose(handle);
  }

  // ---- Driving ------------------------------------------------------------------

  /** Submits what is queued, harvests what is ready without blocking, runs those callbacks. */
  tick(): void {
    this.checkDrivable('tick');
    this.pollAndDispatch(0);
  }

  /**
   * Runs callbacks as operations complete, for `nanoseconds` on the
   * monotonic clock; returns once that time has passed.
   */
  runForNs(nanoseconds: number): void {
    this.checkDrivable('runForNs');
    checkInteger('nanoseconds', nanoseconds, 0, TIMEOUT_NS_MAX);
    const deadline = this.clockNs() + BigInt(nanoseconds);
    this.pollAndDispatch(0);
    // A callback may deinit() the IO: then there is nothing left to run.
    while (this.native !== null) {
      const remaining = Number(deadline - this.clockNs());
      if (remaining <= 0) return;
      if (this.world !== null && this.state[STATE_INFLIGHT] === 0 && this.batchIndex >= this.batchCount) {
        // Simulated, nothing pending: no callback can come, and virtual time
        // passes only if someone moves it (the native poll does not wait then).
        this.world.runUntil(Number(deadline));
        return;
      }
      this.pollAndDispatch(remaining);
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
    const native = this.live('attach');
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
      native.cancelAll();
      while (this.state[STATE_INFLIGHT] > 0) {
        this.batchCount = native.poll(0);
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
    }
    if (failed) throw failure;
  }

  // ---- Internals ----------------------------------------------------------------

  private live(method: string): NativeIO {
    if (this.native === null || this.deinitializing) throw deinitializedError(method);
    return this.native;
  }

  /** The clock runForNs() counts on: the monotonic clock, or a simulated world's virtual one. */
  private clockNs(): bigint {
    return this.world === null ? process.hrtime.bigint() : BigInt(this.world.nowNs());
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

  private track(id: OperationId, callback: Callback, buffer: ArrayBufferView | undefined): OperationId {
    const slot = id & SLOT_MASK;
    this.callbacks[slot] = callback;
    this.buffers[slot] = buffer;
    return id;
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
    this.batchCount = native.poll(timeoutNs);
    this.batchIndex = 0;
    this.dispatch();
  }

  /** Called by the native layer from Node's event loop when the IO is attached. */
  private dispatchFromLoop(): void {
    try {
      if (this.native !== null && !this.deinitializing) {
        // Simulated: when nothing in the world is runnable, its clock moves to the next event.
        if (this.world !== null) this.world.step(-1);
        this.pollAndDispatch(0);
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
    const callbacks = this.callbacks;
    const buffers = this.buffers;
    this.dispatching = true;
    try {
      while (this.batchIndex < this.batchCount) {
        const index = this.batchIndex++ << 1;
        const word = completions[index];
        const result = completions[index + 1];
        const slot = word & SLOT_MASK;
        const callback = callbacks[slot]!;
        callbacks[slot] = undefined;
        buffers[slot] = undefined;
        if (result >= 0) callback(null, result);
        else callback(ioErrorFromResult(result, OPERATION_NAMES[word >>> KIND_SHIFT]), 0);
      }
    } finally {
      this.dispatching = false;
    }
  }
}

function optionalInteger(name: string, value: unknown, fallback: number, min: number, max: number): number {
  return value === undefined ? fallback : checkInteger(name, value, min, max);
}

function orThrow(result: number, syscall: string): number {
  if (result < 0) throw ioErrorFromResult(result, syscall);
  return result;
}

function toAddress(raw: [string, number, number], syscall: string): SocketAddress {
  const [address, port, family] = raw;
  if (family < 0) throw ioErrorFromResult(family, syscall);
  return { address, port, family: family === 6 ? 'IPv6' : 'IPv4' };
}

