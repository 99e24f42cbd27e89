// Error numbers in libuv's convention: negative, equal to -errno on POSIX
// (libuv's own fixed numbers on Windows), so that JS names them with
// util.getSystemErrorName() and the same condition gets the same name on
// every OS. Backends return these; nothing else crosses the boundary.
#pragma once

#include <cerrno>

namespace tigerio {

#ifdef _WIN32
// Node's Windows build numbers errors as libuv's win/errno mapping does.
constexpr int kErrCanceled = -4081;
constexpr int kErrAgain = -4088;
constexpr int kErrBadFd = -4083;
constexpr int kErrInvalid = -4071;
constexpr int kErrNoMemory = -4057;
constexpr int kErrNotSupported = -4049;
constexpr int kErrTooManyFiles = -4066;
constexpr int kErrBusy = -4082;
#else
constexpr int kErrCanceled = -ECANCELED;
constexpr int kErrAgain = -EAGAIN;
constexpr int kErrBadFd = -EBADF;
constexpr int kErrInvalid = -EINVAL;
constexpr int kErrNoMemory = -ENOMEM;
constexpr int kErrNotSupported = -ENOTSUP;
constexpr int kErrTooManyFiles = -EMFILE;
constexpr int kErrBusy = -EBUSY;
#endif

}  // namespace tigerio
