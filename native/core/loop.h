// The backend-neutral core of an IO: completion slots, the fd table with
// its per-direction FIFOs and close/cancel/reuse rules, timers, events, and
// the harvest into the shared completions array. Backends only issue ops to
// the kernel and report results (core/backend.h). One Loop per IO, used by
// one thread only (but Loop::event_trigger, which any thread may call).
//
// Sequencing (contract rule 4), once for every backend: each fd has two
// FIFOs (operation.h Direction) and only the head of each is issued to the
// backend; when it completes, the next is issued. close(fd) completes the
// queued ops with ECANCELED at once, asks the backend for the issued heads
// back, and closes the fd once they have completed, so its own callback
// comes last and the kernel never sees a closed fd it still uses.
//
// A reused fd number (rule 9): when the IO gets a new fd (accept, open,
// listen, socket) whose number still has ops of an older fd, closed behind
// the IO's back, those ops complete with EBADF (the ones the kernel has are
// cancelled there first) and the new fd starts with empty queues. Its ops
// never wait behind the dead fd's.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "assert.h"
#include "backend.h"
#include "fd_table.h"
#include "op_table.h"
#include "operation.h"
#include "timers.h"

namespace tigerio {

struct LoopConfig {
  uint32_t entries;          // completions harvested per poll; kernel ring size
  uint32_t operations_max;   // ops in flight at once
  uint32_t buffer_size_max;  // bytes per recv/send/read/write at most
  uint32_t fds_max;          // fd table entries (fd numbers >> kFdIndexShift below it)
  int32_t* completions;      // entries * 2 int32 words, shared with JS
  int32_t* state;            // kStateLength int32 words, shared with JS
  double* completion_values;  // entries float64s, shared with JS: wide values (layout.h kCompletionValueFlag)
};

class Loop {
 public:
  // Creates the loop with the named backend; on failure `error` is a negative errno.
  static std::unique_ptr<Loop> create(const std::string& backend, const LoopConfig& config, BackendFactory factory,
                                      int* error);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  const LoopConfig& config() const { return config_; }
  const char* backend_name() const { return backend_->name(); }
  // Only for the Windows attachment, which needs the IOCP backend's waiter.
  Backend& backend() { return *backend_; }
  int poll_fd() const { return backend_->poll_fd(); }

  // Submission: acquire() the op of the slot JS chose (io/ allocates ids and
  // keeps at most operations_max in flight), fill its arguments, then
  // start() it, or fail() it when its arguments turned out unusable.
  Op* acquire(uint32_t slot, OpKind kind, int32_t fd);
  void start(Op* op);
  void fail(Op* op, int32_t result);
  // Cancels the op in `slot`: true if it will complete with ECANCELED (or,
  // in a completion backend whose kernel finished it first, its own
  // result); false if it has completed already or cannot be cancelled.
  bool cancel(uint32_t slot);
  // A timeout's deadline: the one JS stamped at its call on this backend's
  // clock (io/clock.ts; a simulated world's own clock for a simulated IO).
  int64_t deadline_ns(int64_t delay_ns, int64_t stamped_deadline_ns) const;

  // Harvests up to `entries` completions into the completions array, waiting
  // up to timeout_ns (-1: no limit) when none is ready. Returns the count,
  // which may be 0 before timeout_ns has passed (Backend::wait may end
  // early): callers with a deadline poll again for what is left.
  uint32_t poll(int64_t timeout_ns);
  // Completes every pending op with ECANCELED (harvest them with poll(0)).
  void cancel_all();

  // Backends: an issued op is done; queues it for the next harvest and
  // issues its fd's next op.
  void complete(Op* op, int32_t result);
  // Backends: a fileSize is done. size_or_error >= 0 is the size in bytes
  // (delivered beside the completion, see layout.h), < 0 a negative errno.
  void complete_size(Op* op, int64_t size_or_error);
  FdTable& fds() { return fds_; }
  // The pending op with this id (a completion backend's user_data), or nullptr.
  Op* find_pending(uint64_t id) {
    Op* op = ops_.find(id);
    return op != nullptr && op->state == OpState::pending ? op : nullptr;
  }

  bool has_ready() const { return !ready_.empty(); }
  // Ops submitted and not yet harvested, ready ones included.
  uint32_t inflight() const { return static_cast<uint32_t>(config_.state[kStateInflight]); }
  // The backend's clock (core/backend.h now_ns): timeouts' deadlines are on it.
  int64_t now_ns() const { return backend_->now_ns(); }
  // The nearest timeout's deadline (monotonic ns), or -1.
  int64_t next_deadline_ns() const { return timers_.next_deadline_ns(); }
  // Submissions the backend holds for its next wait (attach schedules a round).
  bool has_unsubmitted() const { return backend_->has_unsubmitted(); }

  // Synchronous socket helpers: a new fd is this IO's (see fd_opened).
  int listen(const char* host, int port, int backlog, bool reuse_port);
  int socket(bool ipv6);
  int address(int fd, bool peer, char* address, size_t address_size, int* port, int* family);
  int shutdown(int fd, bool send, bool receive);
  int udp_socket(bool ipv6);
  int bind(int fd, const char* host, int port);
  int listen_unix(const char* path, uint32_t path_length, int backlog);
  int unix_socket();

  // Cross-thread events (see events.cc).
  int64_t event_open();  // a handle, or a negative errno
  bool event_close(uint32_t handle);
  static bool event_trigger(uint32_t handle);

 private:
  explicit Loop(const LoopConfig& config);
  struct Event {
    uint32_t handle = 0;
    Op* listener = nullptr;
    std::atomic<bool> triggered{false};
  };
  void start_fd_op(Op* op);
  void start_close(Op* op);
  void advance(FdEntry& entry, Direction direction);
  void finish_close(int32_t fd, FdEntry& entry);
  void request_cancel(Op* op, FdEntry* entry);
  void begin(Op* op);
  void fd_opened(int32_t fd);
  void fire_timers();
  void drain_backend();
  void event_listen(Op* op);
  void fire_events();
  bool cancel_event_listener(Op* op);
  void release_delivered();
  void unregister_events();

  LoopConfig config_;
  std::unique_ptr<Backend> backend_;
  OpTable ops_;
  FdTable fds_;
  uint32_t fd_index_end_ = 0;  // one past the highest fd table index ever used
  Timers timers_;
  OpQueue ready_{};       // completed, waiting for a harvest
  OpQueue delivering_{};  // harvested; freed at the next poll, once JS has dispatched them
  OpQueue loose_{};       // issued ops with no fd queue (open)
  uint32_t pending_ = 0;  // ops started and not completed
  uint64_t sequence_ = 0;
  Event events_[kEventsPerIOMax];
  std::atomic<bool> events_signaled_{false};
};

}  // namespace tigerio
