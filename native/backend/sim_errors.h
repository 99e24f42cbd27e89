// The error numbers the simulation produces, in libuv's convention (the
// same numbers the OS's own backends report: -errno on POSIX, libuv's
// fixed numbers on Windows), so JS names them identically on every OS.
#pragma once

#include <cstdint>

#ifndef _WIN32
#include <cerrno>
#endif

namespace tigerio {
namespace sim {

#ifdef _WIN32
// libuv's include/uv/errno.h values where the C runtime has no such errno.
constexpr int32_t kAddressInUse = -4091, kAddressFamily = -4089, kAlready = -4084, kBadFd = -4083,
                  kCanceled = -4081, kConnectionRefused = -4078, kConnectionReset = -4077, kExists = -4075,
                  kInvalid = -4071, kIO = -4070, kIsConnected = -4069, kTooManyFiles = -4066, kNoEntry = -4058,
                  kNotConnected = -4053, kNotSocket = -4050, kPipe = -4047, kNoSpace = -4055;
#else
constexpr int32_t kAddressInUse = -EADDRINUSE, kAddressFamily = -EAFNOSUPPORT, kAlready = -EALREADY,
                  kBadFd = -EBADF, kCanceled = -ECANCELED, kConnectionRefused = -ECONNREFUSED,
                  kConnectionReset = -ECONNRESET, kExists = -EEXIST, kInvalid = -EINVAL, kIO = -EIO,
                  kIsConnected = -EISCONN, kTooManyFiles = -EMFILE, kNoEntry = -ENOENT,
                  kNotConnected = -ENOTCONN, kNotSocket = -ENOTSOCK, kPipe = -EPIPE, kNoSpace = -ENOSPC;
#endif

}  // namespace sim
}  // namespace tigerio
