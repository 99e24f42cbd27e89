// What every POSIX backend (epoll, io_uring, kqueue) shares: the synchronous
// socket helpers, the non-blocking syscall attempts the readiness backends
// retry on EAGAIN, and the file operations. Results are fds or byte counts,
// or negative errnos (core/errors.h). Linux-only calls (accept4,
// SOCK_NONBLOCK, MSG_NOSIGNAL) have portable fallbacks for macOS/BSD.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>

#include "../core/operation.h"
#include "../core/backend.h"

namespace tigerio {

namespace posix {

int32_t accept(int fd);  // new fd: non-blocking, close-on-exec, TCP_NODELAY
int32_t recv(int fd, uint8_t* buffer, uint32_t length);
// True if fd is a SOCK_STREAM socket (false on any error).
bool is_stream_socket(int fd);
int32_t send(int fd, const uint8_t* buffer, uint32_t length);  // never raises SIGPIPE
int32_t connect_start(int fd, const AddressStorage& address);   // 0, -EINPROGRESS, or error
int32_t connect_finish(int fd, const AddressStorage& address);  // 0, -EAGAIN (still connecting), or error
int32_t read(int fd, uint8_t* buffer, uint32_t length, int64_t position);
int32_t write(int fd, const uint8_t* buffer, uint32_t length, int64_t position);
// kOpenDirect: O_DIRECT where the OS has it (Linux, FreeBSD; a file system
// that refuses it fails the open with EINVAL), F_NOCACHE set after the open
// on macOS, EINVAL where the OS has neither.
int32_t open(const char* path, uint32_t flags, uint32_t mode);
// open()'s layout.h kOpen* bits as the OS's O_* flags (close-on-exec always,
// O_DIRECT for kOpenDirect): for io_uring's openat, which only Linux has.
int open_os_flags(uint32_t flags);
// Makes the data (data_only: fdatasync) or the data and metadata (fsync)
// of fd durable: 0 or a negative errno. macOS: F_FULLFSYNC (a plain fsync
// there only reaches the drive's cache), falling back to fsync where the
// file system refuses F_FULLFSYNC; its fdatasync is the same F_FULLFSYNC.
int32_t fsync(int fd, bool data_only);
// The size of fd's file in bytes (fstat), or a negative errno.
int64_t file_size(int fd);
// ftruncate: 0 or a negative errno.
int32_t truncate(int fd, int64_t length_bytes);
// Gives [offset, offset + length) disk blocks and makes the file at least
// offset + length bytes long (posix_fallocate; F_PREALLOCATE then ftruncate
// on macOS, which can only preallocate at the end of a file): 0 or a
// negative errno (ENOSPC when the disk is full: the point of allocating).
int32_t allocate(int fd, int64_t offset_bytes, int64_t length_bytes);
int32_t close(int fd);
// Makes an fd that this IO did not create non-blocking; -EBADF if not open.
int32_t ensure_nonblocking(int fd);

int listen(const char* host, int port, int backlog, bool reuse_port);
int socket(bool ipv6);
int address(int fd, bool peer, char* address, size_t address_size, int* port, int* family);
int shutdown(int fd, bool send, bool receive);
// Corks or uncorks a TCP socket (Backend::set_cork): 0 or a negative errno.
int set_cork(int fd, bool on);
// Backend::refuse_self_connection, POSIX's.
int32_t refuse_self_connection(int fd, const AddressStorage& target);

// ---- Datagrams, Unix sockets, sendfile ----
// A sendTo's address (a sockaddr_in or sockaddr_in6 in SendToArgs) as the OS takes it.
socklen_t datagram_address_length(const uint8_t* address);
int32_t send_to(int fd, const uint8_t* buffer, uint32_t length, const uint8_t* address);
// One datagram: its size, or -EMSGSIZE when it was longer than `length`
// (the buffer then holds its first `length` bytes); the sender goes into `address_out`.
int32_t recv_from(int fd, uint8_t* buffer, uint32_t length, uint8_t* address_out);
// A sockaddr_un for `path` (a leading NUL: Linux's abstract namespace); false if it does not fit.
bool unix_address(const char* path, uint32_t path_length, sockaddr_un* out, socklen_t* out_length);
int32_t connect_unix(int fd, const char* path, uint32_t path_length);  // 0 or error (EAGAIN: backlog full)
// sendfile(2): bytes sent from file_fd at offset, -EAGAIN when the socket is full.
int32_t send_file(int socket_fd, int file_fd, int64_t offset, uint32_t length);
int udp_socket(bool ipv6);
int bind(int fd, const char* host, int port);
int listen_unix(const char* path, uint32_t path_length, int backlog);

// Process exits (processExit). A wait status (waitpid's) as processExit's
// result (layout.h kExit*).
int32_t exit_result(int wait_status);
// Linux: a pidfd for `pid` (close-on-exec), or a negative errno (ESRCH: no
// such process, or one reaped already; ENOSYS: a kernel before 5.3).
int32_t pidfd_open(int32_t pid);
// Linux: the exit of the process behind `pidfd`, which has exited, as
// processExit's result: from the pidfd itself where the kernel keeps it
// (6.15+, any process), else from waitid(WNOWAIT) while it is a zombie
// child of ours (left for its reaper, node:child_process), else kExitUnknown.
int32_t pidfd_exit_result(int pidfd);
int unix_socket();

// ---- The file namespace (posix_paths.cc) ----
// rename(2); kRenameNoReplace: renameat2 RENAME_NOREPLACE on Linux,
// renamex_np RENAME_EXCL on macOS, ENOTSUP elsewhere. 0 or a negative errno.
int32_t rename(const char* from, const char* to, uint32_t flags);
// unlink(2), EISDIR for a directory on every OS (macOS says EPERM).
int32_t unlink(const char* path);
int32_t mkdir(const char* path, uint32_t mode);
// An fd on the directory (O_RDONLY | O_DIRECTORY) for fsync: the fd or a negative errno.
int32_t open_directory(const char* path);
// The blocking syscall of a file or path operation (open, read, write,
// fsync, fdatasync, fileSize, truncate, allocate, rename, unlink, mkdir,
// openDirectory): its result, int64 for fileSize. Thread-safe: a pool
// thread runs it (core/thread_pool.h).
int64_t run_file_op(const Op& op);

}  // namespace posix

// A backend with the POSIX socket helpers (the core records the fds they make).
class PosixBackend : public Backend {
 public:
  int listen(const char* host, int port, int backlog, bool reuse_port) override;
  int socket(bool ipv6) override;
  int address(int fd, bool peer, char* address, size_t address_size, int* port, int* family) override;
  int shutdown(int fd, bool send, bool receive) override { return posix::shutdown(fd, send, receive); }
  int set_cork(int fd, bool on) override { return posix::set_cork(fd, on); }
  int udp_socket(bool ipv6) override { return posix::udp_socket(ipv6); }
  int bind(int fd, const char* host, int port) override { return posix::bind(fd, host, port); }
  int listen_unix(const char* path, uint32_t path_length, int backlog) override {
    return posix::listen_unix(path, path_length, backlog);
  }
  int unix_socket() override { return posix::unix_socket(); }
  int32_t refuse_self_connection(int fd, const AddressStorage& target) override {
    return posix::refuse_self_connection(fd, target);
  }

 protected:
  using Backend::Backend;
};

}  // namespace tigerio
