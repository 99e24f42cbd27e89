#include "loop.h"

#include <algorithm>
#include <cstring>

#include "clock.h"
#include "errors.h"
#include "fd_owners.h"

namespace tigerio {

namespace {

// A cancel the kernel has not answered is asked again this often, and its
// op abandoned after kCancelRoundsMax rounds (see loop.h): a deinit or a
// close waits at most about 5 s for a kernel that never answers.
constexpr int64_t kCancelRetryNs = 100'000'000;
constexpr uint32_t kCancelRoundsMax = 50;
// A sanity bound on drain_backend()'s waits: every op is abandoned long before.
constexpr uint32_t kDrainRoundsMax = 1u << 20;

uint8_t direction_bit(Direction direction) { return static_cast<uint8_t>(1u << static_cast<uint8_t>(direction)); }

bool makes_fd(OpKind kind) {
  return kind == OpKind::accept || kind == OpKind::open || kind == OpKind::open_directory;
}

// A read or write on an fd opened with kOpenDirect: its buffer's address,
// its (clamped) length and its position must be multiples of the direct
// alignment. The current position (-1) is the kernel's to check.
bool direct_transfer_aligned(Op& op) {
  TIGERIO_ASSERT(op_is_file_op(op.kind));
  if (op.kind != OpKind::read && op.kind != OpKind::write) return true;
  const FileTransferArgs& file = op.file_transfer();
  TIGERIO_ASSERT(file.length >= 1);
  const uint64_t mask = kDirectAlignmentBytes - 1;
  if ((reinterpret_cast<uintptr_t>(file.buffer) & mask) != 0) return false;
  if ((file.length & mask) != 0) return false;
  return file.position < 0 || (static_cast<uint64_t>(file.position) & mask) == 0;
}

}  // namespace

Loop::Loop(const LoopConfig& config)
    : config_(config), ops_(config.operations_max + config.entries), fds_(config.fds_max) {
  TIGERIO_ASSERT(config.entries >= 1 && config.entries <= kEntriesMax);
  TIGERIO_ASSERT(config.operations_max >= 1 && config.operations_max <= kOperationsMaxLimit);
  TIGERIO_ASSERT(config.buffer_size_max >= 1 && config.buffer_size_max <= kBufferSizeMaxLimit);
  TIGERIO_ASSERT(config.fds_max >= 1 && config.fds_max <= kFdsMaxLimit);
  TIGERIO_ASSERT(config.completions != nullptr && config.state != nullptr && config.completion_values != nullptr);
  config_.state[kStateInflight] = 0;
  config_.state[kStateUndelivered] = 0;
  pools_.reserve(kPoolsPerIOMax);
}

std::unique_ptr<Loop> Loop::create(const std::string& backend, const LoopConfig& config, BackendFactory factory,
                                   int* error) {
  TIGERIO_ASSERT(factory != nullptr && error != nullptr);
  std::unique_ptr<Loop> loop(new Loop(config));
  loop->backend_ = factory(backend, loop.get(), config, error);
  if (!loop->backend_) return nullptr;
  TIGERIO_ASSERT(loop->pending_ == 0);
  return loop;
}

Loop::~Loop() {
  unregister_events();
  // An IO finalized without deinit(): the kernel must not write into a
  // buffer after the IO is gone. The completions have no one left to see them.
  if (pending_ > 0) cancel_all();
  TIGERIO_ASSERT(pending_ == 0);
  cancel_signal_waits();  // a subscription may outlive its last wait until the next poll
  if (backend_->fds_are_process_wide()) {
    for (const int32_t fd : fd_owner_take_all(this)) backend_->close(fd, fds_.find(fd));
  }
  // A backend that can make its kernel answer them now does (a simulated world).
  if (!abandoned_.empty()) backend_->end_abandoned();
  if (!abandoned_.empty()) {
    // The kernel may still write into abandoned ops (and, through the
    // backend's port or ring, into what it owns): none of it is freed.
    TIGERIO_ASSERT(ops_.retired() == abandoned_.size());
    ops_.leak();
    (void)backend_.release();
    return;
  }
  backend_.reset();
}

Op* Loop::acquire(uint32_t slot, OpKind kind, int32_t fd) {
  TIGERIO_ASSERT(kind < OpKind::count);
  Op* op = ops_.slot(slot);
  if (op != nullptr && op->state == OpState::delivering) {
    // JS ran its callback and reuses the slot before the next poll frees it.
    delivering_.remove(op);
    ops_.release(op);
  }
  op = ops_.acquire(slot);
  TIGERIO_ASSERT(op != nullptr);  // the memory for one more chunk of Ops
  // io/ keeps at most operations_max in flight (the batch being delivered does not count).
  TIGERIO_ASSERT(ops_.in_use() - ops_.retired() - delivering_.size() <= config_.operations_max);
  TIGERIO_ASSERT(op->core_flags == 0 && op->backend_flags == 0);
  op->kind = kind;
  op->fd = fd;
  op->result = 0;
  if (kind == OpKind::timeout) op->args.timeout.sequence = timeout_sequence_++;
  return op;
}

void Loop::begin(Op* op) {
  TIGERIO_ASSERT(op->state == OpState::free && op->kind < OpKind::count);
  op->state = OpState::pending;
  pending_++;
  config_.state[kStateInflight]++;
}

void Loop::fail(Op* op, int32_t result) {
  TIGERIO_ASSERT(result < 0);
  begin(op);
  complete(op, result);
}

int64_t Loop::deadline_ns(int64_t delay_ns, int64_t stamped_deadline_ns) const {
  TIGERIO_ASSERT(delay_ns >= 0);
  TIGERIO_ASSERT(stamped_deadline_ns >= delay_ns);
  return stamped_deadline_ns;
}

void Loop::start(Op* op) {
  begin(op);
  switch (op->kind) {
    case OpKind::timeout:
      // A zero delay is due at its call. With no other timer pending nothing
      // can come before it in (deadline, submission) order, so it completes
      // now, without the timer queue; its callback still waits for a poll.
      if (op->args.timeout.delay_zero && timers_.empty()) {
        complete(op, 0);
        return;
      }
      timers_.start(op);
      return;
    case OpKind::event_listen:
      event_listen(op);
      return;
    case OpKind::signal:
      signal_wait(op);
      return;
    case OpKind::open:
    case OpKind::rename:
    case OpKind::unlink:
    case OpKind::mkdir:
    case OpKind::open_directory:
    case OpKind::process_exit:
      loose_.push(op);
      op->core_flags |= kOpIssued | kOpLoose;
      backend_->issue(op, nullptr);
      return;
    case OpKind::close:
      start_close(op);
      return;
    default:
      start_fd_op(op);
      return;
  }
}

void Loop::start_fd_op(Op* op) {
  const Direction direction = op_direction(op->kind);
  TIGERIO_ASSERT(direction != Direction::none);
  FdEntry* entry = fds_.find(op->fd);
  if (entry == nullptr) {
    // Negative, not a handle number, or beyond the table: no such fd for this IO.
    complete(op, kErrBadFd);
    return;
  }
  if (entry->closer != nullptr) {
    complete(op, kErrBadFd);  // being closed: as a syscall on a closed fd would fail
    return;
  }
  const uint32_t index = static_cast<uint32_t>(op->fd) >> kFdIndexShift;
  if (index >= fd_index_end_) fd_index_end_ = index + 1;
  entry->queue(direction).push(op);
  op->core_flags |= kOpQueued;
  advance(*entry, direction);
}

// Issues the heads of one of entry's queues: each head, once. A head that
// completes inside issue() makes the next one the head, and the loop goes on;
// one that waits in the kernel ends it (its completion calls advance again).
void Loop::advance(FdEntry& entry, Direction direction) {
  const uint8_t bit = direction_bit(direction);
  if ((entry.advancing & bit) != 0) return;  // an outer advance() of this queue goes on after us
  entry.advancing |= bit;
  OpList& queue = entry.queue(direction);
  for (Op* head = queue.head(); head != nullptr && entry.closer == nullptr; head = queue.head()) {
    if ((head->core_flags & kOpIssued) != 0) break;
    TIGERIO_ASSERT(head->state == OpState::pending);
    if (entry.direct != 0 && !direct_transfer_aligned(*head)) {
      // Refused here, in its turn, the same on every OS (macOS's F_NOCACHE
      // would take it; Linux and Windows refuse it with EINVAL too).
      complete(head, kErrInvalid);
      continue;
    }
    head->core_flags |= kOpIssued;
    backend_->issue(head, &entry);
  }
  entry.advancing &= static_cast<uint8_t>(~bit);
}

void Loop::complete(Op* op, int32_t result) {
  if (op->state == OpState::abandoned) {
    // The kernel answered at last: its storage is free to reuse. JS had its
    // ECANCELED through the stand-in; an fd it made has no one to own it.
    if (makes_fd(op->kind) && result >= 0) backend_->close(result, nullptr);
    // A pooled receive the kernel gave a buffer (io_uring's ring picks one
    // when data comes): its bytes have no one to go to, the buffer goes back.
    if (op->kind == OpKind::recv_pooled && op->args.recv_pooled.buffer != kNoBuffer) {
      const uint32_t index = op->args.recv_pooled.buffer;
      op->args.recv_pooled.buffer = kNoBuffer;
      pool_free(op->args.recv_pooled.pool, index);
    }
    abandoned_.remove(op);
    ops_.give_back(op);
    return;
  }
  TIGERIO_ASSERT(op->state == OpState::pending);
  TIGERIO_ASSERT(pending_ > 0);
  pending_--;
  const uint8_t flags = op->core_flags;
  if ((flags & kOpCancelOutstanding) != 0) {
    TIGERIO_ASSERT(cancels_outstanding_ > 0);
    cancels_outstanding_--;
    op->core_flags &= static_cast<uint8_t>(~kOpCancelOutstanding);
  }
  if ((flags & kOpLoose) != 0) {
    loose_.remove(op);
    op->core_flags &= static_cast<uint8_t>(~kOpLoose);
  }
  if ((flags & kOpOrphaned) != 0) {
    // Its fd number names another file now (see loop.h). An fd the kernel
    // made for it before the cancel reached it has no one to own it.
    if (makes_fd(op->kind) && result >= 0) backend_->close(result, nullptr);
    result = kErrBadFd;
  }
  if (result == 0 && op->kind == OpKind::connect && (flags & kOpOrphaned) == 0) {
    result = backend_->refuse_self_connection(op->fd, op->args.connect.address);
    TIGERIO_ASSERT(result <= 0);
  }
  FdEntry* entry = nullptr;
  Direction direction = Direction::none;
  if ((flags & kOpQueued) != 0) {
    direction = op_direction(op->kind);
    entry = &fds_.at(op->fd);
    entry->queue(direction).remove(op);
    op->core_flags &= static_cast<uint8_t>(~kOpQueued);
  }
  if (op->kind == OpKind::recv_pooled) pool_settle(op, result);
  op->state = OpState::ready;
  op->result = result;
  ready_.push(op);
  if (makes_fd(op->kind) && result >= 0) {
    fd_opened(result);
    if (op->kind == OpKind::open && (op->args.open.flags & kOpenDirect) != 0) {
      FdEntry* opened = fds_.find(result);
      if (opened != nullptr) opened->direct = 1;
    }
  }
  if (entry == nullptr) return;
  if (entry->closer != nullptr) {
    if (entry->queues[0].empty() && entry->queues[1].empty()) finish_close(op->fd, *entry);
  } else {
    advance(*entry, direction);
  }
}

void Loop::complete_size(Op* op, int64_t size_or_error) {
  TIGERIO_ASSERT(op->kind == OpKind::file_size);
  TIGERIO_ASSERT(size_or_error >= INT32_MIN);
  if (size_or_error < 0) {
    complete(op, static_cast<int32_t>(size_or_error));
    return;
  }
  op->args.file_size.size_bytes = size_or_error;
  complete(op, 0);
}

void Loop::complete_exit_code(Op* op, uint32_t code) {
  TIGERIO_ASSERT(op->kind == OpKind::process_exit);
  if (code <= 255) {
    complete(op, static_cast<int32_t>(code));
    return;
  }
  op->args.process_exit.code_wide = code;
  complete(op, 0);
}

void Loop::start_close(Op* op) {
  const int32_t fd = op->fd;
  FdEntry* entry = fds_.find(fd);
  if (entry == nullptr) {
    // Beyond the table: nothing of this IO can be pending on it.
    const int32_t result = backend_->close(fd, nullptr);
    if (result == 0 && backend_->fds_are_process_wide()) fd_owner_clear(fd);
    complete(op, result);
    return;
  }
  if (entry->closer != nullptr) {
    complete(op, kErrBadFd);  // a second close while the first waits
    return;
  }
  const uint32_t index = static_cast<uint32_t>(fd) >> kFdIndexShift;
  if (index >= fd_index_end_) fd_index_end_ = index + 1;
  entry->closer = op;
  // What the backend has not seen completes now, in order, receiving side first.
  for (OpList& queue : entry->queues) {
    for (Op* it = queue.head(); it != nullptr;) {
      Op* next = it->next;
      if ((it->core_flags & kOpIssued) == 0) complete(it, kErrCanceled);
      it = next;
    }
  }
  // The heads the backend has: copied first, a cancel may complete one at once
  // (and the last one closes the fd inside complete()).
  Op* const heads[2] = {entry->queues[0].head(), entry->queues[1].head()};
  for (Op* head : heads) {
    if (head != nullptr) request_cancel(head, entry);
  }
  if (entry->closer == op && entry->queues[0].empty() && entry->queues[1].empty()) finish_close(fd, *entry);
}

void Loop::finish_close(int32_t fd, FdEntry& entry) {
  Op* closer = entry.closer;
  TIGERIO_ASSERT(closer != nullptr && closer->fd == fd);
  TIGERIO_ASSERT(entry.queues[0].empty() && entry.queues[1].empty() && entry.advancing == 0);
  const int32_t result = backend_->close(fd, &entry);
  std::memset(static_cast<void*>(&entry), 0, sizeof(entry));  // the number's life with this IO is over
  if (backend_->fds_are_process_wide()) fd_owner_clear(fd);
  complete(closer, result);
}

void Loop::request_cancel(Op* op, FdEntry* entry) {
  TIGERIO_ASSERT((op->core_flags & kOpIssued) != 0);
  if ((op->core_flags & kOpCancelRequested) != 0) return;
  op->core_flags |= kOpCancelRequested;
  if ((op->core_flags & kOpParked) != 0) {
    // Waiting for a buffer in the core: the backend has nothing of it.
    pool_unpark(op);
    complete(op, kErrCanceled);
    return;
  }
  op->core_flags |= kOpCancelOutstanding;
  op->cancel_rounds = 0;
  if (cancels_outstanding_++ == 0) cancel_round_due_ns_ = backend_->now_ns() + kCancelRetryNs;
  backend_->cancel(op, entry);  // may complete it at once (a readiness backend, the simulation)
}

int64_t Loop::next_deadline_ns() const {
  const int64_t timer_ns = timers_.next_deadline_ns();
  if (cancels_outstanding_ == 0) return timer_ns;
  return timer_ns < 0 ? cancel_round_due_ns_ : std::min(timer_ns, cancel_round_due_ns_);
}

Op* Loop::find_issued(uint64_t id) {
  Op* op = find_pending(id);
  if (op != nullptr) return op;
  // Rare (an abandoned op's late answer) and short: linear.
  for (Op* it = abandoned_.head(); it != nullptr; it = it->next) {
    if (it->id() == id) return it;
  }
  return nullptr;
}

// Asks again for the cancels the kernel has not answered in a round, and
// abandons the ops whose kernel has not answered kCancelRoundsMax of them.
void Loop::revisit_cancels() {
  if (cancels_outstanding_ == 0) return;
  const int64_t now_ns = backend_->now_ns();
  if (now_ns < cancel_round_due_ns_) return;
  cancel_round_due_ns_ = now_ns + kCancelRetryNs;
  for (uint32_t index = 0; index < fd_index_end_; index++) {
    FdEntry& entry = fds_.entry(index);
    // Copied first: an abandon completes a head, which may close the fd or issue the next op.
    Op* const heads[2] = {entry.queues[0].head(), entry.queues[1].head()};
    for (Op* head : heads) {
      if (head != nullptr) revisit_cancel(head, &entry);
    }
  }
  for (Op* it = loose_.head(); it != nullptr;) {
    Op* next = it->next;
    revisit_cancel(it, nullptr);
    it = next;
  }
}

void Loop::revisit_cancel(Op* op, FdEntry* entry) {
  if (op->state != OpState::pending || (op->core_flags & kOpCancelOutstanding) == 0) return;
  TIGERIO_ASSERT((op->core_flags & kOpIssued) != 0);
  op->cancel_rounds++;
  if (op->cancel_rounds > kCancelRoundsMax) {
    abandon(op);
    return;
  }
  backend_->cancel(op, entry);  // again: Backend::cancel says a backend may be asked more than once
}

// The kernel has not answered a cancel of `op` for kCancelRoundsMax rounds:
// it completes with ECANCELED now, through a stand-in that takes its slot
// and id, while `op` itself stays where the kernel may still write, out of
// reuse, until the backend hands its answer to complete() (see loop.h).
void Loop::abandon(Op* op) {
  TIGERIO_ASSERT(op->state == OpState::pending);
  const uint8_t flags = op->core_flags;
  TIGERIO_ASSERT((flags & kOpIssued) != 0 && (flags & kOpCancelOutstanding) != 0);
  Op* stand_in = ops_.stand_in_for(op);
  if (stand_in == nullptr) return;  // no memory for one: the op waits for its kernel
  stand_in->kind = op->kind;
  stand_in->fd = op->fd;
  stand_in->args = op->args;
  stand_in->state = OpState::pending;
  stand_in->core_flags = static_cast<uint8_t>(flags | kOpAbandoned);
  if ((flags & kOpQueued) != 0) {
    fds_.at(op->fd).queue(op_direction(op->kind)).replace(op, stand_in);
  } else if ((flags & kOpLoose) != 0) {
    loose_.replace(op, stand_in);
  }
  op->core_flags = static_cast<uint8_t>(flags & ~(kOpQueued | kOpLoose | kOpCancelOutstanding));
  op->state = OpState::abandoned;
  abandoned_.push(op);
  complete(stand_in, kErrCanceled);
}

bool Loop::cancel(uint32_t slot) {
  Op* op = ops_.slot(slot);
  if (op == nullptr || op->state != OpState::pending) return false;
  switch (op->kind) {
    case OpKind::timeout:
      if (!timers_.cancel(op)) return false;
      complete(op, kErrCanceled);
      return true;
    case OpKind::event_listen:
      return cancel_event_listener(op);
    case OpKind::signal:
      return cancel_signal_wait(op);
    case OpKind::close:
      return false;  // runs as soon as the fd's ops have drained
    default:
      break;
  }
  if ((op->core_flags & kOpCancelRequested) != 0) return false;
  if ((op->core_flags & kOpIssued) == 0) {
    TIGERIO_ASSERT((op->core_flags & kOpQueued) != 0);
    complete(op, kErrCanceled);  // queued behind its fd's head: never seen by the kernel
    return true;
  }
  const bool queued = (op->core_flags & kOpQueued) != 0;
  request_cancel(op, queued ? &fds_.at(op->fd) : nullptr);
  return true;
}

// A new fd of this IO. Its number may still carry ops of an fd closed behind
// the IO's back: they complete with EBADF (see loop.h) and the entry starts clean.
void Loop::fd_opened(int32_t fd) {
  TIGERIO_ASSERT(fd >= 0);
  if (backend_->fds_are_process_wide()) fd_owner_set(fd, this);
  FdEntry* entry = fds_.find(fd);
  if (entry == nullptr) return;  // beyond fdsMax: its ops will fail with EBADF
  TIGERIO_ASSERT(entry->advancing == 0);
  for (OpList& queue : entry->queues) {
    while (Op* op = queue.head()) {
      queue.remove(op);
      op->core_flags &= static_cast<uint8_t>(~kOpQueued);
      if ((op->core_flags & kOpIssued) == 0) {
        complete(op, kErrBadFd);
      } else {
        op->core_flags |= kOpOrphaned | kOpLoose;  // completes with EBADF whenever the kernel gives it back
        loose_.push(op);
        request_cancel(op, nullptr);
      }
    }
  }
  Op* closer = entry->closer;
  std::memset(static_cast<void*>(entry), 0, sizeof(*entry));
  if (closer != nullptr) complete(closer, kErrBadFd);  // its fd was closed behind the IO's back
  TIGERIO_ASSERT(entry->idle());
  backend_->fd_opened(fd, *entry);
}

int64_t Backend::now_ns() const { return monotonic_ns(); }

void Loop::fire_timers() {
  if (timers_.empty()) return;
  const int64_t now_ns = backend_->now_ns();
  while (Op* op = timers_.pop_expired(now_ns)) complete(op, 0);
}

void Loop::cancel_all() {
  // What the backend has not seen completes now; the rest is asked back.
  for (uint32_t index = 0; index < fd_index_end_; index++) {
    FdEntry& entry = fds_.entry(index);
    for (OpList& queue : entry.queues) {
      for (Op* it = queue.head(); it != nullptr;) {
        Op* next = it->next;
        if ((it->core_flags & kOpIssued) == 0) complete(it, kErrCanceled);
        it = next;
      }
    }
    Op* const heads[2] = {entry.queues[0].head(), entry.queues[1].head()};
    for (Op* head : heads) {
      if (head != nullptr) request_cancel(head, &entry);
    }
  }
  for (Op* it = loose_.head(); it != nullptr;) {
    Op* next = it->next;
    request_cancel(it, nullptr);
    it = next;
  }
  while (Op* op = timers_.pop_any()) complete(op, kErrCanceled);
  for (Event& event : events_) {
    if (event.listener == nullptr) continue;
    Op* op = event.listener;
    event.listener = nullptr;
    complete(op, kErrCanceled);
  }
  cancel_signal_waits();
  drain_backend();
  TIGERIO_ASSERT(pending_ == 0);
  TIGERIO_ASSERT(loose_.empty() && timers_.empty());
}

// Waits until the backend has given back every op it had (all cancelled),
// asking again for unanswered cancels and abandoning the ops whose kernel
// never answers: bounded (about kCancelRoundsMax * kCancelRetryNs).
void Loop::drain_backend() {
  for (uint32_t round = 0; pending_ > 0; round++) {
    TIGERIO_ASSERT(round < kDrainRoundsMax);
    // Every op pending here was asked back (cancel_all), so one is outstanding.
    TIGERIO_ASSERT(cancels_outstanding_ > 0);
    const int64_t wait_ns = std::clamp<int64_t>(cancel_round_due_ns_ - backend_->now_ns(), 0, kCancelRetryNs);
    backend_->wait(wait_ns);
    revisit_cancels();
  }
}

void Loop::release_delivered() {
  while (Op* op = delivering_.pop()) ops_.release(op);
}

uint32_t Loop::poll(int64_t timeout_ns) {
  TIGERIO_ASSERT(timeout_ns >= -1);
  // JS calls poll only after dispatching the whole previous batch, so its
  // slots are free for reuse now and not before.
  release_delivered();
  // The callbacks of the last batch have run: a signal none of them waited for again is no longer listened to.
  if (signals_lapsing_ != 0) lapse_signals();
  const uint32_t entries = config_.entries;
  // With nothing pending nothing can complete: never block then.
  if (ready_.size() < entries && pending_ > 0) {
    fire_timers();  // those due already come before whatever the wait brings
    // The clock is read only when a timer bounds the wait.
    int64_t wait_ns = 0;
    if (ready_.empty()) wait_ns = timers_.empty() ? timeout_ns : timers_.bound_wait_ns(timeout_ns, backend_->now_ns());
    if (cancels_outstanding_ > 0 && wait_ns != 0) {
      // Rare: a cancel the kernel has not answered yet; the wait ends for its next round.
      const int64_t round_ns = std::max<int64_t>(0, cancel_round_due_ns_ - backend_->now_ns());
      wait_ns = wait_ns < 0 ? round_ns : std::min(wait_ns, round_ns);
    }
    backend_->wait(wait_ns);
    fire_timers();
    revisit_cancels();
  }
  // A plain load first: the exchange is a locked instruction, which every
  // poll paid for an event that is rarely there (a quarter of this
  // function's samples in a ping-pong profile).
  if (events_signaled_.load(std::memory_order_relaxed) && events_signaled_.exchange(false, std::memory_order_acq_rel)) {
    fire_events();
  }
  if (signals_arrived_.load(std::memory_order_acquire) != 0) fire_signals();

  uint32_t count = 0;
  int32_t* words = config_.completions;
  while (count < entries && !ready_.empty()) {
    Op* op = ready_.pop();
    op->state = OpState::delivering;
    delivering_.push(op);
    uint32_t word = (static_cast<uint32_t>(op->kind) << kKindShift) | op->slot;
    if (op->kind == OpKind::file_size && op->result >= 0) {
      TIGERIO_ASSERT(op->result == 0 && op->args.file_size.size_bytes >= 0);
      word |= kCompletionValueFlag;
      config_.completion_values[count] = static_cast<double>(op->args.file_size.size_bytes);
    } else if (op->kind == OpKind::process_exit && op->result >= 0 && op->args.process_exit.code_wide >= 0) {
      TIGERIO_ASSERT(op->result == 0);
      word |= kCompletionValueFlag;
      config_.completion_values[count] = kExitCodeWide + static_cast<double>(op->args.process_exit.code_wide);
    }
    if ((op->core_flags & kOpAbandoned) != 0) word |= kCompletionAbandonedFlag;
    if (op->kind == OpKind::recv_pooled) {
      // Which pool and (with bytes) which buffer: beside the byte count, in
      // the values array (io/ knows the kind), so that io/ keeps no side for it.
      const RecvPooledArgs& args = op->args.recv_pooled;
      TIGERIO_ASSERT(args.pool < kPoolsPerIOMax && (op->result <= 0 || args.buffer < kPoolBuffersMax));
      const uint32_t buffer = op->result > 0 ? args.buffer : 0;
      config_.completion_values[count] = static_cast<double>(args.pool) * kPoolBuffersMax + buffer;
    }
    words[2 * count] = static_cast<int32_t>(word);
    words[2 * count + 1] = op->result;
    count++;
  }
  config_.state[kStateInflight] -= static_cast<int32_t>(count);
  TIGERIO_ASSERT(config_.state[kStateInflight] >= 0);
  TIGERIO_ASSERT(count <= entries);
  return count;
}

int Loop::listen(const char* host, int port, int backlog, bool reuse_port) {
  TIGERIO_ASSERT(host != nullptr && backlog >= 1);
  const int fd = backend_->listen(host, port, backlog, reuse_port);
  if (fd >= 0) fd_opened(fd);
  return fd;
}

int Loop::socket(bool ipv6) {
  const int fd = backend_->socket(ipv6);
  if (fd >= 0) fd_opened(fd);
  return fd;
}

int Loop::address(int fd, bool peer, char* address, size_t address_size, int* port, int* family) {
  TIGERIO_ASSERT(address != nullptr && address_size > 0);
  return backend_->address(fd, peer, address, address_size, port, family);
}

int Loop::udp_socket(bool ipv6) {
  const int fd = backend_->udp_socket(ipv6);
  if (fd >= 0) fd_opened(fd);
  return fd;
}

int Loop::bind(int fd, const char* host, int port) {
  TIGERIO_ASSERT(host != nullptr && port >= 0 && port <= 65535);
  return backend_->bind(fd, host, port);
}

int Loop::listen_unix(const char* path, uint32_t path_length, int backlog) {
  TIGERIO_ASSERT(path != nullptr && path_length >= 1 && path_length <= unix_path_max());
  TIGERIO_ASSERT(backlog >= 1);
  const int fd = backend_->listen_unix(path, path_length, backlog);
  if (fd >= 0) fd_opened(fd);
  return fd;
}

int Loop::unix_socket() {
  const int fd = backend_->unix_socket();
  if (fd >= 0) fd_opened(fd);
  return fd;
}

int Backend::udp_socket(bool) { return kErrNotSupported; }
int Backend::bind(int, const char*, int) { return kErrNotSupported; }
int Backend::listen_unix(const char*, uint32_t, int) { return kErrNotSupported; }
int Backend::unix_socket() { return kErrNotSupported; }

int Loop::shutdown(int fd, bool send, bool receive) {
  TIGERIO_ASSERT(send || receive);
  backend_->submit();  // a send submitted before the shutdown goes first
  return backend_->shutdown(fd, send, receive);
}

int Loop::set_cork(int fd, bool on) {
  // Sends submitted before the call reach the kernel first, as for
  // shutdown(): corking holds back only what is sent after it, and
  // uncorking pushes out everything before it.
  TIGERIO_ASSERT(fd >= 0);  // addon.cc's FdArg
  backend_->submit();
  const int result = backend_->set_cork(fd, on);
  TIGERIO_ASSERT(result <= 0);  // 0 or a negative errno, never an fd
  return result;
}

}  // namespace tigerio
