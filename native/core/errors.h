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
// The rest of libuv's Windows numbers (include/uv/errno.h) that the IOCP
// backend maps Winsock and Win32 errors to (backend/win32.cc).
constexpr int kErrAccess = -4092;
constexpr int kErrAddressInUse = -4091;
constexpr int kErrAddressNotAvailable = -4090;
constexpr int kErrAddressFamily = -4089;
constexpr int kErrAlready = -4084;
constexpr int kErrConnectionAborted = -4079;
constexpr int kErrConnectionRefused = -4078;
constexpr int kErrConnectionReset = -4077;
constexpr int kErrExists = -4075;
constexpr int kErrFault = -4074;
constexpr int kErrHostUnreachable = -4073;
constexpr int kErrIO = -4070;
constexpr int kErrIsConnected = -4069;
constexpr int kErrIsDirectory = -4068;
constexpr int kErrMessageSize = -4065;
constexpr int kErrNameTooLong = -4064;
constexpr int kErrNetworkUnreachable = -4062;
constexpr int kErrNoBuffers = -4060;
constexpr int kErrNoEntry = -4058;
constexpr int kErrNoSpace = -4055;
constexpr int kErrNotConnected = -4053;
constexpr int kErrNotDirectory = -4052;
constexpr int kErrNotSocket = -4050;
constexpr int kErrPermission = -4048;
constexpr int kErrPipe = -4047;
constexpr int kErrTimedOut = -4039;
constexpr int kErrFileTooBig = -4036;
constexpr int kErrUnknown = -4094;
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
