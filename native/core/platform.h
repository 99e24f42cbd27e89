// The few facts that differ per OS and that the core must know. The core
// declares them; the backend layer defines them, once per OS family
// (backend/posix.cc, backend/win32.cc), so the core has no #ifdef, but for
// the sizes below: they bound arrays, so they must be known where the core
// is compiled.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tigerio {

// fd numbers are handle values shifted right by this to index a table:
// 0 on POSIX (fds are small dense numbers); 2 on Windows (handles are
// multiples of 4, the kernel ignores the two low bits).
extern const uint32_t kFdIndexShift;

// Every pending op and every fd an IO uses carry these bytes for their
// backend (an idle connection holds one of each), so they are sized for
// the largest user of the OS's backends, not for any backend at all. Each
// user asserts that it fits; a change here changes sizeof(Op) and
// sizeof(FdEntry), which their own asserts pin.
#if defined(_WIN32)
// Op::scratch: IOCP's Scratch (an OVERLAPPED, the socket AcceptEx accepts
// into and its two addresses: 128 bytes); the simulation's Waiter fits too.
constexpr size_t kOpScratchBytes = 128;
// FdEntry::backend: IOCP's FdState (a file's position, a socket's family and flags).
constexpr size_t kFdBackendBytes = 16;
#else
// Op::scratch: io_uring's UringOp, the thread pool's PoolRecord and the
// simulation's Waiter, 24 bytes each (a datagram's msghdr and a fileSize's
// statx buffer, which are larger, come from io_uring's pools).
constexpr size_t kOpScratchBytes = 24;
// FdEntry::backend: the readiness backends' FdState (5 bytes; io_uring's is 1).
constexpr size_t kFdBackendBytes = 6;
#endif
// Both hold pointers and int64s.
constexpr size_t kOpScratchAlignment = 8;

}  // namespace tigerio
