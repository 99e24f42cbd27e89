// The interface the core declares and every OS backend implements (epoll,
// io_uring, kqueue, iocp). A backend does kernel calls only: issue an op,
// cancel it in the kernel, close a handle, wait. Sequencing per fd, timers,
// events, close-after-drain and the reused-fd rule are the core's (loop.h),
// so a backend never queues an op behind another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "operation.h"

namespace tigerio {

class Loop;
struct LoopConfig;
struct FdEntry;
struct BufferPool;

// Parses an IP literal and port into a socket address; false if `host` is
// not an IP literal. Defined once per OS family by the backend layer.
bool parse_ip_address(const char* host, int port, AddressStorage* address);
// A recvFrom address object (layout.h kAddress*) as a socket address; false
// if it holds none (family 0) or its port is 0.
bool parse_address_object(const uint8_t* object, AddressStorage* address);
// Writes a received socket address (a sockaddr_in or sockaddr_in6; anything
// else leaves family 0) into a recvFrom address object.
void write_address_object(const void* address, uint8_t* object);
// True if a socket's own address (a sockaddr_in or sockaddr_in6, as
// getsockname gives it) is `target`: the same family, IP and port.
bool same_ip_address(const void* address, const AddressStorage& target);
// The longest Unix socket path in bytes (sun_path less its NUL: 107 on
// Linux and Windows, 103 on macOS/BSD); defined by the backend layer.
uint32_t unix_path_max();
// True where a Unix socket path starting with NUL names Linux's abstract namespace.
bool unix_abstract_namespace();
// False where the OS has no AF_UNIX stream sockets at all (a Windows without
// the AF_UNIX provider: before 10 1803, or Wine); true on POSIX. Probed at
// the first call, not at load.
bool unix_sockets_available();

class Backend {
 public:
  virtual ~Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  virtual const char* name() const = 0;

  // Starts `op` in the kernel: accept, connect, recv, send, read, write (the
  // head of its fd's queue; `entry` is its fd's) or open (entry nullptr).
  // The backend reports its result exactly once through Loop::complete(),
  // inside this call or later; JS sees it on the next poll either way.
  virtual void issue(Op* op, FdEntry* entry) = 0;
  // Asks the kernel to give an issued op back. It still completes exactly
  // once through Loop::complete(): inside this call if nothing is in the
  // kernel (a readiness backend's waiting op), else later, with ECANCELED
  // or, when the kernel finished it first, its own result. The core asks
  // again, every round (core/loop.h), while the answer has not come: a
  // kernel may lose a cancel (Wine does), so a second call asks again, or
  // does nothing if one is on its way. Once the core has abandoned the op
  // (Loop::abandon, OpState::abandoned) it asks no more: the backend hands
  // the kernel's late answer to Loop::complete() without concluding it
  // (its fd may be closed or reused, its buffer no one's).
  virtual void cancel(Op* op, FdEntry* entry) = 0;
  // The IO ends (every op completed) while the kernel still holds ops the
  // core abandoned: a backend that can end them now hands each one to
  // Loop::complete() (a simulated world: its IO's end ends them, as a
  // process's exit ends its I/O). The default leaves them: the core then
  // keeps their storage, and the backend, to the process's end.
  virtual void end_abandoned() {}
  // A new fd this IO made (accept, open, listen, socket): its entry has just
  // been zeroed, and the backend may note what it knows of the fd (it is
  // non-blocking, a socket or a file).
  virtual void fd_opened(int32_t fd, FdEntry& entry) {
    (void)fd;
    (void)entry;
  }
  // Closes a handle on which nothing of this IO is issued: 0 or a negative
  // errno. `entry` is its fd's, or nullptr beyond the table.
  virtual int32_t close(int32_t fd, FdEntry* entry) = 0;
  // Hands queued submissions to the kernel, waits up to timeout_ns (-1: no
  // limit; 0: do not block) for a completion or wake(), and completes what
  // is ready. It may return sooner with nothing completed (a signal, or a
  // poller that waits in whole milliseconds first): every caller waits
  // again for what is left of its own time. A failed wait other than
  // EINTR is a broken invariant, never "no events".
  virtual void wait(int64_t timeout_ns) = 0;
  // Hands what issue() queued to the kernel now, without waiting (a
  // completion backend that batches submissions per wait): a synchronous
  // call such as shutdown() then comes after the operations before it.
  virtual void submit() {}
  // Thread-safe: makes a wait() in progress (or the next one) return.
  virtual void wake() = 0;

  // The clock every deadline is measured on: the monotonic clock, or a
  // simulated one (a simulation backend advances it only when nothing is runnable).
  virtual int64_t now_ns() const;

  // For attach(): an fd that is readable when wait(0) would find work, or
  // -1 for a backend with no kernel object (attach() then drives it by rounds).
  virtual int poll_fd() const = 0;
  // For attach() of a backend with no poll fd: `hook(data)` is called, from
  // any thread, whenever wake() is (nullptr removes it; once this returns,
  // the old hook is no longer running or called).
  virtual void set_wake_hook(void (*hook)(void*), void* data) {
    (void)hook;
    (void)data;
  }
  // For attach(): submissions that only the next wait() hands to the
  // kernel (io_uring batches SQEs per tick).
  virtual bool has_unsubmitted() const { return false; }

  // True if this backend's fds are the process's (the core then records
  // them in the process-wide fd owners, core/fd_owners.h); false for a
  // simulated world's virtual fds, which would alias real ones there: such
  // a backend closes the fds its IO still owns when it is destroyed.
  virtual bool fds_are_process_wide() const { return true; }
  // True if this IO's signal waits hear the process's signals (core/signals.h);
  // false for a simulated world, whose signals only Simulation.signal sends.
  virtual bool receives_process_signals() const { return true; }

  // Buffer pools (core/buffer_pools.h). A backend whose kernel picks the
  // buffer when data arrives (io_uring's provided-buffer ring) takes every
  // buffer of the new pool `id` and returns true; false (the default, or a
  // kernel without such rings) leaves the free buffers to the core, which
  // lends one to a recvPooled through Loop::pool_take once data is there.
  virtual bool pool_created(uint32_t id, BufferPool& pool) {
    (void)id;
    (void)pool;
    return false;
  }
  // A buffer of a pool this backend keeps (pool_created said true) is free again.
  virtual void pool_recycle(uint32_t id, BufferPool& pool, uint32_t index) {
    (void)id;
    (void)pool;
    (void)index;
  }

  // Synchronous helpers; each returns the fd (or 0) or a negative errno.
  virtual int listen(const char* host, int port, int backlog, bool reuse_port) = 0;
  virtual int socket(bool ipv6) = 0;
  // Writes the IP literal into `address`, and the port and family (4 or 6).
  virtual int address(int fd, bool peer, char* address, size_t address_size, int* port, int* family) = 0;
  virtual int shutdown(int fd, bool send, bool receive) = 0;
  // Datagrams and local sockets: a backend without them says ENOTSUP.
  // A non-blocking UDP socket.
  virtual int udp_socket(bool ipv6);
  // Binds a socket to an IP literal and port (0: the OS chooses).
  virtual int bind(int fd, const char* host, int port);
  // After a connect to `target` succeeded: if fd is a stream socket now
  // connected to itself, shuts that connection both ways and returns the
  // error its connect reports instead (ECONNREFUSED); else 0, the
  // connection stands.
  // TCP's simultaneous open connects a socket to itself when the port the
  // kernel gave it is the one it dials (a local server that is down, its
  // port in the ephemeral range): the client would then read its own
  // requests back. The simulation never connects a socket to itself.
  virtual int32_t refuse_self_connection(int fd, const AddressStorage& target) {
    (void)fd;
    (void)target;
    return 0;
  }
  // A non-blocking listening Unix stream socket at `path` (path_length
  // bytes, a leading NUL for the abstract namespace).
  virtual int listen_unix(const char* path, uint32_t path_length, int backlog);
  // A non-blocking Unix stream socket for connect_unix.
  virtual int unix_socket();
  // Holds back partial segments of a TCP socket while `on` (Linux
  // TCP_CORK, the BSDs' TCP_NOPUSH); off sends what was held. 0, EBADF,
  // ENOTSOCK, or ENOTSUP for a socket that is not TCP. A backend whose OS
  // has no such option checks the fd the same way and does nothing. No
  // default: one that answered ENOTSUP for every fd would break the errors.
  virtual int set_cork(int fd, bool on) = 0;

 protected:
  explicit Backend(Loop* loop) : loop_(loop) {}
  Loop* const loop_;
};

// Makes the named backend for `loop` (the backend layer's registry): nullptr
// with `error` set (a negative errno) when it is unknown or fails.
using BackendFactory = std::unique_ptr<Backend> (*)(const std::string& name, Loop* loop, const LoopConfig& config,
                                                    int* error);

}  // namespace tigerio
