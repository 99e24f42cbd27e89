// Cross-thread events (TigerBeetle's IO event): the owning IO listens with a
// callback; any thread triggers by handle. Handles are plain numbers from a
// process-wide registry, so a worker can trigger an event it was sent, and a
// trigger after the event (or its IO) is gone is a harmless `false`.
// A trigger with no listener is remembered until the next listen: triggers
// coalesce, and none is lost.
#include <mutex>
#include <unordered_map>

#include "errors.h"
#include "loop.h"

namespace tigerio {

namespace {

struct Registration {
  Loop* loop;
  uint32_t index;
};

struct Registry {
  std::mutex mutex;
  std::unordered_map<uint32_t, Registration> events;
  uint32_t next_handle = 1;
};

// Leaked on purpose: worker threads may trigger while the process exits.
Registry& registry() {
  static Registry* instance = new Registry();
  return *instance;
}

}  // namespace

int64_t Loop::event_open() {
  static_assert(kEventsPerIOMax <= 1024, "events are found by a scan");
  uint32_t index = 0;
  while (index < kEventsPerIOMax && events_[index].handle != 0) index++;
  if (index == kEventsPerIOMax) return kErrTooManyFiles;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  uint32_t handle = r.next_handle;
  while (handle == 0 || r.events.count(handle) != 0) handle++;
  r.next_handle = handle + 1;
  r.events.emplace(handle, Registration{this, index});
  TIGERIO_ASSERT(handle != 0 && index < kEventsPerIOMax);
  events_[index].handle = handle;
  events_[index].listener = nullptr;
  events_[index].triggered.store(false, std::memory_order_relaxed);
  return handle;
}

bool Loop::event_close(uint32_t handle) {
  TIGERIO_ASSERT(handle != 0);
  for (Event& event : events_) {
    if (event.handle != handle) continue;
    {
      Registry& r = registry();
      std::lock_guard<std::mutex> lock(r.mutex);
      r.events.erase(handle);
    }
    event.handle = 0;
    if (event.listener != nullptr) {
      Op* op = event.listener;
      event.listener = nullptr;
      complete(op, kErrCanceled);
    }
    return true;
  }
  return false;
}

bool Loop::event_trigger(uint32_t handle) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.events.find(handle);
  if (it == r.events.end()) return false;
  Loop* loop = it->second.loop;
  TIGERIO_ASSERT(loop != nullptr && it->second.index < kEventsPerIOMax);
  TIGERIO_ASSERT(loop->events_[it->second.index].handle == handle);
  loop->events_[it->second.index].triggered.store(true, std::memory_order_release);
  loop->events_signaled_.store(true, std::memory_order_release);
  // Under the lock: the loop cannot be destroyed (unregister_events takes it).
  loop->backend_->wake();
  return true;
}

void Loop::event_listen(Op* op) {
  const uint32_t handle = op->args.event_listen.handle;
  TIGERIO_ASSERT(op->kind == OpKind::event_listen);
  for (Event& event : events_) {
    if (event.handle != handle || handle == 0) continue;
    if (event.listener != nullptr) {
      complete(op, kErrBusy);
    } else if (event.triggered.exchange(false, std::memory_order_acq_rel)) {
      complete(op, 0);
    } else {
      // A trigger from now on sets events_signaled_ and wakes the backend,
      // so the next poll sees it.
      event.listener = op;
    }
    return;
  }
  complete(op, kErrBadFd);
}

void Loop::fire_events() {
  for (Event& event : events_) {
    if (event.listener == nullptr) continue;
    TIGERIO_ASSERT(event.handle != 0 && event.listener->state == OpState::pending);
    if (!event.triggered.exchange(false, std::memory_order_acq_rel)) continue;
    Op* op = event.listener;
    event.listener = nullptr;
    complete(op, 0);
  }
}

bool Loop::cancel_event_listener(Op* op) {
  TIGERIO_ASSERT(op->kind == OpKind::event_listen && op->state == OpState::pending);
  for (Event& event : events_) {
    if (event.listener != op) continue;
    event.listener = nullptr;
    complete(op, kErrCanceled);
    return true;
  }
  return false;
}

void Loop::unregister_events() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (Event& event : events_) {
    if (event.handle != 0) r.events.erase(event.handle);
    event.handle = 0;
  }
}

}  // namespace tigerio
