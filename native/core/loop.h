// The backend-neutral core of an IO: completion slots, the ready queue, the
// harvest into the shared completions array, cross-thread events, and the
// fds the IO owns. One Loop per IO, used by one thread only (but
// Loop::event_trigger, which any thread may call).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "../backend/backend.h"
#include "assert.h"
#include "op_table.h"
#include "operation.h"

namespace tigerio {

struct LoopConfig {
  uint32_t entries;          // completions harvested per poll; kernel ring size
  uint32_t operations_max;   // ops in flight at once
  uint32_t buffer_size_max;  // bytes per recv/send/read/write at most
  int32_t* completions;      // entries * 2 int32 words, shared with JS
  int32_t* state;            // kStateLength int32 words, shared with JS
};

class Loop {
 public:
  // Creates the loop with the named backend; on failure `error` is a negative errno.
  static std::unique_ptr<Loop> create(const char* backend, const LoopConfig& config, int* error);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  const LoopConfig& config() const { return config_; }
  Backend& backend() { return *backend_; }

  // Submission: acquire() an op (nullptr when operations_max are in flight),
  // fill its fields, then start() it.
  Op* acquire(OpKind kind, int32_t fd);
  void start(Op* op);
  bool cancel(uint64_t id);

  // Harvests up to `entries` completions into the completions array, waiting
  // up to timeout_ns (-1: no limit) when none is ready. Returns the count.
  uint32_t poll(int64_t timeout_ns);
  // Completes every pending op with ECANCELED (harvest them with poll(0)).
  void cancel_all();

  // Called by backends when an op is done; queues it for the next harvest.
  void complete(Op* op, int32_t result);
  bool has_ready() const { return !ready_.empty(); }
  // Ops submitted and not yet harvested, ready ones included.
  uint32_t inflight() const { return static_cast<uint32_t>(config_.state[kStateInflight]); }

  // The fds this IO opened (listen, socket, accept, open) and no IO has
  // closed since: destroy closes what is left (see fd_owners.h).
  void fd_opened(int32_t fd);
  void fd_closed(int32_t fd);

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
  void event_listen(Op* op);
  void fire_events();
  bool cancel_event_listener(Op* op);
  void release_delivered();
  void unregister_events();

  LoopConfig config_;
  std::unique_ptr<Backend> backend_;
  OpTable ops_;
  OpQueue ready_;       // completed, waiting for a harvest
  OpQueue delivering_;  // harvested; freed at the next poll, once JS has dispatched them
  uint32_t pending_ = 0;  // ops owned by the backend or waiting as event listeners
  uint64_t sequence_ = 0;
  Event events_[kEventsPerIOMax];
  std::atomic<bool> events_signaled_{false};
};

}  // namespace tigerio
