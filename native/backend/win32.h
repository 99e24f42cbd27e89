// What the Windows backend (iocp.cc) needs from Win32 and Winsock, kept
// apart as posix.h is for the POSIX backends: the socket helpers, the
// error mapping to libuv's numbers, and the fd <-> handle convention.
//
// An "fd" on Windows is the SOCKET or HANDLE value itself, as a JS number:
// kernel handles are multiples of 4 below 2^31 in practice (we check, and
// refuse a handle that does not fit rather than truncate it). Using the
// value, not an index into a table of this IO, lets an fd made by one IO
// (an accepted socket) be handed to an IO on another thread, as on POSIX.
#pragma once

#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0602
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0602  // Windows 8: SetFileCompletionNotificationModes, CancelIoEx, ...Ex
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#include <cstddef>
#include <cstdint>

namespace tigerio {
namespace win32 {

// Winsock or Win32 error number -> libuv's Windows errno (core/errors.h),
// as libuv's uv_translate_sys_error does, so JS names it like Linux does.
int32_t map_error(DWORD error);
inline int32_t socket_error() { return map_error(static_cast<DWORD>(::WSAGetLastError())); }
inline int32_t last_error() { return map_error(::GetLastError()); }

// Starts Winsock once per process; 0 or a negative errno.
int32_t startup();

// The fd for a handle value, false when it does not fit in a non-negative int32.
inline bool to_fd(uintptr_t value, int32_t* fd) {
  if (value > 0x7fffffff) return false;
  *fd = static_cast<int32_t>(value);
  return true;
}
inline SOCKET as_socket(int32_t fd) { return static_cast<SOCKET>(static_cast<uintptr_t>(fd)); }
inline HANDLE as_handle(int32_t fd) { return reinterpret_cast<HANDLE>(static_cast<uintptr_t>(fd)); }

// True if `fd` is an open socket (of any process-local origin).
bool is_socket(int32_t fd);
// AF_INET or AF_INET6 of a socket, or 0.
int socket_family(int32_t fd);

// An overlapped, non-inheritable TCP socket; INVALID_SOCKET with WSAGetLastError() set.
SOCKET new_socket(int family);
void set_nodelay(SOCKET socket);

// The synchronous helpers of Backend; each returns the fd or a negative errno.
int listen(const char* host, int port, int backlog, bool reuse_port);
int socket(bool ipv6);
int address(int fd, bool peer, char* address, size_t address_size, int* port, int* family);
int shutdown(int fd, bool send, bool receive);

}  // namespace win32
}  // namespace tigerio
