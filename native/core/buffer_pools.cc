// The Loop's buffer pools (core/buffer_pools.h): creation, lending, giving
// back, and the recvPooled ops parked while their pool is empty.
#include <new>

#include "errors.h"
#include "loop.h"

namespace tigerio {

int32_t Loop::pool_create(uint8_t* memory, uint32_t count, uint32_t size) {
  TIGERIO_ASSERT(memory != nullptr);
  TIGERIO_ASSERT(count >= 1 && count <= kPoolBuffersMax);
  TIGERIO_ASSERT(size >= 1 && size <= config_.buffer_size_max);
  if (pools_.size() >= kPoolsPerIOMax) return kErrNoMemory;  // io/ checks the limit first
  std::unique_ptr<BufferPool> pool(new (std::nothrow) BufferPool());
  if (!pool) return kErrNoMemory;
  pool->free.reset(new (std::nothrow) uint32_t[count]);
  pool->lent.reset(new (std::nothrow) uint8_t[count]());
  if (!pool->free || !pool->lent) return kErrNoMemory;
  pool->memory = memory;
  pool->count = count;
  pool->size = size;
  const uint32_t id = static_cast<uint32_t>(pools_.size());
  pool->kernel_selects = backend_->pool_created(id, *pool);
  if (!pool->kernel_selects) {
    // Pushed in reverse, so that buffer 0 is taken first (and reused first: LIFO keeps it in cache).
    for (uint32_t i = 0; i < count; i++) pool->free[i] = count - 1 - i;
    pool->free_count = count;
  }
  TIGERIO_ASSERT(pools_.size() < pools_.capacity());  // reserved at init: no allocation
  pools_.push_back(std::move(pool));
  return static_cast<int32_t>(id);
}

int32_t Loop::pool_release(uint32_t id, uint32_t index) {
  TIGERIO_ASSERT(id < pools_.size());
  BufferPool& pool = *pools_[id];
  if (index >= pool.count || pool.lent[index] == 0) return kErrInvalid;
  pool.lent[index] = 0;
  TIGERIO_ASSERT(pool.lent_count > 0);
  pool.lent_count--;
  pool_free(id, index);
  return 0;
}

bool Loop::pool_take(Op* op) {
  TIGERIO_ASSERT(op->kind == OpKind::recv_pooled && op->state == OpState::pending);
  RecvPooledArgs& args = op->args.recv_pooled;
  TIGERIO_ASSERT(args.buffer == kNoBuffer);
  BufferPool& pool = this->pool(args.pool);
  TIGERIO_ASSERT(!pool.kernel_selects);
  if (pool.free_count == 0) return false;
  args.buffer = pool.free[--pool.free_count];
  TIGERIO_ASSERT(args.buffer < pool.count && pool.lent[args.buffer] == 0);
  return true;
}

void Loop::pool_untake(Op* op) {
  TIGERIO_ASSERT(op->kind == OpKind::recv_pooled && op->state == OpState::pending);
  RecvPooledArgs& args = op->args.recv_pooled;
  TIGERIO_ASSERT(args.buffer != kNoBuffer);
  const uint32_t index = args.buffer;
  args.buffer = kNoBuffer;
  pool_free(args.pool, index);
}

void Loop::pool_park(Op* op) {
  TIGERIO_ASSERT(op->kind == OpKind::recv_pooled && op->state == OpState::pending);
  TIGERIO_ASSERT((op->core_flags & (kOpIssued | kOpQueued)) == (kOpIssued | kOpQueued));
  TIGERIO_ASSERT((op->core_flags & kOpParked) == 0);
  TIGERIO_ASSERT(op->args.recv_pooled.buffer == kNoBuffer);
  if ((op->core_flags & kOpCancelRequested) != 0) {
    // Its cancel reached the backend first: it ends here instead of waiting.
    complete(op, kErrCanceled);
    return;
  }
  op->core_flags |= kOpParked;
  pool(op->args.recv_pooled.pool).push_waiter(op);
}

void Loop::pool_unpark(Op* op) {
  TIGERIO_ASSERT((op->core_flags & kOpParked) != 0);
  // Only a pending pooled receive parks, and it holds no buffer while it waits for one.
  TIGERIO_ASSERT(op->kind == OpKind::recv_pooled && op->state == OpState::pending);
  TIGERIO_ASSERT(op->args.recv_pooled.buffer == kNoBuffer);
  op->core_flags &= static_cast<uint8_t>(~kOpParked);
  pool(op->args.recv_pooled.pool).remove_waiter(op);
}

// A completed recvPooled: a buffer that holds data is lent to the caller;
// one that holds none (end of stream, an error, a cancel) is free again.
void Loop::pool_settle(Op* op, int32_t result) {
  TIGERIO_ASSERT(op->kind == OpKind::recv_pooled);
  TIGERIO_ASSERT((op->core_flags & kOpParked) == 0);
  RecvPooledArgs& args = op->args.recv_pooled;
  if (args.buffer == kNoBuffer) {
    TIGERIO_ASSERT(result <= 0);
    return;
  }
  BufferPool& pool = this->pool(args.pool);
  if (result > 0) {
    TIGERIO_ASSERT(static_cast<uint32_t>(result) <= pool.size);
    TIGERIO_ASSERT(args.buffer < pool.count && pool.lent[args.buffer] == 0);
    pool.lent[args.buffer] = 1;
    pool.lent_count++;
    return;
  }
  const uint32_t index = args.buffer;
  args.buffer = kNoBuffer;
  pool_free(args.pool, index);
}

void Loop::pool_free(uint32_t id, uint32_t index) {
  BufferPool& pool = this->pool(id);
  TIGERIO_ASSERT(index < pool.count && pool.lent[index] == 0);
  if (pool.kernel_selects) {
    backend_->pool_recycle(id, pool, index);
    pool.wakes_owed++;
  } else {
    TIGERIO_ASSERT(pool.free_count < pool.count);
    pool.free[pool.free_count++] = index;
  }
  pool_wake(pool);
}

// Issues parked ops again while buffers are free: each one the core keeps
// goes to a waiter; where the kernel keeps them, one waiter per buffer that
// came back (the kernel may give it to another receive first: the waiter
// then parks again, and the next buffer wakes it).
void Loop::pool_wake(BufferPool& pool) {
  if (pool.waking) return;  // the outer call goes on with what this one freed
  pool.waking = true;
  while (pool.waiters_head != nullptr && (pool.kernel_selects ? pool.wakes_owed > 0 : pool.free_count > 0)) {
    Op* op = pool.waiters_head;
    pool_unpark(op);
    if (pool.kernel_selects) pool.wakes_owed--;
    TIGERIO_ASSERT((op->core_flags & kOpQueued) != 0 && op->state == OpState::pending);
    backend_->issue(op, &fds_.at(op->fd));
  }
  if (pool.waiters_head == nullptr) pool.wakes_owed = 0;
  pool.waking = false;
}

}  // namespace tigerio
