#include "thread_pool.h"

#include <new>
#include <system_error>

#include "assert.h"

namespace tigerio {

namespace {

enum class Stage : uint8_t { queued, running, finished };

// What the pool keeps in Op::scratch while it holds an op (the backend
// stores nothing there meanwhile): the queue link and the result.
struct PoolRecord {
  Op* next;
  int64_t result;
  Stage stage;
};
static_assert(sizeof(PoolRecord) <= sizeof(Op::scratch), "a pool record fits an op's scratch (platform.h kOpScratchBytes)");
static_assert(alignof(PoolRecord) <= kOpScratchAlignment, "Op::scratch is aligned for a pool record");

PoolRecord& record_of(Op* op) { return *std::launder(reinterpret_cast<PoolRecord*>(op->scratch)); }

void push(Op** head, Op** tail, Op* op) {
  record_of(op).next = nullptr;
  if (*tail == nullptr) {
    *head = op;
  } else {
    record_of(*tail).next = op;
  }
  *tail = op;
}

}  // namespace

ThreadPool::ThreadPool(uint32_t threads_max, Work work, Wake wake, void* context)
    : threads_max_(threads_max), work_(work), wake_(wake), context_(context) {
  TIGERIO_ASSERT(threads_max >= 1 && threads_max <= kFileThreadsMax);
  TIGERIO_ASSERT(work != nullptr && wake != nullptr);
  threads_.reserve(threads_max);
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // The loop drained the pool before its backend went (Loop::cancel_all).
    TIGERIO_ASSERT(queued_head_ == nullptr && finished_head_ == nullptr);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& thread : threads_) thread.join();
  TIGERIO_ASSERT(outstanding_ == 0);
}

void ThreadPool::submit(Op* op) {
  TIGERIO_ASSERT(op != nullptr && op->state == OpState::pending);
  new (op->scratch) PoolRecord{nullptr, 0, Stage::queued};
  outstanding_++;
  bool inline_run = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    TIGERIO_ASSERT(!stopping_);
    push(&queued_head_, &queued_tail_, op);
    queued_++;
    grow_locked();
    // Not one thread could be started (the process is out of threads): the
    // op runs here rather than never. The loop thread blocks for it, as
    // every file op did before the pool.
    inline_run = threads_.empty();
  }
  if (!inline_run) {
    work_ready_.notify_one();
    return;
  }
  run(true);
}

void ThreadPool::grow_locked() {
  if (queued_ <= idle_ || threads_.size() >= threads_max_) return;
  try {
    threads_.emplace_back([this] { run(false); });
  } catch (const std::system_error&) {
    // EAGAIN from pthread_create: the threads already started take the work.
  }
}

bool ThreadPool::cancel(Op* op) {
  std::lock_guard<std::mutex> lock(mutex_);
  PoolRecord& record = record_of(op);
  if (record.stage != Stage::queued) return false;
  Op* previous = nullptr;
  for (Op* it = queued_head_; it != nullptr; previous = it, it = record_of(it).next) {
    if (it != op) continue;
    if (previous == nullptr) {
      queued_head_ = record.next;
    } else {
      record_of(previous).next = record.next;
    }
    if (queued_tail_ == op) queued_tail_ = previous;
    TIGERIO_ASSERT(queued_ > 0);
    queued_--;
    TIGERIO_ASSERT(outstanding_ > 0);
    outstanding_--;
    return true;
  }
  TIGERIO_ASSERT(false && "a queued op is in the queue");
  return false;
}

// A pool thread's loop; also the loop thread's, once, when no thread could
// be started (it then returns as soon as the queue is empty).
void ThreadPool::run(bool on_loop_thread) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (queued_head_ == nullptr) {
      if (on_loop_thread || stopping_) return;
      idle_++;
      work_ready_.wait(lock, [this] { return queued_head_ != nullptr || stopping_; });
      idle_--;
      continue;
    }
    Op* op = queued_head_;
    PoolRecord& record = record_of(op);
    queued_head_ = record.next;
    if (queued_head_ == nullptr) queued_tail_ = nullptr;
    TIGERIO_ASSERT(queued_ > 0);
    queued_--;
    record.stage = Stage::running;
    lock.unlock();
    const int64_t result = work_(op, context_);
    lock.lock();
    record.result = result;
    record.stage = Stage::finished;
    push(&finished_head_, &finished_tail_, op);
    finished_count_.fetch_add(1, std::memory_order_release);
    if (!on_loop_thread) {
      // Outside the lock: the loop thread may be waking to harvest already.
      lock.unlock();
      wake_(context_);
      lock.lock();
    }
  }
}

uint32_t ThreadPool::harvest(void (*finished)(Op* op, int64_t result, void* data), void* data) {
  if (finished_count_.load(std::memory_order_acquire) == 0) return 0;
  Op* head = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    head = finished_head_;
    finished_head_ = finished_tail_ = nullptr;
    finished_count_.store(0, std::memory_order_relaxed);
  }
  uint32_t count = 0;
  while (head != nullptr) {
    Op* op = head;
    const PoolRecord& record = record_of(op);
    TIGERIO_ASSERT(record.stage == Stage::finished);
    head = record.next;
    const int64_t result = record.result;
    TIGERIO_ASSERT(outstanding_ > 0);
    outstanding_--;
    count++;
    finished(op, result, data);  // may submit: the record is not read after this
  }
  return count;
}

}  // namespace tigerio
