// Where Unix domain stream sockets (issue 14) can run, per backend. Every
// POSIX backend has them, and so has the simulation's world. On iocp
// it is the OS's say: Windows has an AF_UNIX provider from Windows 10 1803
// on, and Wine 8.0 has none (socket(AF_UNIX) fails with WSAEAFNOSUPPORT).
// So iocp is probed once, through the public API: io.socket('unix') either
// gives a socket or throws EAFNOSUPPORT.
import { IO, IOError } from '../../io';

export interface UnixSupport {
  /** True if Unix sockets work on this backend here. */
  readonly supported: boolean;
  /** Why not, for the skipped tests' titles; '' when supported. */
  readonly reason: string;
  /** The code listenUnix, socket('unix') and connectUnix fail with where unsupported; '' when supported. */
  readonly code: string;
}

/** The reason the Unix socket tests give where Windows has no AF_UNIX. */
export const NO_AF_UNIX_REASON = 'this Windows has no AF_UNIX provider (Wine 8.0 has none)';

const known = new Map<string, UnixSupport>();

export function unixSupport(backend: string): UnixSupport {
  let support = known.get(backend);
  if (support === undefined) {
    support = probe(backend);
    known.set(backend, support);
  }
  return support;
}

function probe(backend: string): UnixSupport {
  if (backend !== 'iocp') return { supported: true, reason: '', code: '' };
  const io = new IO({ backend });
  try {
    const fd = io.socket('unix');
    io.close(fd, () => {});
    io.run();
    return { supported: true, reason: '', code: '' };
  } catch (error) {
    // Anything but "no such address family" is a failure to report, not a reason to skip.
    if (!(error instanceof IOError) || error.code !== 'EAFNOSUPPORT') throw error;
    return { supported: false, reason: NO_AF_UNIX_REASON, code: 'EAFNOSUPPORT' };
  } finally {
    io.deinit();
  }
}
