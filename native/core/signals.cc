// Signals as completions (see signals.h): the process-wide table of
// subscribed IOs, and each Loop's waits.
#include "signals.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "errors.h"
#include "loop.h"

namespace tigerio {

namespace {

struct SignalTable {
  std::mutex mutex;
  std::vector<Loop*> loops[kSignalNumberMax + 1];
};

// Leaked on purpose, as the event registry is: a signal may arrive while the
// process exits and its statics are being destroyed.
SignalTable& table() {
  static SignalTable* instance = new SignalTable();
  return *instance;
}

// Read inside signal handlers: lock-free, and never destroyed.
std::atomic<int32_t> subscriber_counts[kSignalNumberMax + 1];
static_assert(std::atomic<int32_t>::is_always_lock_free, "read inside a signal handler");

bool valid(int32_t number) { return number >= 1 && number <= kSignalNumberMax; }

}  // namespace

int32_t signal_subscribe(Loop* loop, int32_t number) {
  TIGERIO_ASSERT(loop != nullptr && valid(number));
  SignalTable& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  std::vector<Loop*>& loops = t.loops[number];
  TIGERIO_ASSERT(std::find(loops.begin(), loops.end(), loop) == loops.end());
  // The count first: the handler installed next must already see this IO.
  subscriber_counts[number].fetch_add(1, std::memory_order_acq_rel);
  const int32_t result = signal_os_watch(number);
  if (result < 0) {
    subscriber_counts[number].fetch_sub(1, std::memory_order_acq_rel);
    return result;
  }
  loops.push_back(loop);
  return 0;
}

void signal_unsubscribe(Loop* loop, int32_t number) {
  TIGERIO_ASSERT(loop != nullptr && valid(number));
  SignalTable& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  std::vector<Loop*>& loops = t.loops[number];
  auto it = std::find(loops.begin(), loops.end(), loop);
  TIGERIO_ASSERT(it != loops.end());
  loops.erase(it);
  const int32_t before = subscriber_counts[number].fetch_sub(1, std::memory_order_acq_rel);
  TIGERIO_ASSERT(before >= 1);
}

void signal_deliver(int32_t number) {
  if (!valid(number)) return;
  SignalTable& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  // Under the lock: no Loop here can be destroyed meanwhile (its destructor unsubscribes).
  for (Loop* loop : t.loops[number]) loop->signal_arrived(number);
}

int32_t signal_subscribers(int32_t number) {
  return valid(number) ? subscriber_counts[number].load(std::memory_order_acquire) : 0;
}

// ---- A Loop's waits -----------------------------------------------------------

void Loop::signal_arrived(int32_t number) {
  TIGERIO_ASSERT(valid(number));
  signals_arrived_.fetch_or(signal_bit(number), std::memory_order_acq_rel);
  backend_->wake();
}

void Loop::signal_wait(Op* op) {
  TIGERIO_ASSERT(op->kind == OpKind::signal && op->state == OpState::pending);
  const int32_t number = op->args.signal.number;
  TIGERIO_ASSERT(valid(number));
  const uint64_t bit = signal_bit(number);
  if ((signals_subscribed_ & bit) == 0) {
    // A simulated IO hears only its world (Simulation.signal), never the process.
    if (backend_->receives_process_signals()) {
      const int32_t result = signal_subscribe(this, number);
      if (result < 0) {
        complete(op, result);
        return;
      }
    }
    signals_subscribed_ |= bit;
  }
  signals_lapsing_ &= ~bit;
  if ((signals_remembered_ & bit) != 0) {
    // Arrived between the previous wait and this one: delivered at the next poll.
    signals_remembered_ &= ~bit;
    complete(op, number);
    return;
  }
  signal_waits_.push(op);
}

bool Loop::signal_waited(int32_t number) const {
  for (Op* it = signal_waits_.head(); it != nullptr; it = it->next) {
    if (it->args.signal.number == number) return true;
  }
  return false;
}

void Loop::fire_signals() {
  const uint64_t arrived = signals_arrived_.exchange(0, std::memory_order_acq_rel) & signals_subscribed_;
  if (arrived == 0) return;
  uint64_t delivered = 0;
  for (Op* it = signal_waits_.head(); it != nullptr;) {
    Op* next = it->next;
    const int32_t number = it->args.signal.number;
    if ((arrived & signal_bit(number)) != 0) {
      signal_waits_.remove(it);
      delivered |= signal_bit(number);
      complete(it, number);
    }
    it = next;
  }
  // No wait pending: remembered for the next one, while the subscription holds.
  signals_remembered_ |= arrived & ~delivered;
  // Each signal delivered lapses at the next poll unless its callback waited
  // again; a wake-up makes that poll come (an attached IO with nothing
  // pending would otherwise not poll again, and keep the signal's default
  // action away from the process).
  for (int32_t number = 1; number <= kSignalNumberMax; number++) {
    if ((delivered & signal_bit(number)) != 0 && !signal_waited(number)) signals_lapsing_ |= signal_bit(number);
  }
  if (signals_lapsing_ != 0) backend_->wake();
}

void Loop::lapse_signals() {
  const uint64_t lapsing = signals_lapsing_;
  signals_lapsing_ = 0;
  for (int32_t number = 1; number <= kSignalNumberMax; number++) {
    const uint64_t bit = signal_bit(number);
    if ((lapsing & bit) == 0 || signal_waited(number)) continue;
    unsubscribe_signal(number);
  }
}

void Loop::unsubscribe_signal(int32_t number) {
  const uint64_t bit = signal_bit(number);
  TIGERIO_ASSERT((signals_subscribed_ & bit) != 0);
  if (backend_->receives_process_signals()) signal_unsubscribe(this, number);
  signals_subscribed_ &= ~bit;
  signals_remembered_ &= ~bit;
  signals_lapsing_ &= ~bit;
}

bool Loop::cancel_signal_wait(Op* op) {
  TIGERIO_ASSERT(op->kind == OpKind::signal && op->state == OpState::pending);
  signal_waits_.remove(op);
  const int32_t number = op->args.signal.number;
  // cancel() of the last wait stops listening: the signal's default action is the process's again.
  if (!signal_waited(number)) unsubscribe_signal(number);
  complete(op, kErrCanceled);
  return true;
}

void Loop::cancel_signal_waits() {
  while (Op* op = signal_waits_.pop()) complete(op, kErrCanceled);
  for (int32_t number = 1; number <= kSignalNumberMax; number++) {
    if ((signals_subscribed_ & signal_bit(number)) != 0) unsubscribe_signal(number);
  }
  TIGERIO_ASSERT(signals_subscribed_ == 0 && signals_remembered_ == 0 && signals_lapsing_ == 0);
}

}  // namespace tigerio
