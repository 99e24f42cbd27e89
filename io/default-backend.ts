// The backend an IO gets when its options name none. Internal.
//
// The native layer lists the usable backends best first (on Linux io_uring,
// where the kernel has what the backend needs and lets this process use it;
// epoll otherwise). Where io_uring is turned off (the kernel.io_uring_disabled
// sysctl, or a container's seccomp filter: EPERM), the default is epoll, and
// the process is told so once, with the reason, as a warning: the figures it
// gets are then epoll's.
import { binding } from './native';

let fallbackChecked = false;

/** The first of `backends` (the best usable one), warning once per process when Linux's io_uring is not among them. */
export function defaultBackend(backends: readonly string[]): string {
  if (!fallbackChecked) {
    // The native probe runs once and its answer never changes (null off Linux): ask it once.
    fallbackChecked = true;
    const reason = binding.defaultBackendFallback();
    if (reason !== null) {
      process.emitWarning(`tigerio: io_uring is unavailable here (${reason}); the default backend is epoll`, {
        code: 'TIGERIO_IO_URING_UNAVAILABLE',
      });
    }
  }
  return backends[0];
}
