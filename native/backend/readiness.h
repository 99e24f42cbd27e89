// The readiness model shared by epoll and kqueue (TigerBeetle's darwin.zig
// and libuv's unix core do the same): try the syscall first; only on EAGAIN
// make sure the fd is registered with the poller and wait for its event.
// The op waits as the head of its fd's queue in the core; the poller's event
// retries it. Registration is once per fd lifetime, edge-triggered: after
// the first EAGAIN no epoll_ctl/kevent change is needed again, and a wake-up
// costs work only for the fds that are ready (O(ready), never
// O(connections)). File and path operations (open, read, write, fsync,
// rename, ...) run on the IO's thread pool (core/thread_pool.h): no
// readiness API waits on a regular file, and the disk may take milliseconds.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "../core/fd_table.h"
#include "../core/thread_pool.h"
#include "posix.h"

namespace tigerio {

// The OS-specific part of a readiness backend: epoll.cc, kqueue.cc.
class Poller {
 public:
  struct Event {
    int fd;
    bool readable;  // also on error and hang-up: the op's syscall then reports it
    bool writable;
    // The peer will send nothing more (end of stream, reset, error): a recv
    // returns at once from now on, so a short read no longer proves the
    // receive queue empty (it may hold the end of stream behind the data).
    bool read_ended;
    // A socket error the poller reported with the event (kqueue's fflags
    // with EV_EOF), positive errno or 0. kqueue implementations may consume
    // SO_ERROR themselves (libkqueue does), so connect and recv take it from here.
    int error;
    // A process's exit (watch_process), not an fd's readiness: fd is -1 and
    // this is the processExit's op id; exit_result is its result
    // (layout.h kExit*), or -1 for the backend to ask (posix::pidfd_exit_result).
    bool process;
    uint64_t process_op_id;
    int32_t exit_result;
  };
  virtual ~Poller() = default;
  virtual int fd() const = 0;
  static constexpr uint8_t kReadable = 1;
  static constexpr uint8_t kWritable = 2;
  // Makes sure `fd` is watched, edge-triggered, for at least `directions`
  // (kReadable/kWritable bits). Returns every direction now watched (a
  // poller may watch both at once: epoll does, for one epoll_ctl per fd
  // lifetime), or a negative errno.
  virtual int add(int fd, uint8_t directions) = 0;
  virtual void remove(int fd) = 0;
  // Watches process `pid` for its exit, once: its event carries `op_id`.
  // 0 or a negative errno (ESRCH: no such process); `*handle` is what
  // unwatch_process takes (Linux: the pidfd; kqueue: the op id, as one
  // kevent serves every op that waits for the same pid).
  virtual int watch_process(int32_t pid, uint64_t op_id, int64_t* handle) = 0;
  // Stops watching (after the event, or to cancel) and frees the handle.
  virtual void unwatch_process(int32_t pid, int64_t handle) = 0;
  // Waits up to timeout_ns (-1: no limit) and writes at most events_max
  // events. Wake-ups are consumed here and not reported. Returns the count,
  // which may be 0 before timeout_ns has passed (epoll waits whole
  // milliseconds first), or a negative errno (EINTR: the backend returns
  // with nothing and the loop's caller waits again, see core/backend.h).
  virtual int wait(Event* events, uint32_t events_max, int64_t timeout_ns) = 0;
  virtual void wake() = 0;  // thread-safe
};

class ReadinessBackend : public PosixBackend {
 public:
  ReadinessBackend(Loop* loop, std::unique_ptr<Poller> poller, const char* name, uint32_t events_max,
                   uint32_t file_threads);

  const char* name() const override { return name_; }
  void issue(Op* op, FdEntry* entry) override;
  void cancel(Op* op, FdEntry* entry) override;
  void fd_opened(int32_t fd, FdEntry& entry) override;
  int32_t close(int32_t fd, FdEntry* entry) override;
  void wait(int64_t timeout_ns) override;
  void wake() override { poller_->wake(); }
  int poll_fd() const override { return poller_->fd(); }

  // What the backend keeps in FdEntry::backend.
  struct FdState {
    uint8_t known;       // made by this IO, or checked to be open and made non-blocking
    uint8_t registered;  // directions the poller watches (Poller::kReadable/kWritable)
    // A recv on this stream socket came back short (0 < n < length): the
    // receive queue was empty then, so the next recv waits for the poller's
    // next readable event instead of trying first and failing with EAGAIN.
    // Set only once the fd is registered for readable; cleared by every
    // readable event (data, hang-up, error). Never set once read_ended.
    uint8_t read_drained;
    uint8_t stream;  // 0: not yet asked; 1: a SOCK_STREAM socket; 2: something else
    // An event said the peer sends no more (Poller::Event::read_ended). Its
    // end of stream can arrive with the last data, in the same event; after a
    // short read of that data no further event comes, so no recv may wait.
    uint8_t read_ended;
  };

 private:
  void issue_socket_op(Op* op, FdEntry& entry);
  void finish_process_exit(const Poller::Event& event);
  // The op's syscall: a result, or kErrAgain to wait for readiness.
  int32_t attempt(Op* op);
  // A poller event for the head of one of entry's queues.
  void retry(FdEntry& entry, Direction direction, int error);
  // After a recv's result: marks the fd drained when the result shows it (see FdState::read_drained).
  void note_recv(const Op* op, FdState& state, int32_t result);
  // The thread pool's hooks: the syscall (a pool thread), the wake-up, the completion (the loop thread).
  static int64_t run_pooled(Op* op, void* context);
  static void wake_from_pool(void* context);
  static void finish_pooled(Op* op, int64_t result, void* data);

  const char* const name_;
  std::unique_ptr<Poller> poller_;
  std::vector<Poller::Event> events_;  // sized at init: `entries`
  ThreadPool pool_;  // last: its threads are joined before the poller they wake goes
};

}  // namespace tigerio
