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
//
// A cancel the kernel does not answer (rule: nothing waits without bound):
// an issued op whose cancel (cancel, close or deinit) has not come back is
// asked again every kCancelRetryNs (Wine loses a CancelIoEx that meets an
// operation it is resuming; the next one is honoured), and after
// kCancelRoundsMax rounds it is abandoned (Loop::abandon): it completes
// with ECANCELED through a stand-in of the same id, while its own storage
// (where the kernel may still write: an OVERLAPPED, an address) stays out
// of reuse until the kernel answers, or to the process's end if the IO
// ends first (its op storage and backend are then never freed). JS keeps
// the buffer of an abandoned op for the same reason (io/abandoned.ts).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "assert.h"
#include "backend.h"
#include "buffer_pools.h"
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
  uint32_t file_threads;      // the most threads a backend's file-work pool starts (core/thread_pool.h)
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
  // Storage for an acquired op's path (OpTable::path_storage); nullptr if no memory.
  char* path_storage(Op* op, size_t bytes) { return ops_.path_storage(op, bytes); }
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
  // Backends: a processExit is done with an exit code (any, 32 bits wide, on
  // Windows): up to 255 as its result, beyond as the completion's value.
  void complete_exit_code(Op* op, uint32_t code);
  FdTable& fds() { return fds_; }
  // The pending op with this id (a completion backend's user_data), or nullptr.
  Op* find_pending(uint64_t id) {
    Op* op = ops_.find(id);
    return op != nullptr && op->state == OpState::pending ? op : nullptr;
  }
  // The op with this id the kernel may still hold: pending, or abandoned
  // (whose answer the backend hands to complete(), which frees it).
  Op* find_issued(uint64_t id);

  bool has_ready() const { return !ready_.empty(); }
  // Completed ops not yet harvested (a backend's wait compares it to see what it completed).
  uint32_t ready_count() const { return ready_.size(); }
  // Ops abandoned (Loop::abandon) whose kernel has not answered yet: their storage is out of reuse.
  uint32_t abandoned_count() const { return abandoned_.size(); }
  // Ops submitted and not yet harvested, ready ones included.
  uint32_t inflight() const { return static_cast<uint32_t>(config_.state[kStateInflight]); }
  // The backend's clock (core/backend.h now_ns): timeouts' deadlines are on it.
  int64_t now_ns() const { return backend_->now_ns(); }
  // The nearest deadline (monotonic ns), or -1: a timeout's, or the next
  // round of asking again for cancels the kernel has not answered.
  int64_t next_deadline_ns() const;
  // Submissions the backend holds for its next wait (attach schedules a round).
  bool has_unsubmitted() const { return backend_->has_unsubmitted(); }

  // Synchronous socket helpers: a new fd is this IO's (see fd_opened).
  int listen(const char* host, int port, int backlog, bool reuse_port);
  int socket(bool ipv6);
  int address(int fd, bool peer, char* address, size_t address_size, int* port, int* family);
  int shutdown(int fd, bool send, bool receive);
  int set_cork(int fd, bool on);
  int udp_socket(bool ipv6);
  int bind(int fd, const char* host, int port);
  int listen_unix(const char* path, uint32_t path_length, int backlog);
  int unix_socket();

  // Buffer pools (core/buffer_pools.h, see buffer_pools.cc). Creates a pool
  // of `count` buffers of `size` bytes at `memory`, which must outlive the
  // Loop: its id, or a negative errno (ENOMEM; also past kPoolsPerIOMax pools).
  int32_t pool_create(uint8_t* memory, uint32_t count, uint32_t size);
  // The caller gives lent buffer `index` back: 0, or EINVAL when it is not
  // lent (given back twice, or never handed out); nothing changes then.
  int32_t pool_release(uint32_t id, uint32_t index);
  uint32_t pool_count() const { return static_cast<uint32_t>(pools_.size()); }
  BufferPool& pool(uint32_t id) {
    TIGERIO_ASSERT(id < pools_.size());
    return *pools_[id];
  }
  // Backends whose pools the core keeps: a free buffer for the recvPooled
  // `op` (op->args.recv_pooled.buffer), or false when its pool is empty.
  bool pool_take(Op* op);
  // The buffer pool_take gave `op` was not needed (nothing to read after all).
  void pool_untake(Op* op);
  // `op`, issued, found its pool empty: the backend holds nothing of it any
  // more, and it waits in the core until a buffer comes back, then is issued again.
  void pool_park(Op* op);

  // Cross-thread events (see events.cc).
  int64_t event_open();  // a handle, or a negative errno
  bool event_close(uint32_t handle);
  static bool event_trigger(uint32_t handle);

  // Signals (signals.h): any thread, from the fan-out or a simulated world:
  // `number` arrived; the waits for it complete at the next poll.
  void signal_arrived(int32_t number);

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
  void revisit_cancels();
  void revisit_cancel(Op* op, FdEntry* entry);
  void abandon(Op* op);
  void event_listen(Op* op);
  void fire_events();
  bool cancel_event_listener(Op* op);
  void release_delivered();
  void unregister_events();
  void signal_wait(Op* op);
  bool signal_waited(int32_t number) const;
  void fire_signals();
  void lapse_signals();
  void unsubscribe_signal(int32_t number);
  bool cancel_signal_wait(Op* op);
  void cancel_signal_waits();
  void pool_settle(Op* op, int32_t result);
  void pool_free(uint32_t id, uint32_t index);
  void pool_wake(BufferPool& pool);
  void pool_unpark(Op* op);

  LoopConfig config_;
  std::unique_ptr<Backend> backend_;
  OpTable ops_;
  FdTable fds_;
  uint32_t fd_index_end_ = 0;  // one past the highest fd table index ever used
  Timers timers_;
  OpQueue ready_{};       // completed, waiting for a harvest
  OpQueue delivering_{};  // harvested; freed at the next poll, once JS has dispatched them
  OpQueue loose_{};       // issued ops with no fd queue (open, orphans)
  OpQueue abandoned_{};   // ops whose kernel never answered a cancel: storage kept until it does
  uint32_t pending_ = 0;  // ops started and not completed
  uint32_t cancels_outstanding_ = 0;  // ops with kOpCancelOutstanding
  int64_t cancel_round_due_ns_ = 0;   // when revisit_cancels() asks again (while any is outstanding)
  uint64_t timeout_sequence_ = 0;  // the next timeout's TimeoutArgs::sequence
  Event events_[kEventsPerIOMax];
  std::atomic<bool> events_signaled_{false};
  // Signals (signals.cc): the pending waits, and bit sets by signal number.
  OpQueue signal_waits_{};
  uint64_t signals_subscribed_ = 0;  // in the process-wide table (or, simulated, in the world)
  uint64_t signals_remembered_ = 0;  // arrived with no wait pending: the next wait completes at once
  uint64_t signals_lapsing_ = 0;     // the last wait completed: unsubscribed at the next poll without a new one
  std::atomic<uint64_t> signals_arrived_{0};  // set by signal_arrived, from any thread
  std::vector<std::unique_ptr<BufferPool>> pools_;  // by id; reserved for kPoolsPerIOMax at init
};

}  // namespace tigerio
