// A simulated world: the virtual clock, the one seeded random source, the
// event queue, the fds of every IO on it (a world is to its IOs what a
// kernel is to processes), and the trace hash of everything that happened.
// Its network (sim_network.h) and disk (sim_disk.h) act through it. Time
// moves only in advance_to(): when nothing is runnable, to the next event.
// A world is used by one thread (cross-thread wake-ups go to the backend).
#pragma once

#include <cstdint>
#include <memory>
#include <queue>
#include <vector>

#include "../core/operation.h"
#include "sim_disk.h"
#include "sim_faults.h"
#include "sim_network.h"
#include "sim_random.h"
#include "sim_trace.h"

namespace tigerio {

class SimulationBackend;

namespace sim {

constexpr uint32_t kNodesMax = 64;            // IOs on one world over its life
constexpr uint32_t kWorldFdsMax = 1u << 16;   // open fds on one world
constexpr uint32_t kFirstFdIndex = 3;         // as a process: 0, 1 and 2 are taken
constexpr size_t kEventsMax = size_t{1} << 24;

enum class EventKind : uint8_t { deliver, connect, op_done, datagram };

struct Event {
  int64_t at_ns;
  uint64_t sequence;  // ties in time go first-scheduled first
  EventKind kind;
  uint32_t target;      // socket index (deliver, connect), node (op_done) or datagram (datagram)
  uint64_t generation;  // the socket's generation, the op's id, or the datagram's serial
};

struct EventLater {
  bool operator()(const Event& a, const Event& b) const {
    return a.at_ns != b.at_ns ? a.at_ns > b.at_ns : a.sequence > b.sequence;
  }
};

// What an fd number names in the world.
struct Object {
  enum Type : uint8_t { none, socket, file } type;
  uint32_t index;  // into the network's sockets or the disk's handles
  uint32_t owner;  // the node whose destroy closes it (contract: an IO closes what it opened)
};

class World {
 public:
  World(uint64_t seed, const Faults& faults);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  int64_t now_ns() const { return now_ns_; }
  Random& random() { return random_; }
  const Faults& faults() const { return faults_; }
  Trace& trace() { return trace_; }
  Network& network() { return network_; }
  Disk& disk() { return disk_; }

  // Nodes: one per IO. Returns the node index, or -1 past kNodesMax.
  int32_t attach_node(SimulationBackend* backend);
  void detach_node(uint32_t node);
  SimulationBackend* node(uint32_t index) const { return index < nodes_.size() ? nodes_[index] : nullptr; }
  uint32_t node_count() const { return static_cast<uint32_t>(nodes_.size()); }

  // fds: the lowest free number, as POSIX gives.
  int32_t fd_allocate(Object::Type type, uint32_t index, uint32_t owner);  // or kTooManyFiles
  Object* fd_find(int32_t fd);
  void fd_release(int32_t fd);
  void fds_owned_by(uint32_t node, std::vector<int32_t>* fds) const;
  uint32_t fds_open() const { return fds_open_; }

  void schedule(int64_t at_ns, EventKind kind, uint32_t target, uint64_t generation);
  // Runs every event due now.
  void process_due();
  // The next event's time, or -1.
  int64_t next_event_ns() const { return events_.empty() ? -1 : events_.top().at_ns; }
  // The clock moves forward only, and only here.
  void advance_to(int64_t at_ns);
  // One step of sim.run(): true if something is runnable (ready ops, due
  // timers or events) or the clock moved to the next thing due at or
  // before limit_ns; false when nothing can happen by then (the clock is
  // then at limit_ns, unless that is -1: no limit).
  bool step(int64_t limit_ns);
  // Runs every event up to at_ns, then stands the clock there (an IO with
  // nothing pending lets time pass: io.runForNs()).
  void run_until(int64_t at_ns);
  // Ends a round of callbacks that began with the clock at round_start_ns.
  // A round costs at least 1 ns of virtual time, as a round costs wall time
  // on a kernel: a round that left the clock where it was moves it 1 ns,
  // else callbacks that keep submitting work due at once would hold the
  // clock still. Never past limit_ns (-1: no limit). Returns the clock
  // after the round, the next round's start (its caller reads no clock of
  // its own), or -1 when the clock stands at the limit, where the round
  // could not move it.
  int64_t end_round(int64_t round_start_ns, int64_t limit_ns);
  // A timer deadline passed late (the clock fault).
  int64_t timer_deadline_late(int64_t deadline_ns);
  // The machine of `node` crashes: its connections reset, its un-synced writes torn.
  void crash(uint32_t node);

 private:
  bool runnable();
  int64_t next_anything_ns();

  int64_t now_ns_ = 0;
  Random random_;
  Faults faults_;
  Trace trace_;
  uint64_t sequence_ = 0;
  std::priority_queue<Event, std::vector<Event>, EventLater> events_;
  std::vector<SimulationBackend*> nodes_;  // nullptr once its IO is gone
  std::vector<Object> fds_;                // by fd index
  uint32_t fds_open_ = 0;
  size_t lowest_free_ = kFirstFdIndex;  // no free fd below it
  Network network_;
  Disk disk_;
};

// The worlds of this process by id, for the addon to find the one an IO
// joins (the backend name "simulation:<id>").
uint32_t world_register(const std::shared_ptr<World>& world);
std::shared_ptr<World> world_find(uint32_t id);
void world_unregister(uint32_t id);

}  // namespace sim
}  // namespace tigerio
