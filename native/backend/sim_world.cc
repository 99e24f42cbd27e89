#include "sim_world.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "../core/platform.h"
#include "sim_errors.h"
#include "simulation.h"

namespace tigerio {
namespace sim {

World::World(uint64_t seed, const Faults& faults)
    : random_(seed), faults_(faults), network_(*this), disk_(*this) {
  TIGERIO_ASSERT(faults.partition_max_ns >= 0 && faults.network_delay_min_ns >= 0);
  trace_.mix(0x7167);  // the same start for every seed: only what happens tells traces apart
}

World::~World() {
  for (const SimulationBackend* node : nodes_) TIGERIO_ASSERT(node == nullptr);  // each IO holds its world
}

int32_t World::attach_node(SimulationBackend* backend) {
  TIGERIO_ASSERT(backend != nullptr);
  if (nodes_.size() >= kNodesMax) return -1;
  nodes_.push_back(backend);
  trace_.mix(nodes_.size());
  return static_cast<int32_t>(nodes_.size() - 1);
}

void World::detach_node(uint32_t node) {
  TIGERIO_ASSERT(node < nodes_.size() && nodes_[node] != nullptr);
  nodes_[node] = nullptr;
}

int32_t World::fd_allocate(Object::Type type, uint32_t index, uint32_t owner) {
  TIGERIO_ASSERT(type != Object::none);
  if (fds_open_ >= kWorldFdsMax) return kTooManyFiles;
  size_t slot = std::max<size_t>(kFirstFdIndex, lowest_free_);
  while (slot < fds_.size() && fds_[slot].type != Object::none) slot++;
  while (slot >= fds_.size()) fds_.push_back(Object{Object::none, 0, 0});
  fds_[slot] = Object{type, index, owner};
  fds_open_++;
  lowest_free_ = slot + 1;
  const int32_t fd = static_cast<int32_t>(slot << kFdIndexShift);
  TIGERIO_ASSERT(fd >= 0 && fd_find(fd) == &fds_[slot]);
  trace_.mix((uint64_t{slot} << 8) | type);  // the slot, not the fd: equal on every OS
  return fd;
}

Object* World::fd_find(int32_t fd) {
  if (fd < 0 || (static_cast<uint32_t>(fd) & ((1u << kFdIndexShift) - 1)) != 0) return nullptr;
  const size_t slot = static_cast<size_t>(fd) >> kFdIndexShift;
  if (slot >= fds_.size() || fds_[slot].type == Object::none) return nullptr;
  return &fds_[slot];
}

void World::fd_release(int32_t fd) {
  Object* object = fd_find(fd);
  TIGERIO_ASSERT(object != nullptr && fds_open_ > 0);
  *object = Object{Object::none, 0, 0};
  fds_open_--;
  lowest_free_ = std::min<size_t>(lowest_free_, static_cast<size_t>(fd) >> kFdIndexShift);
}

void World::fds_owned_by(uint32_t node, std::vector<int32_t>* fds) const {
  for (size_t slot = 0; slot < fds_.size(); slot++) {
    if (fds_[slot].type != Object::none && fds_[slot].owner == node) {
      fds->push_back(static_cast<int32_t>(slot << kFdIndexShift));
    }
  }
}

void World::schedule(int64_t at_ns, EventKind kind, uint32_t target, uint64_t generation) {
  TIGERIO_ASSERT(at_ns >= now_ns_);
  TIGERIO_ASSERT(events_.size() < kEventsMax);
  events_.push(Event{at_ns, sequence_++, kind, target, generation});
}

void World::process_due() {
  while (!events_.empty() && events_.top().at_ns <= now_ns_) {
    const Event event = events_.top();
    events_.pop();
    switch (event.kind) {
      case EventKind::deliver:
        network_.deliver(event.target, event.generation);
        break;
      case EventKind::connect:
        network_.connect_arrives(event.target, event.generation);
        break;
      case EventKind::datagram:
        network_.datagram_arrives(event.target, event.generation);
        break;
      case EventKind::op_done: {
        SimulationBackend* backend = node(event.target);
        if (backend != nullptr) backend->finish_delayed(event.generation);
        break;
      }
    }
  }
}

void World::advance_to(int64_t at_ns) {
  TIGERIO_ASSERT(at_ns >= now_ns_);
  TIGERIO_ASSERT(at_ns < (int64_t{1} << 53));  // exact in a JS number
  if (at_ns == now_ns_) return;
  now_ns_ = at_ns;
  trace_.mix(static_cast<uint64_t>(at_ns));
}

void World::run_until(int64_t at_ns) {
  TIGERIO_ASSERT(at_ns >= now_ns_);
  process_due();
  while (!events_.empty() && events_.top().at_ns <= at_ns) {
    advance_to(events_.top().at_ns);
    process_due();
  }
  advance_to(at_ns);
}

int64_t World::end_round(int64_t round_start_ns, int64_t limit_ns) {
  TIGERIO_ASSERT(round_start_ns >= 0 && round_start_ns <= now_ns_);
  TIGERIO_ASSERT(limit_ns >= -1);  // a limit behind the clock (sim.advanceNs in a callback) holds it there
  if (now_ns_ > round_start_ns) return now_ns_;
  if (limit_ns >= 0 && now_ns_ >= limit_ns) return -1;
  run_until(now_ns_ + 1);
  TIGERIO_ASSERT(now_ns_ == round_start_ns + 1);
  return now_ns_;
}

int64_t World::timer_deadline_late(int64_t deadline_ns) {
  if (!random_.chance(faults_.timer_late_ppm)) return deadline_ns;
  return deadline_ns + random_.exponential_ns(faults_.timer_late_mean_ns);
}

bool World::runnable() {
  for (SimulationBackend* backend : nodes_) {
    if (backend == nullptr) continue;
    Loop& loop = backend->loop();
    if (loop.has_ready()) return true;
    const int64_t deadline_ns = loop.next_deadline_ns();
    if (deadline_ns >= 0 && deadline_ns <= now_ns_) return true;
  }
  return false;
}

int64_t World::next_anything_ns() {
  int64_t next_ns = next_event_ns();
  for (SimulationBackend* backend : nodes_) {
    if (backend == nullptr) continue;
    const int64_t deadline_ns = backend->loop().next_deadline_ns();
    if (deadline_ns >= 0 && (next_ns < 0 || deadline_ns < next_ns)) next_ns = timer_deadline_late(deadline_ns);
  }
  return next_ns;
}

bool World::step(int64_t limit_ns) {
  TIGERIO_ASSERT(limit_ns >= -1);
  process_due();
  if (runnable()) return true;
  const int64_t next_ns = next_anything_ns();
  if (next_ns < 0 || (limit_ns >= 0 && next_ns > limit_ns)) {
    if (limit_ns > now_ns_) advance_to(limit_ns);
    return false;
  }
  advance_to(std::max(next_ns, now_ns_));
  process_due();
  return true;
}

void World::crash(uint32_t node) {
  TIGERIO_ASSERT(node < nodes_.size());
  trace_.mix(0xc4a54 ^ node);
  network_.crash(node);
  disk_.crash(node);
}

namespace {

struct Registry {
  std::mutex mutex;
  std::unordered_map<uint32_t, std::weak_ptr<World>> worlds;
  uint32_t next_id = 1;
};

// Leaked on purpose, as the event registry: worker threads may use it while the process exits.
Registry& registry() {
  static Registry* instance = new Registry();
  return *instance;
}

}  // namespace

uint32_t world_register(const std::shared_ptr<World>& world) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const uint32_t id = r.next_id++;
  TIGERIO_ASSERT(id != 0);
  r.worlds.emplace(id, world);
  return id;
}

std::shared_ptr<World> world_find(uint32_t id) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto found = r.worlds.find(id);
  return found == r.worlds.end() ? nullptr : found->second.lock();
}

void world_unregister(uint32_t id) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.worlds.erase(id);
}

}  // namespace sim
}  // namespace tigerio
