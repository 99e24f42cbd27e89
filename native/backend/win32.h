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
#if defined(__has_include)
#if __has_include(<afunix.h>)
#include <afunix.h>  // SOCKADDR_UN, to check UnixAddress against (below)
#define TIGERIO_HAVE_AFUNIX_H 1
#endif
#endif

#include <cstddef>
#include <cstdint>

namespace tigerio {

struct AddressStorage;

// libuv's Windows error numbers (include/uv/errno.h) that Winsock and Win32
// errors map to (map_error), so that Node names them as on Linux. The few the
// core produces itself (kErrCanceled, kErrBadFd, ...) are the core's
// (core/errors.h), defined with these numbers in win32.cc.
constexpr int32_t kErrAccess = -4092;
constexpr int32_t kErrAddressInUse = -4091;
constexpr int32_t kErrAddressNotAvailable = -4090;
constexpr int32_t kErrAddressFamily = -4089;
constexpr int32_t kErrAlready = -4084;
constexpr int32_t kErrConnectionAborted = -4079;
constexpr int32_t kErrConnectionRefused = -4078;
constexpr int32_t kErrConnectionReset = -4077;
constexpr int32_t kErrExists = -4075;
constexpr int32_t kErrFault = -4074;
constexpr int32_t kErrHostUnreachable = -4073;
constexpr int32_t kErrIO = -4070;
constexpr int32_t kErrIsConnected = -4069;
constexpr int32_t kErrIsDirectory = -4068;
constexpr int32_t kErrMessageSize = -4065;
constexpr int32_t kErrNameTooLong = -4064;
constexpr int32_t kErrNetworkUnreachable = -4062;
constexpr int32_t kErrNoBuffers = -4060;
constexpr int32_t kErrNoEntry = -4058;
constexpr int32_t kErrNoSpace = -4055;
constexpr int32_t kErrNotConnected = -4053;
constexpr int32_t kErrNotDirectory = -4052;
constexpr int32_t kErrNotEmpty = -4051;
constexpr int32_t kErrCrossDevice = -4037;
constexpr int32_t kErrNotSocket = -4050;
constexpr int32_t kErrPermission = -4048;
constexpr int32_t kErrPipe = -4047;
constexpr int32_t kErrNoSuchProcess = -4040;  // ESRCH
constexpr int32_t kErrTimedOut = -4039;
constexpr int32_t kErrFileTooBig = -4036;
constexpr int32_t kErrUnknown = -4094;

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
// The address family of a bound socket (AF_INET, AF_INET6, AF_UNIX), or 0.
int socket_family(int32_t fd);
// The address family a socket was made with, bound or not (its provider's), or 0.
int protocol_family(int32_t fd);

// An overlapped, non-inheritable TCP socket; INVALID_SOCKET with WSAGetLastError() set.
SOCKET new_socket(int family);
void set_nodelay(SOCKET socket);

// The synchronous helpers of Backend; each returns the fd or a negative errno.
int listen(const char* host, int port, int backlog, bool reuse_port);
int socket(bool ipv6);
int address(int fd, bool peer, char* address, size_t address_size, int* port, int* family);
int shutdown(int fd, bool send, bool receive);
// Backend::set_cork's checks, for an OS with no TCP_CORK: 0 for a TCP
// socket; ENOTSUP for another socket; ENOTSOCK for a file the IO knows
// (`known_file`), EBADF for any other handle that is no socket. Winsock
// answers WSAENOTSOCK alike for a closed handle and for an open one that is
// no socket, so only the IO's file registry tells a file from a bad fd: a
// handle opened outside the IO is EBADF here, where POSIX says ENOTSOCK.
int32_t check_tcp_socket(int fd, bool known_file);
// Linux's answer to an address of the other family than an IP socket's
// (EAFNOSUPPORT for IPv6 on IPv4, EINVAL for IPv4 on IPv6), so that every
// backend gives it (Winsock's own differs); 0 if the families agree, or the
// socket's is unknown or not IP.
int32_t family_mismatch(int socket_family, int address_family);
// Backend::refuse_self_connection, Windows': ECONNREFUSED after shutting
// both ways, as on POSIX.
int32_t refuse_self_connection(int fd, const AddressStorage& target);
// An overlapped UDP socket (ICMP resets not reported, as libuv does),
// and bind(); each returns the fd (or 0) or a negative errno.
int udp_socket(bool ipv6);
// True if fd is a SOCK_DGRAM socket.
bool is_datagram(int32_t fd);
int bind(int fd, const char* host, int port);

// ---- AF_UNIX stream sockets (Windows 10 1803 and later) ----
//
// Winsock's AF_UNIX address, as afunix.h declares SOCKADDR_UN (not every
// SDK or mingw-w64 ships that header: the layout is fixed by the Windows ABI,
// and checked against the header where there is one). Paths are pathnames
// only: Windows has no abstract namespace.
constexpr size_t kUnixPathBytes = 108;  // afunix.h's UNIX_PATH_MAX, the NUL included
struct UnixAddress {
  ADDRESS_FAMILY family;
  char path[kUnixPathBytes];
};
static_assert(sizeof(UnixAddress) == 110, "SOCKADDR_UN is 2 + 108 bytes");

// The address of `path` (path_length bytes, no NUL inside), zero-filled
// past it so that the path is NUL-terminated; false when it does not fit
// or names the abstract namespace (a leading NUL).
bool unix_address(const char* path, uint32_t path_length, UnixAddress* out);
// An overlapped, non-inheritable AF_UNIX stream socket; INVALID_SOCKET with
// WSAGetLastError() set (WSAEAFNOSUPPORT where this Windows has no AF_UNIX).
SOCKET new_unix_socket();
// A listening AF_UNIX socket bound at `path`, or a negative errno
// (EADDRINUSE when a file is there already, EAFNOSUPPORT without AF_UNIX).
int listen_unix(const char* path, uint32_t path_length, int backlog);
// An AF_UNIX socket for connectUnix, or a negative errno.
int unix_socket();
// False where this Windows has no AF_UNIX provider (before 10 1803; Wine).
bool unix_sockets_available();

}  // namespace win32
}  // namespace tigerio
