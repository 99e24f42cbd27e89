// A small fixed pool of threads that runs an IO's blocking file work (open,
// fsync, rename, ...) off the loop thread, for backends whose kernel API
// cannot do it asynchronously (epoll and kqueue for every file op, IOCP for
// the calls Windows has no overlapped form of). libuv's threadpool is the
// model, with three differences: the pool belongs to one IO (no global
// queue shared by every loop in the process), it holds no allocation per
// op (an op's queue link and result live in its scratch), and it never
// runs an op's callback: a finished op goes back to the loop thread, which
// completes it through Loop::complete like any kernel completion.
//
// Threads start on demand, one more whenever work is queued and every
// started thread is busy, up to `threads_max`: an IO that never touches a
// file starts none. A submitted op is `queued` until a thread takes it,
// then `running` until its syscall returns. cancel() takes back a queued
// op (it completes with ECANCELED); a running one is in the kernel and
// completes with its own result, exactly once either way.
//
// Shutdown: the destructor joins every thread. The loop drains the pool
// first (Loop::cancel_all waits for running ops as it waits for a kernel's
// cancelled ops), so the threads are idle then; a syscall that never
// returns (a hard NFS mount) holds the drain, as it would hold a
// synchronous call, because the thread may still write the op's buffer.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "operation.h"

namespace tigerio {

// The pool size an IO gets unless it asks (IOOptions.fileThreads), and the most it may ask.
constexpr uint32_t kFileThreadsDefault = 4;
constexpr uint32_t kFileThreadsMax = 64;

class ThreadPool {
 public:
  // Runs on a pool thread: the op's blocking syscall. Returns its result (a
  // negative errno, or >= 0; int64 for fileSize). It reads the op's
  // arguments and writes only memory the op owns (its buffer).
  using Work = int64_t (*)(Op* op, void* context);
  // Thread-safe: makes the loop thread's wait return (Backend::wake).
  using Wake = void (*)(void* context);

  ThreadPool(uint32_t threads_max, Work work, Wake wake, void* context);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Loop thread: queues `op` for a pool thread. Its scratch is the pool's
  // until harvest() hands it back or cancel() takes it.
  void submit(Op* op);
  // Loop thread: true if `op` was still queued and is now the caller's again
  // (complete it with ECANCELED); false if a thread runs it or ran it (it
  // comes back through harvest() with its own result).
  bool cancel(Op* op);
  // Loop thread: hands each finished op and its result to
  // `finished(op, result, data)`, outside the pool's lock (it may submit
  // more). Returns how many. Cheap when nothing finished: one atomic load.
  uint32_t harvest(void (*finished)(Op* op, int64_t result, void* data), void* data);
  // Ops submitted and not yet harvested or cancelled.
  uint32_t outstanding() const { return outstanding_; }
  uint32_t threads_started() const { return static_cast<uint32_t>(threads_.size()); }

 private:
  void run(bool on_loop_thread);
  // Under mutex_: starts one more thread if the queue holds more ops than
  // idle threads will take, and the pool is not full.
  void grow_locked();

  const uint32_t threads_max_;
  const Work work_;
  const Wake wake_;
  void* const context_;

  std::mutex mutex_;
  std::condition_variable work_ready_;
  Op* queued_head_ = nullptr;  // FIFO through the pool record's `next`
  Op* queued_tail_ = nullptr;
  Op* finished_head_ = nullptr;
  Op* finished_tail_ = nullptr;
  uint32_t idle_ = 0;    // started threads waiting for work (some may be waking already)
  uint32_t queued_ = 0;  // ops in the queued FIFO
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // reserved to threads_max at construction: never reallocates

  std::atomic<uint32_t> finished_count_{0};
  uint32_t outstanding_ = 0;  // loop thread only
};

}  // namespace tigerio
