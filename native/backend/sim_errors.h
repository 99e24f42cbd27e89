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
                  kNotConnected = -4053, kNotSocket = -4050, kPipe = -4047, kNoSpace = -4055,
                  kAgain = -4088, kMessageSize = -4065, kNoDevice = -4033, kDestinationRequired = -4076,
                  kNotSupported = -4049;
// The file namespace's (appended).
constexpr int32_t kIsDirectory = -4068, kNotDirectory = -4052, kNotEmpty = -4051;
constexpr int32_t kNoSuchProcess = -4040;
#else
constexpr int32_t kAddressInUse = -EADDRINUSE, kAddressFamily = -EAFNOSUPPORT, kAlready = -EALREADY,
                  kBadFd = -EBADF, kCanceled = -ECANCELED, kConnectionRefused = -ECONNREFUSED,
                  kConnectionReset = -ECONNRESET, kExists = -EEXIST, kInvalid = -EINVAL, kIO = -EIO,
                  kIsConnected = -EISCONN, kTooManyFiles = -EMFILE, kNoEntry = -ENOENT,
                  kNotConnected = -ENOTCONN, kNotSocket = -ENOTSOCK, kPipe = -EPIPE, kNoSpace = -ENOSPC,
                  kAgain = -EAGAIN, kMessageSize = -EMSGSIZE, kNoDevice = -ENXIO, kDestinationRequired = -EDESTADDRREQ,
                  kNotSupported = -ENOTSUP;
constexpr int32_t kIsDirectory = -EISDIR, kNotDirectory = -ENOTDIR, kNotEmpty = -ENOTEMPTY;
constexpr int32_t kNoSuchProcess = -ESRCH;
#endif

// The same small number for the same error on every OS (the values above
// differ per OS), so that the trace hash is equal across OSes; 0 for none of them.
inline uint32_t error_ordinal(int32_t error) {
  static const int32_t errors[] = {kAddressInUse, kAddressFamily, kAlready,      kBadFd,        kCanceled,
                                   kConnectionRefused, kConnectionReset, kExists, kInvalid,  kIO,
                                   kIsConnected, kTooManyFiles, kNoEntry, kNotConnected, kNotSocket,
                                   kPipe, kNoSpace,
                                   // Datagrams', Unix sockets' and sendFile's (appended: the ordinals above keep their numbers, and so do traces).
                                   kAgain, kMessageSize, kNoDevice, kDestinationRequired,
                                   kNotSupported,
                                   // The file namespace's (appended).
                                   kIsDirectory, kNotDirectory, kNotEmpty,
                                   // processExit's (appended).
                                   kNoSuchProcess};
  for (uint32_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
    if (errors[i] == error) return i + 1;
  }
  return 0;
}

}  // namespace sim
}  // namespace tigerio
