#include "posix.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#endif

#include <cerrno>
#include <cstdint>
#include <cstddef>
#include <cstring>

#include "../core/assert.h"
#include "../core/errors.h"
#include "../core/layout.h"
#include "../core/platform.h"

namespace tigerio {
namespace posix {

namespace {

// The socket transfers on the hot path. On Linux they are made with
// syscall(2): glibc's recv and send are thread-cancellation points, and
// their cancellation bookkeeping (two atomic updates per call) was 4.5% of
// the sample server's user time under wrk. An IO's thread is never
// cancelled, so that bookkeeping buys nothing here. (Headers without
// SYS_recvfrom/SYS_sendto, as on old 32-bit x86 ones, where sockets go
// through socketcall(2), keep glibc's calls.)
ssize_t transfer_recv(int fd, uint8_t* buffer, uint32_t length) {
#if defined(__linux__) && defined(SYS_recvfrom)
  return ::syscall(SYS_recvfrom, fd, buffer, static_cast<size_t>(length), 0, nullptr, nullptr);
#else
  return ::recv(fd, buffer, length, 0);
#endif
}

ssize_t transfer_send(int fd, const uint8_t* buffer, uint32_t length, int flags) {
#if defined(__linux__) && defined(SYS_sendto)
  return ::syscall(SYS_sendto, fd, buffer, static_cast<size_t>(length), flags, nullptr, 0);
#else
  return ::send(fd, buffer, length, flags);
#endif
}

#ifdef MSG_NOSIGNAL
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;  // SO_NOSIGPIPE is set on every socket instead
#endif

int32_t error_result() { return -errno; }

// Non-blocking, close-on-exec, no SIGPIPE, TCP_NODELAY: every socket this IO hands out.
int32_t prepare_socket(int fd, bool nodelay) {
#if !defined(SOCK_NONBLOCK)
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return error_result();
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return error_result();
#endif
#ifdef SO_NOSIGPIPE
  const int one_nosigpipe = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one_nosigpipe, sizeof(one_nosigpipe));
#endif
  if (nodelay) {
    const int one = 1;
    // Not every stream socket is TCP (a Unix socket given to recv/send): ignore failure.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return 0;
}

int new_socket(int domain) {
#ifdef SOCK_NONBLOCK
  return ::socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  return ::socket(domain, SOCK_STREAM, 0);
#endif
}

}  // namespace

int32_t accept(int fd) {
  TIGERIO_ASSERT(fd >= 0);
  for (;;) {
#if defined(__linux__) || defined(__FreeBSD__)
    const int client = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
    const int client = ::accept(fd, nullptr, nullptr);
#endif
    if (client < 0) {
      if (errno == EINTR) continue;
      // The connection died in the accept queue: try the next one.
      if (errno == ECONNABORTED) continue;
      return error_result();
    }
    const int32_t prepared = prepare_socket(client, true);
    if (prepared < 0) {
      ::close(client);
      return prepared;
    }
    TIGERIO_ASSERT(client != fd);
    return client;
  }
}

int32_t recv(int fd, uint8_t* buffer, uint32_t length) {
  TIGERIO_ASSERT(buffer != nullptr && length >= 1 && length <= kBufferSizeMaxLimit);
  for (;;) {
    const ssize_t n = transfer_recv(fd, buffer, length);
    TIGERIO_ASSERT(n <= static_cast<ssize_t>(length));
    if (n >= 0) return static_cast<int32_t>(n);
    if (errno == EINTR) continue;
    return error_result();
  }
}

bool is_stream_socket(int fd) {
  int type = 0;
  socklen_t size = sizeof type;
  return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) == 0 && type == SOCK_STREAM;
}

int32_t send(int fd, const uint8_t* buffer, uint32_t length) {
  TIGERIO_ASSERT(buffer != nullptr && length >= 1 && length <= kBufferSizeMaxLimit);
  for (;;) {
    const ssize_t n = transfer_send(fd, buffer, length, kSendFlags);
    TIGERIO_ASSERT(n <= static_cast<ssize_t>(length));
    if (n >= 0) return static_cast<int32_t>(n);
    if (errno == EINTR) continue;
    return error_result();
  }
}

int32_t connect_start(int fd, const AddressStorage& address) {
  TIGERIO_ASSERT(address.length >= 1 && address.length <= sizeof(address.bytes));
  {
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(address.bytes),
                             static_cast<socklen_t>(address.length));
    if (rc == 0) return 0;
    // After EINTR the connect goes on in the background, as after EINPROGRESS.
    if (errno == EINTR || errno == EINPROGRESS || errno == EALREADY) return -EINPROGRESS;
    return error_result();
  }
}

int32_t connect_finish(int fd, const AddressStorage& address) {
  TIGERIO_ASSERT(fd >= 0);
  TIGERIO_ASSERT(address.length >= 1 && address.length <= sizeof(address.bytes));
  int error = 0;
  socklen_t size = sizeof(error);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) < 0) return error_result();
  if (error != 0) return -error;
  // No error yet: connected, or still connecting (a wake-up for another reason).
#ifdef __linux__
  // connect() again tells which. It also moves a connected socket out of
  // the "connecting" state Linux keeps it in after a non-blocking connect:
  // left there, the user's next connect() on it would return 0 once instead
  // of EISCONN (io_uring's connect, which waits in the kernel, does not).
  if (::connect(fd, reinterpret_cast<const sockaddr*>(address.bytes), static_cast<socklen_t>(address.length)) == 0 ||
      errno == EISCONN) {
    return 0;
  }
  if (errno == EALREADY || errno == EINPROGRESS || errno == EINTR) return -EAGAIN;
  return error_result();
#else
  (void)address;  // BSD and macOS answer a second connect() with EISCONN already
  sockaddr_storage peer;
  socklen_t peer_size = sizeof(peer);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) == 0) return 0;
  return errno == ENOTCONN ? -EAGAIN : error_result();
#endif
}

int32_t read(int fd, uint8_t* buffer, uint32_t length, int64_t position) {
  for (;;) {
    const ssize_t n = position < 0 ? ::read(fd, buffer, length)
                                   : ::pread(fd, buffer, length, static_cast<off_t>(position));
    if (n >= 0) return static_cast<int32_t>(n);
    if (errno == EINTR) continue;
    return error_result();
  }
}

int32_t write(int fd, const uint8_t* buffer, uint32_t length, int64_t position) {
  for (;;) {
    const ssize_t n = position < 0 ? ::write(fd, buffer, length)
                                   : ::pwrite(fd, buffer, length, static_cast<off_t>(position));
    if (n >= 0) return static_cast<int32_t>(n);
    if (errno == EINTR) continue;
    return error_result();
  }
}

int open_os_flags(uint32_t flags) {
  int os_flags = O_CLOEXEC;
  if ((flags & kOpenRead) && (flags & kOpenWrite)) {
    os_flags |= O_RDWR;
  } else if (flags & kOpenWrite) {
    os_flags |= O_WRONLY;
  } else {
    os_flags |= O_RDONLY;
  }
  if (flags & kOpenCreate) os_flags |= O_CREAT;
  if (flags & kOpenTruncate) os_flags |= O_TRUNC;
  if (flags & kOpenAppend) os_flags |= O_APPEND;
  if (flags & kOpenExclusive) os_flags |= O_EXCL;
#if defined(O_DIRECT)
  if (flags & kOpenDirect) os_flags |= O_DIRECT;
#endif
  return os_flags;
}

int32_t open(const char* path, uint32_t flags, uint32_t mode) {
#if !defined(O_DIRECT) && !defined(F_NOCACHE)
  if (flags & kOpenDirect) return -EINVAL;  // no way to bypass the page cache here
#endif
  const int os_flags = open_os_flags(flags);
  for (;;) {
    const int fd = ::open(path, os_flags, static_cast<mode_t>(mode));
    if (fd < 0) {
      if (errno == EINTR) continue;
      return error_result();
    }
#if !defined(O_DIRECT) && defined(F_NOCACHE)
    // macOS: no O_DIRECT; F_NOCACHE turns the cache off for this fd.
    if ((flags & kOpenDirect) && ::fcntl(fd, F_NOCACHE, 1) < 0) {
      const int32_t result = error_result();
      ::close(fd);
      return result;
    }
#endif
    return fd;
  }
}

int32_t fsync(int fd, bool data_only) {
  TIGERIO_ASSERT(fd >= 0);
  for (;;) {
#if defined(__APPLE__)
    (void)data_only;  // F_FULLFSYNC is the only call that reaches the disk's platters there
    if (::fcntl(fd, F_FULLFSYNC) == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == EBADF) return error_result();
    // Network and FAT file systems refuse F_FULLFSYNC (ENOTSUP, ENOTTY,
    // EINVAL): fsync is the most they offer (libuv and SQLite do the same).
    if (::fsync(fd) == 0) return 0;
#else
    if ((data_only ? ::fdatasync(fd) : ::fsync(fd)) == 0) return 0;
#endif
    if (errno == EINTR) continue;
    return error_result();
  }
}

int64_t file_size(int fd) {
  TIGERIO_ASSERT(fd >= 0);
  struct stat status;
  if (::fstat(fd, &status) < 0) return error_result();
  TIGERIO_ASSERT(status.st_size >= 0);
  return static_cast<int64_t>(status.st_size);
}

int32_t truncate(int fd, int64_t length_bytes) {
  TIGERIO_ASSERT(fd >= 0 && length_bytes >= 0);
  static_assert(sizeof(off_t) == 8, "64-bit file offsets");
  for (;;) {
    if (::ftruncate(fd, static_cast<off_t>(length_bytes)) == 0) return 0;
    if (errno == EINTR) continue;
    return error_result();
  }
}

int32_t allocate(int fd, int64_t offset_bytes, int64_t length_bytes) {
  TIGERIO_ASSERT(fd >= 0 && offset_bytes >= 0 && length_bytes >= 1);
  TIGERIO_ASSERT(offset_bytes <= INT64_MAX - length_bytes);
#if defined(__APPLE__)
  // F_PREALLOCATE reserves blocks past the physical end of the file only,
  // and leaves the size alone: reserve what the end lacks, contiguous if
  // the disk has it, then move the end (as TigerBeetle does).
  const int64_t end_bytes = offset_bytes + length_bytes;
  const int64_t size_bytes = file_size(fd);
  if (size_bytes < 0) return static_cast<int32_t>(size_bytes);
  if (end_bytes <= size_bytes) return 0;
  fstore_t store{};
  store.fst_flags = F_ALLOCATECONTIG | F_ALLOCATEALL;
  store.fst_posmode = F_PEOFPOSMODE;
  store.fst_offset = 0;
  store.fst_length = static_cast<off_t>(end_bytes - size_bytes);
  if (::fcntl(fd, F_PREALLOCATE, &store) < 0) {
    store.fst_flags = F_ALLOCATEALL;
    if (::fcntl(fd, F_PREALLOCATE, &store) < 0) return error_result();
  }
  return truncate(fd, end_bytes);
#else
  for (;;) {
    // posix_fallocate returns the error number, and leaves errno alone. glibc
    // writes zeros into the holes where the file system has no fallocate.
    const int error = ::posix_fallocate(fd, static_cast<off_t>(offset_bytes), static_cast<off_t>(length_bytes));
    if (error == 0) return 0;
    if (error == EINTR) continue;
    return -error;
  }
#endif
}

int32_t close(int fd) {
  // POSIX leaves the fd state unspecified after EINTR; on Linux it is closed.
  // Never retry: the number may already belong to someone else.
  if (::close(fd) == 0 || errno == EINTR) return 0;
  return error_result();
}

int32_t ensure_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return error_result();
  if ((flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return error_result();
  return 0;
}

int listen(const char* host, int port, int backlog, bool reuse_port) {
  AddressStorage address;
  if (!parse_ip_address(host, port, &address)) return -EINVAL;
  const int family = reinterpret_cast<const sockaddr*>(address.bytes)->sa_family;
  const int fd = new_socket(family);
  if (fd < 0) return error_result();
  int32_t result = prepare_socket(fd, false);
  const int one = 1;
  if (result == 0 && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) result = error_result();
  if (result == 0 && reuse_port) {
#ifdef SO_REUSEPORT
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) result = error_result();
#else
    result = -ENOTSUP;
#endif
  }
  if (result == 0 &&
      ::bind(fd, reinterpret_cast<const sockaddr*>(address.bytes), static_cast<socklen_t>(address.length)) < 0) {
    result = error_result();
  }
  if (result == 0 && ::listen(fd, backlog) < 0) result = error_result();
  if (result < 0) {
    ::close(fd);
    return result;
  }
  return fd;
}

int socket(bool ipv6) {
  const int fd = new_socket(ipv6 ? AF_INET6 : AF_INET);
  if (fd < 0) return error_result();
  const int32_t result = prepare_socket(fd, true);
  if (result < 0) {
    ::close(fd);
    return result;
  }
  return fd;
}

int shutdown(int fd, bool send, bool receive) {
  TIGERIO_ASSERT(send || receive);
  const int how = send && receive ? SHUT_RDWR : send ? SHUT_WR : SHUT_RD;
  return ::shutdown(fd, how) == 0 ? 0 : error_result();
}

namespace {

// A TCP option refused because the socket is no TCP socket: Linux says
// ENOPROTOOPT for UDP and EOPNOTSUPP for a Unix socket, the BSDs either;
// every backend says ENOTSUP (on macOS EOPNOTSUPP is another number).
int32_t not_tcp_as_not_supported(int32_t error) {
  return error == -ENOPROTOOPT || error == -EOPNOTSUPP ? -ENOTSUP : error;
}

}  // namespace

int set_cork(int fd, bool on) {
  TIGERIO_ASSERT(fd >= 0);
#if defined(TCP_CORK)
  // Linux: clearing TCP_CORK sends the partial segment it held at once.
  const int value = on ? 1 : 0;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, sizeof(value)) == 0) return 0;
  return not_tcp_as_not_supported(error_result());
#elif defined(TCP_NOPUSH) && !defined(__APPLE__)
  // FreeBSD, OpenBSD, NetBSD: clearing TCP_NOPUSH calls tcp_output, which
  // sends what it held.
  const int value = on ? 1 : 0;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NOPUSH, &value, sizeof(value)) == 0) return 0;
  return not_tcp_as_not_supported(error_result());
#else
  // macOS: xnu's tcp_ctloutput clears TCP_NOPUSH without calling
  // tcp_output, so the partial segment it held waits for the next send, an
  // ACK, or the persist timer (5 s at least): an uncorked response tail
  // could stall that long. There, as on Windows, the call only checks that
  // fd is a TCP socket (a read of the option answers that) and holds nothing.
  (void)on;
  int value = 0;
  socklen_t size = sizeof(value);
#if defined(TCP_NOPUSH)
  if (::getsockopt(fd, IPPROTO_TCP, TCP_NOPUSH, &value, &size) == 0) return 0;
#else
  if (::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &size) == 0) return 0;
#endif
  return not_tcp_as_not_supported(error_result());
#endif
}

int address(int fd, bool peer, char* out, size_t out_size, int* port, int* family) {
  sockaddr_storage storage{};
  socklen_t size = sizeof(storage);
  auto* raw = reinterpret_cast<sockaddr*>(&storage);
  if ((peer ? ::getpeername(fd, raw, &size) : ::getsockname(fd, raw, &size)) < 0) return error_result();
  if (storage.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
    if (::inet_ntop(AF_INET, &v4->sin_addr, out, static_cast<socklen_t>(out_size)) == nullptr) return error_result();
    *port = ntohs(v4->sin_port);
    *family = 4;
    return 0;
  }
  if (storage.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    if (::inet_ntop(AF_INET6, &v6->sin6_addr, out, static_cast<socklen_t>(out_size)) == nullptr) return error_result();
    *port = ntohs(v6->sin6_port);
    *family = 6;
    return 0;
  }
  return -EAFNOSUPPORT;
}

int32_t refuse_self_connection(int fd, const AddressStorage& target) {
  TIGERIO_ASSERT(fd >= 0);
  TIGERIO_ASSERT(target.length >= 1 && target.length <= sizeof(target.bytes));
  sockaddr_storage local{};
  socklen_t size = sizeof(local);
  // Unreadable, the connection stands: the connect did succeed.
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) < 0) return 0;
  if (!same_ip_address(&local, target)) return 0;
  // A UDP socket "connected" to its own address sends to itself, by design.
  int type = 0;
  socklen_t type_size = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_size) < 0 || type != SOCK_STREAM) return 0;
  // Shut both ways, as on Windows, which has no other way to drop it: the
  // socket then fails whatever it is asked but close(), on every OS.
  ::shutdown(fd, SHUT_RDWR);
  return -ECONNREFUSED;
}

// ---- Datagrams, Unix sockets, sendfile ----

namespace {

// A non-blocking, close-on-exec socket of any type (prepare_socket's no-SIGPIPE too).
int new_socket_of(int domain, int type, bool nodelay) {
  TIGERIO_ASSERT(domain == AF_INET || domain == AF_INET6 || domain == AF_UNIX);
  TIGERIO_ASSERT(type == SOCK_STREAM || type == SOCK_DGRAM);
#ifdef SOCK_NONBLOCK
  const int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  const int fd = ::socket(domain, type, 0);
#endif
  if (fd < 0) return error_result();
  const int32_t result = prepare_socket(fd, nodelay);
  if (result < 0) {
    ::close(fd);
    return result;
  }
  return fd;
}

}  // namespace

socklen_t datagram_address_length(const uint8_t* address) {
  TIGERIO_ASSERT(address != nullptr);
  const int family = reinterpret_cast<const sockaddr*>(address)->sa_family;
  TIGERIO_ASSERT(family == AF_INET || family == AF_INET6);
  static_assert(sizeof(sockaddr_in6) <= kDatagramAddressBytes, "SendToArgs holds an IPv6 address");
  return family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

int32_t send_to(int fd, const uint8_t* buffer, uint32_t length, const uint8_t* address) {
  TIGERIO_ASSERT(buffer != nullptr && length >= 1 && length <= kBufferSizeMaxLimit);
  const socklen_t address_length = datagram_address_length(address);
  for (;;) {
    const ssize_t n = ::sendto(fd, buffer, length, kSendFlags, reinterpret_cast<const sockaddr*>(address),
                               address_length);
    TIGERIO_ASSERT(n <= static_cast<ssize_t>(length));
    if (n >= 0) return static_cast<int32_t>(n);
    if (errno == EINTR) continue;
    return error_result();
  }
}

int32_t recv_from(int fd, uint8_t* buffer, uint32_t length, uint8_t* address_out) {
  TIGERIO_ASSERT(buffer != nullptr && length >= 1 && length <= kBufferSizeMaxLimit);
  TIGERIO_ASSERT(address_out != nullptr);
  sockaddr_storage from;
  iovec vector{buffer, length};
  for (;;) {
    msghdr message{};
    message.msg_name = &from;
    message.msg_namelen = sizeof(from);
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(fd, &message, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return error_result();
    }
    TIGERIO_ASSERT(n <= static_cast<ssize_t>(length));
    if (message.msg_namelen > 0) {
      write_address_object(reinterpret_cast<const sockaddr*>(&from), address_out);
    } else {
      std::memset(address_out, 0, kAddressBytes);  // no sender (a connected socket's peer)
    }
    if ((message.msg_flags & MSG_TRUNC) != 0) return -EMSGSIZE;
    return static_cast<int32_t>(n);
  }
}

bool unix_address(const char* path, uint32_t path_length, sockaddr_un* out, socklen_t* out_length) {
  TIGERIO_ASSERT(path != nullptr && out != nullptr && out_length != nullptr);
  std::memset(out, 0, sizeof(*out));
  out->sun_family = AF_UNIX;
  const bool abstract = path_length >= 1 && path[0] == '\0';
  // A file path needs its terminating NUL inside sun_path; an abstract name does not have one.
  if (path_length == 0 || path_length + (abstract ? 0 : 1) > sizeof(out->sun_path)) return false;
#if !defined(__linux__)
  if (abstract) return false;
#endif
  std::memcpy(out->sun_path, path, path_length);
  *out_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_length + (abstract ? 0 : 1));
#if defined(__APPLE__) || defined(__FreeBSD__)
  out->sun_len = static_cast<uint8_t>(*out_length);
#endif
  return true;
}

int32_t connect_unix(int fd, const char* path, uint32_t path_length) {
  TIGERIO_ASSERT(fd >= 0 && path != nullptr);
  TIGERIO_ASSERT(path_length >= 1 && path_length <= unix_path_max());
  sockaddr_un address;
  socklen_t address_length = 0;
  if (!unix_address(path, path_length, &address, &address_length)) return -EINVAL;
  for (;;) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), address_length) == 0) return 0;
    if (errno == EINTR) continue;
    // A local connect completes at once or fails; EAGAIN: the listener's
    // backlog is full (libuv reports it the same way, as an error).
    return error_result();
  }
}

int32_t send_file(int socket_fd, int file_fd, int64_t offset, uint32_t length) {
  TIGERIO_ASSERT(offset >= 0 && length >= 1);
  TIGERIO_ASSERT(length <= kBufferSizeMaxLimit);
  for (;;) {
#if defined(__linux__)
    off_t position = static_cast<off_t>(offset);
    const ssize_t n = ::sendfile(socket_fd, file_fd, &position, length);
    if (n >= 0) return static_cast<int32_t>(n);
#elif defined(__APPLE__)
    off_t sent = static_cast<off_t>(length);
    const int rc = ::sendfile(file_fd, socket_fd, static_cast<off_t>(offset), &sent, nullptr, 0);
    if (rc == 0) return static_cast<int32_t>(sent);
    // A partial send before the socket filled up: those bytes count.
    if ((errno == EAGAIN || errno == EINTR) && sent > 0) return static_cast<int32_t>(sent);
#elif defined(__FreeBSD__)
    off_t sent = 0;
    const int rc = ::sendfile(file_fd, socket_fd, static_cast<off_t>(offset), length, nullptr, &sent, 0);
    if (rc == 0) return static_cast<int32_t>(sent);
    if ((errno == EAGAIN || errno == EINTR) && sent > 0) return static_cast<int32_t>(sent);
#else
    (void)socket_fd;
    (void)file_fd;
    return -ENOTSUP;
#endif
    if (errno == EINTR) continue;
    return error_result();
  }
}

int udp_socket(bool ipv6) { return new_socket_of(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM, false); }

int bind(int fd, const char* host, int port) {
  TIGERIO_ASSERT(host != nullptr);
  TIGERIO_ASSERT(port >= 0 && port <= 65535);
  AddressStorage address;
  if (!parse_ip_address(host, port, &address)) return -EINVAL;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(address.bytes), static_cast<socklen_t>(address.length)) < 0) {
    return error_result();
  }
  return 0;
}

int listen_unix(const char* path, uint32_t path_length, int backlog) {
  TIGERIO_ASSERT(backlog >= 1);
  sockaddr_un address;
  socklen_t address_length = 0;
  if (!unix_address(path, path_length, &address, &address_length)) return -EINVAL;
  const int fd = new_socket_of(AF_UNIX, SOCK_STREAM, false);
  if (fd < 0) return fd;
  int32_t result = 0;
  // A file left at the path (a stale socket) makes bind fail with EADDRINUSE:
  // removing it is the caller's decision, never ours.
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), address_length) < 0) result = error_result();
  if (result == 0 && ::listen(fd, backlog) < 0) result = error_result();
  if (result < 0) {
    ::close(fd);
    return result;
  }
  return fd;
}

int unix_socket() { return new_socket_of(AF_UNIX, SOCK_STREAM, false); }


int32_t exit_result(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return kExitSignaled | WTERMSIG(wait_status);
  return kExitUnknown;
}

#if defined(__linux__)
namespace {

#ifndef P_PIDFD
constexpr idtype_t P_PIDFD = static_cast<idtype_t>(3);
#endif

// linux/pidfd.h (6.15+), which the build machine's headers may predate:
// the first published pidfd_info (PIDFD_INFO_SIZE_VER0, 64 bytes), which
// the kernel accepts from any later version's caller too.
struct PidfdInfo {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;  // a wait status
};
static_assert(sizeof(PidfdInfo) == 64, "PIDFD_INFO_SIZE_VER0");
constexpr uint64_t kPidfdInfoExit = uint64_t{1} << 3;
// _IOWR(PIDFS_IOCTL_MAGIC 0xFF, 11, struct pidfd_info)
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);

}  // namespace

int32_t pidfd_open(int32_t pid) {
  TIGERIO_ASSERT(pid >= 1);
#ifdef SYS_pidfd_open
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
#else
  const long fd = ::syscall(434, pid, 0);  // the same number on every Linux architecture
#endif
  return fd < 0 ? -errno : static_cast<int32_t>(fd);
}

int32_t pidfd_exit_result(int pidfd) {
  TIGERIO_ASSERT(pidfd >= 0);
  PidfdInfo info;
  std::memset(&info, 0, sizeof(info));
  info.mask = kPidfdInfoExit;
  // ENOTTY/EINVAL before 6.15; ESRCH on 6.15+ when the exit is not known yet.
  if (::ioctl(pidfd, kPidfdGetInfo, &info) == 0 && (info.mask & kPidfdInfoExit) != 0) {
    return exit_result(info.exit_code);
  }
  siginfo_t child;
  std::memset(&child, 0, sizeof(child));
  // WNOWAIT: the status stays for whoever reaps the child (node:child_process).
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &child, WEXITED | WNOHANG | WNOWAIT) == 0 && child.si_pid != 0) {
    if (child.si_code == CLD_EXITED) return child.si_status & 0xff;
    if (child.si_code == CLD_KILLED || child.si_code == CLD_DUMPED) return kExitSignaled | child.si_status;
  }
  return kExitUnknown;  // ECHILD: not our child, or reaped already
}
#endif

}  // namespace posix

uint32_t unix_path_max() { return sizeof(sockaddr_un{}.sun_path) - 1; }

bool unix_abstract_namespace() {
#if defined(__linux__)
  return true;
#else
  return false;
#endif
}

bool unix_sockets_available() { return true; }

int PosixBackend::listen(const char* host, int port, int backlog, bool reuse_port) {
  return posix::listen(host, port, backlog, reuse_port);
}

int PosixBackend::socket(bool ipv6) { return posix::socket(ipv6); }

int PosixBackend::address(int fd, bool peer, char* out, size_t out_size, int* port, int* family) {
  return posix::address(fd, peer, out, out_size, port, family);
}

// The core's platform facts and error numbers (core/platform.h, core/errors.h), POSIX's.
extern const uint32_t kFdIndexShift = 0;
extern const int32_t kErrCanceled = -ECANCELED;
extern const int32_t kErrAgain = -EAGAIN;
extern const int32_t kErrBadFd = -EBADF;
extern const int32_t kErrInvalid = -EINVAL;
extern const int32_t kErrNoMemory = -ENOMEM;
extern const int32_t kErrNotSupported = -ENOTSUP;
extern const int32_t kErrTooManyFiles = -EMFILE;
extern const int32_t kErrBusy = -EBUSY;

}  // namespace tigerio
