import { getSystemErrorName } from 'node:util';

/**
 * The error every failed operation reports in its callback, and every failed
 * synchronous socket helper throws.
 *
 * `code` is the POSIX name of the condition (`ECONNRESET`, `ECANCELED`,
 * `EPIPE`, ...) and is the same on every OS; `errno` is the platform's
 * number for it in Node's convention (negative, as in node:fs and node:net);
 * `syscall` names the operation that failed (`recv`, `send`, `accept`, ...).
 */
export class IOError extends Error {
  /** POSIX name of the error, identical on every OS: `ECONNRESET`, `ECANCELED`, ... */
  readonly code: string;
  /** The platform's (negative, libuv-style) error number. */
  readonly errno: number;
  /** The operation or system call that failed. */
  readonly syscall: string;
  /**
   * True when the operation was abandoned: its `code` is `ECANCELED`
   * because the kernel never answered the cancel (a cancel, close or
   * deinit asks again for about 5 s, then gives up so as never to wait
   * without bound). The kernel may still write into (or read from) the
   * operation's buffer later, so the IO keeps that buffer reachable for the
   * life of the process: never reuse it. False for every other error.
   */
  readonly abandoned: boolean;

  constructor(code: string, errno: number, syscall: string, message?: string, abandoned = false) {
    super(message ?? `${syscall} ${code}`);
    this.name = 'IOError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
    this.abandoned = abandoned;
  }
}

/** The error of an abandoned operation (see IOError.abandoned): always ECANCELED. */
export function abandonedError(result: number, syscall: string): IOError {
  const code = errorCodeName(result);
  const message = `${syscall} ${code}: abandoned, the kernel never answered the cancel; it may still use the buffer, which is kept: never reuse it`;
  return new IOError(code, result, syscall, message, true);
}

/** Builds an IOError from a negative result of the native layer. */
export function ioErrorFromResult(result: number, syscall: string): IOError {
  return new IOError(errorCodeName(result), result, syscall);
}

function errorCodeName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return 'EUNKNOWN';
  }
}

/** Thrown at the call when the IO was deinitialized, or is being. */
export function deinitializedError(method: string): TypeError {
  const error = new TypeError(`tigerio: ${method}() called on an IO that has been deinitialized; make a new IO`);
  (error as TypeError & { code: string }).code = 'ERR_IO_DEINITIALIZED';
  return error;
}

/** The RangeError a submission throws when `operationsMax` operations are in flight: nothing was submitted. */
export function fullError(operationsMax: number): RangeError {
  const error = new RangeError(
    `tigerio: too many operations in flight (operationsMax is ${operationsMax}); nothing was submitted: ` +
      'let callbacks complete first, or give new IO({ operationsMax }) more',
  ) as RangeError & { code: string };
  error.code = 'ERR_IO_FULL';
  return error;
}
