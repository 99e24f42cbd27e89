#include "loop.h"

#include "../backend/registry.h"
#include "errors.h"
#include "fd_owners.h"

namespace tigerio {

Loop::Loop(const LoopConfig& config) : config_(config), ops_(config.operations_max + config.entries) {
  TIGERIO_ASSERT(config.entries >= 1 && config.entries <= kEntriesMax);
  TIGERIO_ASSERT(config.operations_max >= 1 && config.operations_max <= kOperationsMaxLimit);
  TIGERIO_ASSERT(config.buffer_size_max >= 1 && config.buffer_size_max <= kBufferSizeMaxLimit);
  TIGERIO_ASSERT(config.completions != nullptr && config.state != nullptr);
  config_.state[kStateInflight] = 0;
  config_.state[kStateUndelivered] = 0;
}

std::unique_ptr<Loop> Loop::create(const char* backend, const LoopConfig& config, int* error) {
  std::unique_ptr<Loop> loop(new Loop(config));
  loop->backend_ = create_backend(backend, loop.get(), config, error);
  if (!loop->backend_) return nullptr;
  return loop;
}

Loop::~Loop() {
  unregister_events();
  // Whatever is still pending is dropped with the IO (deinit() cancelled it
  // already; a finalized IO has no one left to call).
  for (const int32_t fd : fd_owner_take_all(this)) backend_->close_now(fd);
  backend_.reset();
}

Op* Loop::acquire(OpKind kind, int32_t fd) {
  // The harvested batch (at most `entries`) keeps its slots until JS has run
  // every callback of it, but those ops are done: they do not count.
  if (ops_.in_use() - delivering_.size() >= config_.operations_max) return nullptr;
  Op* op = ops_.acquire();
  if (op == nullptr) return nullptr;
  op->kind = kind;
  op->fd = fd;
  op->result = 0;
  op->buffer = nullptr;
  op->length = 0;
  op->position = -1;
  op->sequence = sequence_++;
  return op;
}

void Loop::start(Op* op) {
  TIGERIO_ASSERT(op->state == OpState::free);
  op->state = OpState::pending;
  pending_++;
  config_.state[kStateInflight]++;
  if (op->kind == OpKind::event_listen) {
    event_listen(op);
  } else {
    backend_->submit(op);
  }
}

void Loop::complete(Op* op, int32_t result) {
  TIGERIO_ASSERT(op->state == OpState::pending);
  TIGERIO_ASSERT(pending_ > 0);
  pending_--;
  op->state = OpState::ready;
  op->result = result;
  ready_.push(op);
}

bool Loop::cancel(uint64_t id) {
  Op* op = ops_.find(id);
  if (op == nullptr || op->state != OpState::pending) return false;
  if (op->kind == OpKind::event_listen) return cancel_event_listener(op);
  return backend_->cancel(op);
}

void Loop::cancel_all() {
  backend_->cancel_all();
  for (Event& event : events_) {
    if (event.listener != nullptr) {
      Op* op = event.listener;
      event.listener = nullptr;
      complete(op, kErrCanceled);
    }
  }
  TIGERIO_ASSERT(pending_ == 0);
}

void Loop::release_delivered() {
  while (Op* op = delivering_.pop()) ops_.release(op);
}

uint32_t Loop::poll(int64_t timeout_ns) {
  // JS calls poll only after dispatching the whole previous batch, so its
  // slots are free for reuse now and not before.
  release_delivered();
  const uint32_t entries = config_.entries;
  // With nothing pending nothing can complete: never block then.
  if (ready_.size() < entries && pending_ > 0) backend_->wait(ready_.empty() ? timeout_ns : 0);
  if (events_signaled_.exchange(false, std::memory_order_acq_rel)) fire_events();

  uint32_t count = 0;
  int32_t* words = config_.completions;
  while (count < entries && !ready_.empty()) {
    Op* op = ready_.pop();
    op->state = OpState::delivering;
    delivering_.push(op);
    words[2 * count] = static_cast<int32_t>((static_cast<uint32_t>(op->kind) << kKindShift) | op->slot);
    words[2 * count + 1] = op->result;
    count++;
  }
  config_.state[kStateInflight] -= static_cast<int32_t>(count);
  TIGERIO_ASSERT(config_.state[kStateInflight] >= 0);
  return count;
}

void Loop::fd_opened(int32_t fd) {
  TIGERIO_ASSERT(fd >= 0);
  fd_owner_set(fd, this);
}

void Loop::fd_closed(int32_t fd) {
  if (fd >= 0) fd_owner_clear(fd);
}

}  // namespace tigerio
