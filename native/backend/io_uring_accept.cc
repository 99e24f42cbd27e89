#include "io_uring_accept.h"

#include <unistd.h>

#include "../core/assert.h"

namespace tigerio {

namespace {

// A handle is the record's index + 1 (0: the fd has no record), in 16 bits.
constexpr uint32_t kHandlesMax = 0xffff;
constexpr uint32_t kIndexBits = 16;

}  // namespace

AcceptListeners::~AcceptListeners() {
  for (const std::unique_ptr<AcceptListener>& record : records_) close_queue(*record);
}

AcceptListener* AcceptListeners::open(int32_t fd, uint16_t* handle) {
  TIGERIO_ASSERT(fd >= 0 && handle != nullptr);
  uint32_t index = 0;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    if (records_.size() >= kHandlesMax) return nullptr;
    index = static_cast<uint32_t>(records_.size());
    records_.emplace_back(new AcceptListener());
    records_.back()->index = index;
    free_.reserve(records_.size());  // release() never allocates
  }
  AcceptListener& listener = *records_[index];
  TIGERIO_ASSERT(listener.state == AcceptListener::State::free);
  TIGERIO_ASSERT(!listener.armed && listener.count == 0 && listener.waiting == nullptr);
  listener.fd = fd;
  listener.state = AcceptListener::State::open;
  listener.cancel_wanted = false;
  listener.cancel_sent = false;
  listener.head = 0;
  in_use_++;
  *handle = static_cast<uint16_t>(index + 1);
  return &listener;
}

AcceptListener* AcceptListeners::find(uint16_t handle, int32_t fd) {
  TIGERIO_ASSERT(fd >= 0);
  TIGERIO_ASSERT(records_.size() <= kHandlesMax);
  if (handle == 0 || handle > records_.size()) return nullptr;
  AcceptListener& listener = *records_[handle - 1u];
  if (listener.state != AcceptListener::State::open || listener.fd != fd) return nullptr;
  return &listener;
}

AcceptListener* AcceptListeners::find_open_fd(int32_t fd) {
  TIGERIO_ASSERT(fd >= 0);
  TIGERIO_ASSERT(in_use_ <= records_.size());
  if (in_use_ == 0) return nullptr;
  for (const std::unique_ptr<AcceptListener>& record : records_) {
    if (record->state == AcceptListener::State::open && record->fd == fd) return record.get();
  }
  return nullptr;
}

AcceptListener* AcceptListeners::from_payload(uint64_t payload) {
  const uint64_t index = payload & ((uint64_t{1} << kIndexBits) - 1);
  const uint64_t generation = payload >> kIndexBits;
  // payload() made it: 16 bits of index under a 32-bit generation.
  TIGERIO_ASSERT(generation <= UINT32_MAX);
  if (index >= records_.size()) return nullptr;
  AcceptListener& listener = *records_[index];
  if (listener.state == AcceptListener::State::free || listener.generation != generation) return nullptr;
  return &listener;
}

uint64_t AcceptListeners::payload(const AcceptListener& listener) {
  TIGERIO_ASSERT(listener.index < kHandlesMax);
  TIGERIO_ASSERT(listener.state != AcceptListener::State::free);
  return (uint64_t{listener.generation} << kIndexBits) | listener.index;
}

bool AcceptListeners::push(AcceptListener& listener, int32_t fd) {
  TIGERIO_ASSERT(fd >= 0 && listener.state == AcceptListener::State::open);
  TIGERIO_ASSERT(listener.count <= AcceptListener::kQueueMax && listener.head < AcceptListener::kQueueMax);
  if (listener.count == AcceptListener::kQueueMax) return false;
  listener.fds[(listener.head + listener.count) % AcceptListener::kQueueMax] = fd;
  listener.count++;
  return true;
}

bool AcceptListeners::pop(AcceptListener& listener, int32_t* fd) {
  TIGERIO_ASSERT(fd != nullptr);
  TIGERIO_ASSERT(listener.count <= AcceptListener::kQueueMax && listener.head < AcceptListener::kQueueMax);
  if (listener.count == 0) return false;
  *fd = listener.fds[listener.head];
  listener.head = (listener.head + 1) % AcceptListener::kQueueMax;
  listener.count--;
  return true;
}

void AcceptListeners::close_queue(AcceptListener& listener) {
  // A free record holds nothing: its queue was emptied when it was closed.
  TIGERIO_ASSERT(listener.state != AcceptListener::State::free || listener.count == 0);
  int32_t fd = -1;
  while (pop(listener, &fd)) ::close(fd);
  TIGERIO_ASSERT(listener.count == 0);
  if (listener.state == AcceptListener::State::open) listener.state = AcceptListener::State::closing;
}

void AcceptListeners::release(AcceptListener& listener) {
  TIGERIO_ASSERT(listener.state == AcceptListener::State::closing);
  TIGERIO_ASSERT(!listener.armed && listener.count == 0 && listener.waiting == nullptr);
  const uint32_t index = listener.index;
  TIGERIO_ASSERT(index < records_.size() && records_[index].get() == &listener);
  listener.state = AcceptListener::State::free;
  listener.generation++;
  listener.fd = -1;
  listener.cancel_wanted = false;
  listener.cancel_sent = false;
  TIGERIO_ASSERT(in_use_ > 0 && free_.size() < free_.capacity());
  free_.push_back(index);
  in_use_--;
}

}  // namespace tigerio
