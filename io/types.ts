/**
 * Completion callback of every operation. Exactly one call per submitted
 * operation, never inside the call that submitted it.
 *
 * @param error - `null` on success, otherwise the {@link IOError}.
 * @param result - On success: bytes transferred (`recv`, `send`, `read`,
 *   `write`; `recv` of 0 means the peer closed), the new fd (`accept`,
 *   `open`), the file's size in bytes (`fileSize`, exact up to 2^53 - 1),
 *   or 0 (`connect`, `timeout`, `close`, `eventListen`, `fsync`,
 *   `fdatasync`, `truncate`, `allocate`). 0 on error.
 */
export type Callback = (error: import('./errors').IOError | null, result: number) => void;

/**
 * How a process ended, as {@link IO.processExit} reports it: `code` when it
 * exited (0-255), `signal` (a name such as `'SIGKILL'`) when a signal killed
 * it, both `null` when it exited but its status was already reaped by
 * someone else (a child of node:child_process, which reaps its own
 * children: read the status from the ChildProcess's `'exit'` event).
 */
export interface ProcessExit {
  /** The exit code (0-255; on Windows the whole 32-bit code), or null when a signal ended it or the status is gone. */
  code: number | null;
  /** The name of the signal that killed it (`'SIGKILL'`, ...), or null. */
  signal: string | null;
}

/** processExit's callback: `exit` is {@link ProcessExit}; on error both its fields are null. */
export type ProcessExitCallback = (error: import('./errors').IOError | null, exit: ProcessExit) => void;

/**
 * Completion callback of {@link IO.recvPooled}. Exactly one call per
 * submitted operation, never inside the call that submitted it.
 *
 * @param error - `null` on success, otherwise the {@link IOError}.
 * @param bytes - Bytes received into `buffer`; 0 means the peer closed. 0 on error.
 * @param buffer - When `bytes` > 0: the pool's buffer holding them (its
 *   first `bytes` bytes), now the caller's until `pool.release(buffer)`.
 *   `null` when nothing was received.
 */
export type PooledCallback = (error: import('./errors').IOError | null, bytes: number, buffer: Uint8Array | null) => void;

/** An operation id, as returned by every submitting method; pass it to `cancel()`. */
export type OperationId = number;

/** A cross-thread event handle: a plain number, safe to send to a worker. */
export type EventHandle = number;

/** Address family of {@link IO.socket}. */
export type SocketFamily = 'ipv4' | 'ipv6';

/** A socket's address, as `localAddress()` and `remoteAddress()` report it. */
export interface SocketAddress {
  /** IP literal: `127.0.0.1`, `::1`, ... */
  address: string;
  /** Port number. */
  port: number;
  /** Address family, spelled as node:net spells it. */
  family: 'IPv4' | 'IPv6';
}

/**
 * Which side of a connection {@link IO.shutdown} ends: `send` (the peer's
 * recv then reads 0, end of stream, while this side can still receive),
 * `receive`, or `both`.
 */
export type ShutdownHow = 'send' | 'receive' | 'both';

/** Options of {@link IO.listen}. */
export interface ListenOptions {
  /** Length of the kernel's accept queue. Default 511, range 1..65535. */
  backlog?: number;
  /** Set SO_REUSEPORT so that several listeners (one per thread) share a port. Default false. */
  reusePort?: boolean;
}

/** Options of {@link IO.listenUnix}. */
export interface ListenUnixOptions {
  /** Length of the kernel's accept queue. Default 511, range 1..65535. */
  backlog?: number;
}

/**
 * How `open()` opens a file, spelled as node:fs spells it:
 * `r` read; `r+` read and write; `w` write, create, truncate; `wx` as `w`
 * but fail if it exists; `w+`/`wx+` as `w`/`wx` and read; `a` append,
 * create; `ax` as `a` but fail if it exists; `a+`/`ax+` as `a`/`ax` and read.
 */
export type OpenFlags = 'r' | 'r+' | 'w' | 'wx' | 'w+' | 'wx+' | 'a' | 'ax' | 'a+' | 'ax+';

/** Options of {@link IO.rename}. */
export interface RenameOptions {
  /**
   * Fail with `EEXIST` instead of replacing an existing `to`, atomically
   * (Linux renameat2 RENAME_NOREPLACE, macOS renamex_np RENAME_EXCL,
   * Windows MoveFileEx without MOVEFILE_REPLACE_EXISTING). `ENOTSUP` where
   * the OS has no such call; `EINVAL` where the file system refuses it.
   */
  noReplace?: boolean;
}

/**
 * Options of {@link IO.open} (the third argument may also be a mode number, or undefined).
 */
export interface OpenOptions {
  /** Permission bits for a file the open creates, before the umask. Default 0o666, range 0..0o7777. Ignored on Windows. */
  mode?: number;
  /**
   * Direct I/O: bypass the OS's page cache (O_DIRECT on Linux, F_NOCACHE on
   * macOS, FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH on Windows).
   * Every read and write on the fd must then have its buffer's address, its
   * length and its position multiples of {@link IO.directAlignment} (use
   * {@link IO.alignedBuffer}), or it fails with `EINVAL`. A file system that
   * refuses direct I/O fails the open with `EINVAL`. Default false.
   */
  direct?: boolean;
}

/** Options of the {@link IO} constructor. Every limit is bounded and checked. */
export interface IOOptions {
  /** Backend name (`IO.backends()` lists the usable ones). Default: the best one this machine has. */
  backend?: string;
  /**
   * With `backend: 'simulation'`: the seed of the IO's own simulated world
   * (an integer, 0..2^53-1; default 0). Faults are off in such a world; use
   * {@link Simulation} for faults and for several IOs on one world.
   */
  seed?: number;
  /**
   * Completions harvested per tick, and the kernel ring size where the backend
   * has one. Default 256, range 1..4096. Operations beyond it are not lost:
   * they wait in the IO and complete on later ticks.
   */
  entries?: number;
  /**
   * Operations in flight at once: submitted and not yet completed. (Completed
   * ones whose callbacks are running in the current batch, at most `entries`,
   * do not count: a callback may always submit the next operation.)
   * Default 65536, range 1..1044480. A submission beyond it throws a
   * RangeError (code `ERR_IO_FULL`) at the call, and nothing is submitted.
   */
  operationsMax?: number;
  /**
   * Bytes one `recv`/`send`/`read`/`write` transfers at most; longer buffers
   * are clamped (the operation is partial, as the kernel may make it anyway).
   * Default 0x7ffff000 (Linux's own per-call limit), range 1..0x7ffff000.
   */
  bufferSizeMax?: number;
  /**
   * Size of the IO's fd table, set once: operations can name fds whose
   * number (a Windows handle's value / 4) is below it. An operation on a
   * larger fd fails with `EBADF`. Default 65536, range 1..16777216; each
   * entry is 32 bytes (48 on Windows) of memory touched only when used.
   */
  fdsMax?: number;
  /**
   * Threads of the IO's file-work pool at most: on epoll, kqueue and IOCP,
   * file and path operations (open, read, write, fsync, rename, ...) run
   * there, off the loop thread, so a slow disk never stalls the sockets.
   * Threads start when file work first needs one and end at `deinit()`.
   * io_uring does file work in the kernel and starts none. Default 4,
   * range 1..64.
   */
  fileThreads?: number;
}

/** Every limit of an IO, as the native layer defines them (`IO.limits`). */
export interface IOLimits {
  /** Largest `entries` option. */
  readonly entriesMax: number;
  /** Default `entries`. */
  readonly entriesDefault: number;
  /** Largest `operationsMax` option. */
  readonly operationsMaxLimit: number;
  /** Default `operationsMax`. */
  readonly operationsMaxDefault: number;
  /** Largest `bufferSizeMax` option. */
  readonly bufferSizeMaxLimit: number;
  /** Default `bufferSizeMax`. */
  readonly bufferSizeMaxDefault: number;
  /** Largest `fdsMax` option. */
  readonly fdsMaxLimit: number;
  /** Default `fdsMax`. */
  readonly fdsMaxDefault: number;
  /** Largest `fileThreads` option (threads of an IO's file-work pool). */
  readonly fileThreadsMax: number;
  /** The `fileThreads` an IO has when the option is not given. */
  readonly fileThreadsDefault: number;
  /** Cross-thread events open at once per IO. */
  readonly eventsPerIOMax: number;
  /** Buffer pools per IO (`bufferPool`). */
  readonly poolsPerIOMax: number;
  /** Buffers per pool. */
  readonly poolBuffersMax: number;
  /** Longest timeout, in nanoseconds. */
  readonly timeoutNsMax: number;
  /** Largest file position, truncate length, or allocate offset + length, in bytes (2^53 - 1). */
  readonly fileBytesMax: number;
  /** Alignment of direct I/O, in bytes: the same as `IO.directAlignment`. */
  readonly directAlignment: number;
  /** The largest UDP datagram `sendTo` takes to an IPv4 peer: 65507 bytes. */
  readonly datagramIpv4Max: number;
  /** The largest UDP datagram `sendTo` takes to an IPv6 peer: 65527 bytes. */
  readonly datagramIpv6Max: number;
  /** The longest Unix socket path, in bytes of UTF-8 (107 on Linux and Windows, 103 on macOS). */
  readonly unixPathMax: number;
  /** Bytes of an address object (`io.addressBuffer()`). */
  readonly addressBytes: number;
}
