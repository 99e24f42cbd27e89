// The interface every OS backend implements (epoll, io_uring, kqueue, iocp).
// A backend owns the kernel object, starts operations and reports each one's
// result exactly once through Loop::complete(). It never calls into JS.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/operation.h"

namespace tigerio {

class Loop;

// Parses an IP literal and port into a connect() address; false if `host`
// is not an IP literal. One per OS family (posix.cc, the Windows backend).
bool parse_ip_address(const char* host, int port, AddressStorage* address);

class Backend {
 public:
  virtual ~Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  virtual const char* name() const = 0;

  // Starts `op` (any kind but event_listen, which the loop keeps). The
  // backend may complete it at once: Loop::complete() only queues it, and JS
  // sees it on the next poll, never inside the submitting call.
  virtual void submit(Op* op) = 0;
  // Cancels a pending op: true if it will complete with ECANCELED. An op the
  // kernel finishes first keeps its own result.
  virtual bool cancel(Op* op) = 0;
  // Completes every pending op (ECANCELED unless already done) before it returns.
  virtual void cancel_all() = 0;
  // Flushes submissions, waits up to timeout_ns (-1: no limit; 0: do not
  // block) for at least one completion or wake(), and completes what is ready.
  virtual void wait(int64_t timeout_ns) = 0;
  // Thread-safe: makes a wait() in progress (or the next one) return.
  virtual void wake() = 0;

  // For attach(): an fd that is readable when wait(0) would find work.
  virtual int poll_fd() const = 0;
  // For attach(): true if submissions are queued that only the next wait()
  // hands to the kernel (io_uring batches SQEs per tick), so that Node's
  // loop runs a round soon instead of waiting on poll_fd() for them.
  virtual bool has_unsubmitted() const { return false; }
  // For attach(): the nearest deadline of a timer the kernel does not watch
  // (monotonic ns), or -1.
  virtual int64_t next_deadline_ns() const { return -1; }

  // Synchronous helpers; each returns the fd (or 0) or a negative errno.
  virtual int listen(const char* host, int port, int backlog, bool reuse_port) = 0;
  virtual int socket(bool ipv6) = 0;
  // Writes the IP literal into `address`, and the port and family (4 or 6).
  virtual int address(int fd, bool peer, char* address, size_t address_size, int* port, int* family) = 0;
  // Shuts down a connected socket's sending and/or receiving side; 0 or a
  // negative errno.
  virtual int shutdown(int fd, bool send, bool receive) = 0;
  // Closes an fd at destroy time, synchronously, with nothing pending on it.
  virtual void close_now(int fd) = 0;

 protected:
  explicit Backend(Loop* loop) : loop_(loop) {}
  Loop* const loop_;
};

}  // namespace tigerio
