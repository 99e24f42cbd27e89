#include "win32.h"

#include <atomic>
#include <cstddef>
#include <cstring>

#include "../core/assert.h"
#include "../core/backend.h"
#include "../core/errors.h"
#include "../core/platform.h"

#ifndef ERROR_ELEVATION_REQUIRED
#define ERROR_ELEVATION_REQUIRED 740L  // not in every mingw-w64's winerror.h
#endif

namespace tigerio {
namespace win32 {

namespace {

// The longest IP literal inet_ntop writes, with its NUL (POSIX's
// INET6_ADDRSTRLEN; Windows' 65 leaves room for a scope id we never print).
constexpr size_t kAddressTextMax = 46;

}  // namespace

namespace {

int32_t translate(DWORD error) {
  switch (error) {
    case ERROR_NOACCESS:
    case WSAEACCES:
    case ERROR_ELEVATION_REQUIRED:
    case ERROR_CANT_ACCESS_FILE:
    case ERROR_ACCESS_DENIED:
      return kErrAccess;
    case ERROR_ADDRESS_ALREADY_ASSOCIATED:
    case WSAEADDRINUSE:
      return kErrAddressInUse;
    case WSAEADDRNOTAVAIL:
      return kErrAddressNotAvailable;
    case WSAEAFNOSUPPORT:
      return kErrAddressFamily;
    case WSAEWOULDBLOCK:
      return kErrAgain;
    case WSAEALREADY:
      return kErrAlready;
    case ERROR_INVALID_FLAGS:
    case ERROR_INVALID_HANDLE:
    case WSAEBADF:
      return kErrBadFd;
    case ERROR_LOCK_VIOLATION:
    case ERROR_PIPE_BUSY:
    case ERROR_SHARING_VIOLATION:
      return kErrBusy;
    case ERROR_OPERATION_ABORTED:  // == WSA_OPERATION_ABORTED: CancelIoEx
    case WSAEINTR:
      return kErrCanceled;
    case ERROR_CONNECTION_ABORTED:
    case WSAECONNABORTED:
      return kErrConnectionAborted;
    case ERROR_CONNECTION_REFUSED:
    case WSAECONNREFUSED:
      return kErrConnectionRefused;
    case ERROR_NETNAME_DELETED:  // what an overlapped recv on a reset connection reports
    case WSAECONNRESET:
      return kErrConnectionReset;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS:
      return kErrExists;
    case ERROR_DIR_NOT_EMPTY:
      return kErrNotEmpty;
    case ERROR_NOT_SAME_DEVICE:
      return kErrCrossDevice;
    case ERROR_BUFFER_OVERFLOW:
    case WSAEFAULT:
      return kErrFault;
    case ERROR_HOST_UNREACHABLE:
    case WSAEHOSTUNREACH:
      return kErrHostUnreachable;
    case ERROR_INSUFFICIENT_BUFFER:
    case ERROR_INVALID_DATA:
    case ERROR_INVALID_PARAMETER:
    case WSAEINVAL:
    case WSAEPFNOSUPPORT:
      return kErrInvalid;
    case ERROR_CRC:
    case ERROR_GEN_FAILURE:
    case ERROR_IO_DEVICE:
    case ERROR_OPEN_FAILED:
      return kErrIO;
    case WSAEISCONN:
      return kErrIsConnected;
    case ERROR_TOO_MANY_OPEN_FILES:
    case WSAEMFILE:
      return kErrTooManyFiles;
    case WSAEMSGSIZE:
      return kErrMessageSize;
    case ERROR_FILENAME_EXCED_RANGE:
      return kErrNameTooLong;
    case ERROR_NETWORK_UNREACHABLE:
    case WSAENETUNREACH:
      return kErrNetworkUnreachable;
    case WSAENOBUFS:
      return kErrNoBuffers;
    case ERROR_BAD_PATHNAME:
    case ERROR_DIRECTORY:
    case ERROR_FILE_NOT_FOUND:
    case ERROR_INVALID_NAME:
    case ERROR_INVALID_DRIVE:
    case ERROR_PATH_NOT_FOUND:
      return kErrNoEntry;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
      return kErrNoMemory;
    case ERROR_CANNOT_MAKE:
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return kErrNoSpace;
    case ERROR_NOT_CONNECTED:
    case WSAENOTCONN:
      return kErrNotConnected;
    case WSAENOTSOCK:
      return kErrNotSocket;
    case ERROR_NOT_SUPPORTED:
    case WSAEOPNOTSUPP:
      return kErrNotSupported;
    case ERROR_PRIVILEGE_NOT_HELD:
      return kErrPermission;
    case ERROR_BAD_PIPE:
    case ERROR_NO_DATA:
    case ERROR_PIPE_NOT_CONNECTED:
    case WSAESHUTDOWN:  // send after shutdown: Linux says EPIPE
      return kErrPipe;
    case ERROR_SEM_TIMEOUT:
    case WSAETIMEDOUT:
      return kErrTimedOut;
    case ERROR_INVALID_FUNCTION:
      return kErrIsDirectory;
    case ERROR_FILE_TOO_LARGE:
      return kErrFileTooBig;
    default:
      return kErrUnknown;
  }
}

}  // namespace

int32_t map_error(DWORD error) {
  const int32_t result = translate(error);
  TIGERIO_ASSERT(result < 0);  // every error has a name, unknown ones UNKNOWN
  return result;
}

int32_t startup() {
  // Thread-safe once: WSAStartup is reference counted, and we never call
  // WSACleanup (workers and the process may still use sockets).
  static const int32_t result = [] {
    WSADATA data;
    const int rc = ::WSAStartup(MAKEWORD(2, 2), &data);
    return rc == 0 ? 0 : map_error(static_cast<DWORD>(rc));
  }();
  TIGERIO_ASSERT(result <= 0);
  return result;
}

bool is_socket(int32_t fd) {
  if (fd < 0) return false;  // no handle value: never passed to Winsock as one
  int type = 0;
  int size = sizeof(type);
  return ::getsockopt(as_socket(fd), SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &size) == 0;
}

int socket_family(int32_t fd) {
  TIGERIO_ASSERT(fd >= 0);
  sockaddr_storage storage{};
  int size = sizeof(storage);
  if (::getsockname(as_socket(fd), reinterpret_cast<sockaddr*>(&storage), &size) != 0) return 0;
  TIGERIO_ASSERT(size > 0 && size <= static_cast<int>(sizeof(storage)));
  return storage.ss_family;
}

int protocol_family(int32_t fd) {
  TIGERIO_ASSERT(fd >= 0);
  WSAPROTOCOL_INFOW info;
  int size = sizeof(info);
  if (::getsockopt(as_socket(fd), SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &size) != 0) {
    return 0;
  }
  return info.iAddressFamily;
}

SOCKET new_socket(int family) {
  TIGERIO_ASSERT(family == AF_INET || family == AF_INET6);
  // Overlapped for IOCP; not inherited by child processes (as CLOEXEC on POSIX).
  SOCKET socket = ::WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                               WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (socket == INVALID_SOCKET && ::WSAGetLastError() == WSAEINVAL) {
    // Before Windows 7 SP1 the flag does not exist.
    socket = ::WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
    if (socket != INVALID_SOCKET) {
      ::SetHandleInformation(reinterpret_cast<HANDLE>(socket), HANDLE_FLAG_INHERIT, 0);
    }
  }
  return socket;
}

void set_nodelay(SOCKET socket) {
  TIGERIO_ASSERT(socket != INVALID_SOCKET);
  const BOOL one = TRUE;
  ::setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof(one));
}

namespace {

// A new socket as an fd, or a negative errno (the socket is closed then).
int adopt(SOCKET socket) {
  TIGERIO_ASSERT(socket != INVALID_SOCKET);
  int32_t fd = -1;
  if (!to_fd(static_cast<uintptr_t>(socket), &fd)) {
    ::closesocket(socket);
    return kErrTooManyFiles;
  }
  TIGERIO_ASSERT(fd >= 0);
  return fd;
}

// Binds a new socket to `address`, listens, and adopts it as an fd; a
// negative errno (the socket is closed then) if bind or listen fails.
int bind_listen_adopt(SOCKET socket, const sockaddr* address, int address_length, int backlog) {
  TIGERIO_ASSERT(socket != INVALID_SOCKET && address != nullptr && address_length > 0 && backlog >= 1);
  if (::bind(socket, address, address_length) != 0 || ::listen(socket, backlog) != 0) {
    const int32_t result = socket_error();
    ::closesocket(socket);
    return result;
  }
  return adopt(socket);
}

}  // namespace

int listen(const char* host, int port, int backlog, bool reuse_port) {
  TIGERIO_ASSERT(host != nullptr && port >= 0 && port <= 65535 && backlog >= 1);
  if (const int32_t started = startup(); started < 0) return started;
  // No SO_REUSEPORT on Windows. And no SO_REUSEADDR either: there it lets
  // another socket steal a bound port (libuv does not set it for the same
  // reason); a listener's port is free again at once after close anyway.
  if (reuse_port) return kErrNotSupported;
  AddressStorage address;
  if (!parse_ip_address(host, port, &address)) return kErrInvalid;
  const int family = reinterpret_cast<const sockaddr*>(address.bytes)->sa_family;
  const SOCKET socket = new_socket(family);
  if (socket == INVALID_SOCKET) return socket_error();
  return bind_listen_adopt(socket, reinterpret_cast<const sockaddr*>(address.bytes), static_cast<int>(address.length),
                           backlog);
}

int socket(bool ipv6) {
  if (const int32_t started = startup(); started < 0) return started;
  const SOCKET socket = new_socket(ipv6 ? AF_INET6 : AF_INET);
  if (socket == INVALID_SOCKET) return socket_error();
  set_nodelay(socket);
  return adopt(socket);
}

int udp_socket(bool ipv6) {
  if (const int32_t started = startup(); started < 0) return started;
  const int family = ipv6 ? AF_INET6 : AF_INET;
  const SOCKET socket =
      ::WSASocketW(family, SOCK_DGRAM, IPPROTO_UDP, nullptr, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (socket == INVALID_SOCKET) return socket_error();
  // An ICMP "port unreachable" for a datagram sent earlier would otherwise
  // fail this socket's next receive with WSAECONNRESET, even unconnected
  // (Linux reports nothing to an unconnected socket): off, as libuv does.
  BOOL report = FALSE;
  DWORD bytes = 0;
  ::WSAIoctl(socket, SIO_UDP_CONNRESET, &report, sizeof(report), nullptr, 0, &bytes, nullptr, nullptr);
  return adopt(socket);
}

bool is_datagram(int32_t fd) {
  if (fd < 0) return false;
  int type = 0;
  int size = sizeof(type);
  return ::getsockopt(as_socket(fd), SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &size) == 0 &&
         type == SOCK_DGRAM;
}

int32_t family_mismatch(int socket_family, int address_family) {
  TIGERIO_ASSERT(socket_family >= 0);
  TIGERIO_ASSERT(address_family == AF_INET || address_family == AF_INET6);  // parsed from an IP literal
  if (socket_family != AF_INET && socket_family != AF_INET6) return 0;  // unknown, or not an IP socket
  if (socket_family == address_family) return 0;
  return socket_family == AF_INET ? kErrAddressFamily : kErrInvalid;
}

int bind(int fd, const char* host, int port) {
  TIGERIO_ASSERT(host != nullptr && port >= 0 && port <= 65535);
  AddressStorage address;
  if (!parse_ip_address(host, port, &address)) return kErrInvalid;
  const auto* target = reinterpret_cast<const sockaddr*>(address.bytes);
  if (::bind(as_socket(fd), target, static_cast<int>(address.length)) == 0) return 0;
  const int error = ::WSAGetLastError();
  if (error == WSAENOTSOCK) return kErrBadFd;
  const int32_t mismatch = family_mismatch(protocol_family(fd), target->sa_family);
  return mismatch != 0 ? mismatch : map_error(static_cast<DWORD>(error));
}

int shutdown(int fd, bool send, bool receive) {
  TIGERIO_ASSERT(send || receive);
  const int how = send && receive ? SD_BOTH : send ? SD_SEND : SD_RECEIVE;
  if (::shutdown(as_socket(fd), how) == 0) return 0;
  const int error = ::WSAGetLastError();
  return error == WSAENOTSOCK ? kErrBadFd : map_error(static_cast<DWORD>(error));
}

int32_t check_tcp_socket(int fd, bool known_file) {
  TIGERIO_ASSERT(fd >= 0);
  WSAPROTOCOL_INFOW info;
  int size = sizeof(info);
  if (::getsockopt(as_socket(fd), SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &size) != 0) {
    const int error = ::WSAGetLastError();
    if (error == WSAENOTSOCK) return known_file ? kErrNotSocket : kErrBadFd;
    return map_error(static_cast<DWORD>(error));
  }
  const bool ip = info.iAddressFamily == AF_INET || info.iAddressFamily == AF_INET6;
  return ip && info.iProtocol == IPPROTO_TCP ? 0 : kErrNotSupported;
}

int32_t refuse_self_connection(int fd, const AddressStorage& target) {
  TIGERIO_ASSERT(fd >= 0);
  TIGERIO_ASSERT(target.length >= 1 && target.length <= sizeof(target.bytes));
  sockaddr_storage local{};
  int size = sizeof(local);
  // Unreadable, the connection stands: the connect did succeed.
  if (::getsockname(as_socket(fd), reinterpret_cast<sockaddr*>(&local), &size) != 0) return 0;
  if (!same_ip_address(&local, target)) return 0;
  if (is_datagram(fd)) return 0;  // a UDP socket may send to itself, by design
  ::shutdown(as_socket(fd), SD_BOTH);  // as on POSIX (posix.cc)
  return kErrConnectionRefused;
}

int address(int fd, bool peer, char* out, size_t out_size, int* port, int* family) {
  TIGERIO_ASSERT(out != nullptr && out_size >= kAddressTextMax && port != nullptr && family != nullptr);
  sockaddr_storage storage{};
  int size = sizeof(storage);
  auto* raw = reinterpret_cast<sockaddr*>(&storage);
  const SOCKET socket = as_socket(fd);
  if ((peer ? ::getpeername(socket, raw, &size) : ::getsockname(socket, raw, &size)) != 0) {
    const int error = ::WSAGetLastError();
    // Not a socket at all: for this call that is "not an open fd".
    if (error == WSAENOTSOCK) return kErrBadFd;
    // An AF_UNIX socket has no IP address to report, named or not (as below).
    if (protocol_family(fd) == AF_UNIX) return kErrAddressFamily;
    return map_error(static_cast<DWORD>(error));
  }
  if (storage.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    if (::inet_ntop(AF_INET, &v4->sin_addr, out, out_size) == nullptr) return socket_error();
    *port = ntohs(v4->sin_port);
    *family = 4;
    return 0;
  }
  if (storage.ss_family == AF_INET6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (::inet_ntop(AF_INET6, &v6->sin6_addr, out, out_size) == nullptr) return socket_error();
    *port = ntohs(v6->sin6_port);
    *family = 6;
    return 0;
  }
  return kErrAddressFamily;
}

// ---- AF_UNIX stream sockets ----

#ifdef TIGERIO_HAVE_AFUNIX_H
static_assert(sizeof(SOCKADDR_UN) == sizeof(UnixAddress) && offsetof(SOCKADDR_UN, sun_path) == offsetof(UnixAddress, path),
              "UnixAddress is afunix.h's SOCKADDR_UN");
#endif

bool unix_address(const char* path, uint32_t path_length, UnixAddress* out) {
  TIGERIO_ASSERT(path != nullptr && out != nullptr);
  std::memset(out, 0, sizeof(*out));
  out->family = AF_UNIX;
  // No abstract namespace on Windows; a pathname keeps its NUL inside path[].
  if (path_length == 0 || path_length >= sizeof(out->path) || path[0] == '\0') return false;
  if (std::memchr(path, '\0', path_length) != nullptr) return false;
  std::memcpy(out->path, path, path_length);
  TIGERIO_ASSERT(out->path[path_length] == '\0');
  return true;
}

SOCKET new_unix_socket() {
  // Protocol 0: AF_UNIX has one stream protocol. WSA_FLAG_NO_HANDLE_INHERIT
  // exists on every Windows that has AF_UNIX (10 1803 and later).
  return ::WSASocketW(AF_UNIX, SOCK_STREAM, 0, nullptr, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
}

namespace {

// socket(AF_UNIX) failed: where this Windows (or Wine) has no AF_UNIX
// provider, Winsock says so with one of these; the caller sees
// EAFNOSUPPORT, which io/ turns into a message saying so.
int32_t unix_socket_error() {
  const int error = ::WSAGetLastError();
  TIGERIO_ASSERT(error != 0);  // called only after a Winsock call failed
  if (error == WSAEAFNOSUPPORT || error == WSAEPROTONOSUPPORT || error == WSAESOCKTNOSUPPORT ||
      error == WSAEPROTOTYPE) {
    return kErrAddressFamily;
  }
  return map_error(static_cast<DWORD>(error));
}

}  // namespace

int listen_unix(const char* path, uint32_t path_length, int backlog) {
  TIGERIO_ASSERT(path != nullptr && backlog >= 1);
  TIGERIO_ASSERT(path_length >= 1 && path_length <= unix_path_max());  // io/ checked it at the call
  if (const int32_t started = startup(); started < 0) return started;
  UnixAddress address;
  if (!unix_address(path, path_length, &address)) return kErrInvalid;
  const SOCKET socket = new_unix_socket();
  if (socket == INVALID_SOCKET) return unix_socket_error();
  // bind creates the socket file; a file already at the path (a stale
  // socket) fails with WSAEADDRINUSE, EADDRINUSE: removing it is the
  // caller's decision, never ours (as on POSIX). The whole structure is
  // passed, as Microsoft's own AF_UNIX samples do: the path is NUL-terminated inside it.
  return bind_listen_adopt(socket, reinterpret_cast<const sockaddr*>(&address), static_cast<int>(sizeof(address)),
                           backlog);
}

int unix_socket() {
  if (const int32_t started = startup(); started < 0) return started;
  const SOCKET socket = new_unix_socket();
  if (socket == INVALID_SOCKET) return unix_socket_error();
  return adopt(socket);
}

bool unix_sockets_available() {
  // Probed until the answer is sure, then kept: a provider does not come or
  // go while the process runs. A failure for another reason (no memory, no
  // handles) says nothing about the provider: asked again next time.
  static std::atomic<int> known{0};  // 0: not known yet, 1: available, 2: missing
  const int answer = known.load(std::memory_order_acquire);
  if (answer != 0) return answer == 1;
  if (startup() < 0) return true;
  const SOCKET probe = new_unix_socket();
  if (probe != INVALID_SOCKET) {
    ::closesocket(probe);
    known.store(1, std::memory_order_release);
    return true;
  }
  if (unix_socket_error() != kErrAddressFamily) return true;
  known.store(2, std::memory_order_release);
  return false;
}

}  // namespace win32

// The core's platform facts and error numbers (core/platform.h,
// core/errors.h), Windows': handles are multiples of 4 (the kernel ignores
// the two low bits), and errors are libuv's fixed Windows numbers, which is
// what Node's util.getSystemErrorName() knows there.
extern const uint32_t kFdIndexShift = 2;
extern const int32_t kErrCanceled = -4081;
extern const int32_t kErrAgain = -4088;
extern const int32_t kErrBadFd = -4083;
extern const int32_t kErrInvalid = -4071;
extern const int32_t kErrNoMemory = -4057;
extern const int32_t kErrNotSupported = -4049;
extern const int32_t kErrTooManyFiles = -4066;
extern const int32_t kErrBusy = -4082;

// Windows' sun_path is 108 bytes, as Linux's, and holds the
// path's NUL (win32::unix_address): 107 bytes of path; no abstract namespace.
uint32_t unix_path_max() { return static_cast<uint32_t>(win32::kUnixPathBytes - 1); }
bool unix_abstract_namespace() { return false; }
bool unix_sockets_available() { return win32::unix_sockets_available(); }

}  // namespace tigerio
