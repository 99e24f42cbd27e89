#include "simulation.h"

#include <algorithm>

#include <cstdlib>
#include <vector>

#include "../core/errors.h"
#include "../core/platform.h"
#include "sim_errors.h"
#include "sim_waiters.h"

namespace tigerio {

namespace {

// Waiter::waiting values: in a socket's list, or for the disk's delay.
constexpr uint8_t kWaitingSocket = 1;
constexpr uint8_t kWaitingDisk = 2;
static_assert(sim::Network::kOrphan != kWaitingSocket && sim::Network::kOrphan != kWaitingDisk, "distinct marks");

}  // namespace

SimulationBackend::SimulationBackend(Loop* loop, std::shared_ptr<sim::World> world)
    : Backend(loop), world_(std::move(world)), node_(static_cast<uint32_t>(world_->attach_node(this))) {
  TIGERIO_ASSERT(node_ < sim::kNodesMax);
  TIGERIO_ASSERT(world_->node(node_) == this);
}

SimulationBackend::~SimulationBackend() {
  // The core has completed every op (Loop's destructor cancels them first);
  // what this IO opened and nobody closed is closed here, as the core's fd
  // owners do for a backend whose fds are the process's.
  std::vector<int32_t> fds;
  world_->fds_owned_by(node_, &fds);
  for (const int32_t fd : fds) close(fd, nullptr);
  world_->detach_node(node_);
}

// What the trace records of an fd or a result: the same on every OS. fd
// numbers are handle-like multiples of 4 on Windows (kFdIndexShift), and
// errno values differ per OS.
uint64_t SimulationBackend::traced_fd(int32_t fd) {
  return fd < 0 ? 0xffffffffULL : static_cast<uint64_t>(static_cast<uint32_t>(fd) >> kFdIndexShift);
}

// An abandoned op (Loop::abandon) is answered here too, late: the core
// then frees its storage and drops the result.
void SimulationBackend::complete(Op* op, int32_t result) {
  TIGERIO_ASSERT(op->state == OpState::pending || op->state == OpState::abandoned);
  const bool makes_fd = op->kind == OpKind::accept || op->kind == OpKind::open;
  const uint64_t traced = result < 0 ? (uint64_t{1} << 31) | sim::error_ordinal(result)
                                     : (makes_fd ? traced_fd(result) : static_cast<uint64_t>(result));
  world_->trace().mix((traced << 32) | (uint64_t{node_} << 8) | static_cast<uint8_t>(op->kind));
  loop_->complete(op, result);
}

void SimulationBackend::issue(Op* op, FdEntry* entry) {
  (void)entry;
  TIGERIO_ASSERT(op->state == OpState::pending);
  sim::Waiter& waiter = sim::waiter_of(op);
  waiter = sim::Waiter{nullptr, this, 0, 0};
  world_->trace().mix((traced_fd(op->fd) << 16) | (uint64_t{node_} << 8) | static_cast<uint8_t>(op->kind));
  if (op_is_path_op(op->kind) || op_is_file_op(op->kind)) {
    issue_file_op(op);
    return;
  }
  if (op->kind == OpKind::process_exit) {
    // A simulated world runs no processes: every pid names none (ESRCH, as
    // a real kernel says for a pid that is gone).
    complete(op, sim::kNoSuchProcess);
    return;
  }
  TIGERIO_ASSERT(op_is_socket_op(op->kind) && "operation kind the core keeps");
  sim::Object* object = world_->fd_find(op->fd);
  if (object == nullptr) {
    complete(op, sim::kBadFd);
  } else if (object->type != sim::Object::socket) {
    complete(op, sim::kNotSocket);
  } else {
    world_->network().issue(op, object->index);
  }
}

void SimulationBackend::issue_file_op(Op* op) {
  const sim::Faults& faults = world_->faults();
  const int64_t latency_ns =
      faults.disk_latency_min_ns + world_->random().exponential_ns(faults.disk_latency_mean_ns);
  if (latency_ns == 0) {
    complete_file_op(op, perform_file_op(op));
    return;
  }
  // The op happens when its time comes, not before: a cancel until then undoes it.
  sim::waiter_of(op).waiting = kWaitingDisk;
  world_->schedule(world_->now_ns() + latency_ns, sim::EventKind::op_done, node_, op->id());
}

int64_t SimulationBackend::perform_file_op(Op* op) {
  sim::Disk& disk = world_->disk();
  switch (op->kind) {
    case OpKind::open:
      return disk.open(op->args.open.path, op->args.open.flags, node_);
    case OpKind::rename:
      return disk.rename(op->args.path.path, op->args.path.target, op->args.path.flags, node_);
    case OpKind::unlink:
      return disk.unlink_path(op->args.path.path, node_);
    case OpKind::mkdir:
      return disk.mkdir(op->args.path.path, node_);
    case OpKind::open_directory:
      return disk.open_directory(op->args.path.path, node_);
    default:
      break;
  }
  sim::Object* object = world_->fd_find(op->fd);
  if (object == nullptr) return sim::kBadFd;
  if (object->type != sim::Object::file) return sim::kInvalid;
  if (disk.is_directory_handle(object->index)) {
    // A directory's fd (read-only, as open(O_DIRECTORY) gives it) takes
    // fsync; the rest fails as Linux fails it.
    switch (op->kind) {
      case OpKind::read:
        return sim::kIsDirectory;
      case OpKind::write:
      case OpKind::allocate:
        return sim::kBadFd;
      case OpKind::truncate:
        return sim::kInvalid;
      case OpKind::file_size:
        return 0;
      default:
        break;
    }
  }
  switch (op->kind) {
    case OpKind::read:
      return disk.read(object->index, op->args.read);
    case OpKind::write:
      return disk.write(object->index, op->args.write);
    case OpKind::fsync:
    case OpKind::fdatasync:
      return disk.sync_handle(object->index);
    case OpKind::file_size:
      return disk.size(object->index);
    case OpKind::truncate:
      return disk.truncate(object->index, op->args.truncate.length_bytes);
    case OpKind::allocate:
      return disk.allocate(object->index, op->args.allocate.offset_bytes, op->args.allocate.length_bytes);
    default:
      break;
  }
  TIGERIO_ASSERT(false && "not a file operation");
  return sim::kInvalid;
}

void SimulationBackend::finish_delayed(uint64_t id) {
  Op* op = loop_->find_pending(id);
  if (op == nullptr || sim::waiter_of(op).backend != this || sim::waiter_of(op).waiting != kWaitingDisk) return;
  sim::waiter_of(op).waiting = 0;
  complete_file_op(op, perform_file_op(op));
}

// fileSize's result may be wider than int32: it travels beside the completion.
void SimulationBackend::complete_file_op(Op* op, int64_t result) {
  if (op->kind != OpKind::file_size) {
    TIGERIO_ASSERT(result >= INT32_MIN && result <= INT32_MAX);
    complete(op, static_cast<int32_t>(result));
    return;
  }
  world_->trace().mix((static_cast<uint64_t>(result) << 8) | (uint64_t{node_} << 4) | 0x5);
  loop_->complete_size(op, result);
}

void SimulationBackend::cancel(Op* op, FdEntry* entry) {
  (void)entry;
  TIGERIO_ASSERT(op->state == OpState::pending && (op->core_flags & kOpIssued) != 0);
  sim::Waiter& waiter = sim::waiter_of(op);
  if (waiter.waiting == kWaitingDisk) {
    waiter.waiting = 0;
    complete(op, sim::kCanceled);
    return;
  }
  if (waiter.waiting == sim::Network::kOrphan) {
    // Its socket was closed by another IO (rule 9): the core is taking it back.
    const bool removed = world_->network().cancel_orphan(op);
    TIGERIO_ASSERT(removed);
    complete(op, sim::kCanceled);
    return;
  }
  // Every other op the backend holds waits on the socket its fd names.
  TIGERIO_ASSERT(waiter.waiting == kWaitingSocket);
  if (cancel_unheard(op)) return;  // the op waits on; the core asks again next round
  sim::Object* object = world_->fd_find(op->fd);
  TIGERIO_ASSERT(object != nullptr && object->type == sim::Object::socket);
  const bool removed = world_->network().cancel(op, object->index);
  TIGERIO_ASSERT(removed);
  complete(op, sim::kCanceled);
}

// The cancel faults (sim_faults.h), for an op waiting on a socket: true if
// the world does not hear this request. Nothing is drawn while both are 0,
// so the traces of worlds without them stay as they were.
bool SimulationBackend::cancel_unheard(Op* op) {
  sim::Waiter& waiter = sim::waiter_of(op);
  const sim::Faults& faults = world_->faults();
  if ((waiter.cancel & sim::kCancelAsked) == 0) {
    waiter.cancel |= sim::kCancelAsked;
    if (world_->random().chance(faults.cancel_ignored_ppm)) waiter.cancel |= sim::kCancelIgnored;
  }
  const bool unheard = (waiter.cancel & sim::kCancelIgnored) != 0 || world_->random().chance(faults.cancel_lost_ppm);
  if (unheard) world_->trace().mix((uint64_t{0xca} << 16) | (uint64_t{node_} << 8) | static_cast<uint8_t>(op->kind));
  return unheard;
}

// The IO ends while the world still holds ops the core abandoned: they end
// with it, as a process's exit ends the I/O the kernel still had for it.
void SimulationBackend::end_abandoned() { world_->network().end_abandoned(this); }

int32_t SimulationBackend::close(int32_t fd, FdEntry* entry) {
  TIGERIO_ASSERT(entry == nullptr || (entry->queues[0].empty() && entry->queues[1].empty()));
  sim::Object* object = world_->fd_find(fd);
  if (object == nullptr) return sim::kBadFd;
  const sim::Object closed = *object;
  world_->fd_release(fd);  // first: a close never finds its own number half-gone
  // A Unix listener of this IO's: its path goes with it (if it still names it).
  const auto named = std::find_if(unix_paths_.begin(), unix_paths_.end(), [fd](const UnixPath& p) { return p.fd == fd; });
  UnixPath removed{-1, 0, 0, std::string()};
  if (named != unix_paths_.end()) {
    removed = std::move(*named);
    unix_paths_.erase(named);
    // An fd number names one listener at a time: its path was recorded once.
    TIGERIO_ASSERT(std::none_of(unix_paths_.begin(), unix_paths_.end(), [fd](const UnixPath& p) { return p.fd == fd; }));
  }
  const bool same_listener = removed.fd >= 0 && closed.type == sim::Object::socket && closed.index == removed.socket &&
                             world_->network().generation(closed.index) == removed.generation;
  const int32_t result = closed.type == sim::Object::socket ? world_->network().close(closed.index)
                                                            : world_->disk().close(closed.index);
  if (same_listener) world_->disk().unlink_socket(removed.path, removed.socket, removed.generation);
  world_->trace().mix((traced_fd(fd) << 8) | 0xc1);
  return result;
}

bool SimulationBackend::consume_wake() {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool pending = wake_pending_;
  wake_pending_ = false;
  return pending;
}

void SimulationBackend::wait(int64_t timeout_ns) {
  TIGERIO_ASSERT(timeout_ns >= -1);
  // What completes during this wait ends it; what was ready before does not
  // (Loop::drain_backend waits for the next cancel round with completions
  // not yet harvested: the clock must move for it).
  const uint32_t ready_before = loop_->ready_count();
  world_->process_due();
  if (loop_->ready_count() > ready_before || timeout_ns == 0) return;
  const int64_t deadline_ns = timeout_ns < 0 ? -1 : world_->now_ns() + timeout_ns;
  // Nothing is runnable for this IO: move the clock to the next event, until
  // one makes something ready or the wait's time is up.
  for (uint64_t rounds = 0;; rounds++) {
    TIGERIO_ASSERT(rounds < (uint64_t{1} << 40));
    if (consume_wake()) return;
    const int64_t next_ns = world_->next_event_ns();
    if (next_ns < 0 || (deadline_ns >= 0 && next_ns > deadline_ns)) break;
    world_->advance_to(next_ns);
    world_->process_due();
    if (loop_->ready_count() > ready_before) return;
  }
  if (deadline_ns >= 0) {
    world_->advance_to(world_->timer_deadline_late(deadline_ns));  // time passes, though nothing happens
    world_->process_due();
    return;
  }
  // Nothing in the world can happen: only another thread can end this wait
  // (an event trigger), as only it could on a real kernel.
  std::unique_lock<std::mutex> lock(mutex_);
  woken_.wait(lock, [this] { return wake_pending_; });
  wake_pending_ = false;
}

void SimulationBackend::wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_pending_ = true;
    // Under the lock: set_wake_hook(nullptr) returns only once no call runs.
    if (wake_hook_ != nullptr) wake_hook_(wake_hook_data_);
  }
  woken_.notify_one();
}

void SimulationBackend::set_wake_hook(void (*hook)(void*), void* data) {
  std::lock_guard<std::mutex> lock(mutex_);
  TIGERIO_ASSERT(hook == nullptr || wake_hook_ == nullptr);
  wake_hook_ = hook;
  wake_hook_data_ = data;
}

bool SimulationBackend::has_unsubmitted() const {
  return world_->next_event_ns() >= 0 || loop_->next_deadline_ns() >= 0;
}

int SimulationBackend::listen(const char* host, int port, int backlog, bool reuse_port) {
  AddressStorage address;
  if (!parse_ip_address(host, port, &address)) return sim::kInvalid;
  const int socket = world_->network().listen(node_, address, backlog, reuse_port);
  if (socket < 0) return socket;
  const int32_t fd = world_->fd_allocate(sim::Object::socket, static_cast<uint32_t>(socket), node_);
  if (fd < 0) world_->network().close(static_cast<uint32_t>(socket));
  return fd;
}

int SimulationBackend::socket(bool ipv6) {
  const int socket = world_->network().socket(node_, ipv6);
  const int32_t fd = world_->fd_allocate(sim::Object::socket, static_cast<uint32_t>(socket), node_);
  if (fd < 0) world_->network().close(static_cast<uint32_t>(socket));
  return fd;
}

// A socket index of the network as a new fd of this IO (or EMFILE, the socket closed again).
int32_t SimulationBackend::socket_fd(int socket) {
  if (socket < 0) return socket;
  const int32_t fd = world_->fd_allocate(sim::Object::socket, static_cast<uint32_t>(socket), node_);
  if (fd < 0) world_->network().close(static_cast<uint32_t>(socket));
  return fd;
}

int SimulationBackend::udp_socket(bool ipv6) { return socket_fd(world_->network().udp_socket(node_, ipv6)); }

int SimulationBackend::unix_socket() { return socket_fd(world_->network().unix_socket(node_)); }

int SimulationBackend::bind(int fd, const char* host, int port) {
  AddressStorage address;
  if (!parse_ip_address(host, port, &address)) return sim::kInvalid;
  sim::Object* object = world_->fd_find(fd);
  if (object == nullptr) return sim::kBadFd;
  if (object->type != sim::Object::socket) return sim::kNotSocket;
  return world_->network().bind(object->index, address);
}

// The world is Linux-like where the host is: io/ lets a name starting with
// NUL (the abstract namespace) through only where the OS has one, and the
// world then keeps it apart from the file namespace, gone with its socket.
int SimulationBackend::listen_unix(const char* path, uint32_t path_length, int backlog) {
  const int socket = world_->network().listen_unix(node_, path, path_length, backlog);
  if (socket < 0) return socket;
  const uint32_t index = static_cast<uint32_t>(socket);
  const UnixPath named{-1, index, world_->network().generation(index), std::string(path, path_length)};
  const int32_t fd = socket_fd(socket);
  const bool abstract = path[0] == '\0';
  if (fd < 0) {
    if (!abstract) world_->disk().unlink_socket(named.path, named.socket, named.generation);  // no fd: no file either
    return fd;
  }
  if (!abstract) {
    unix_paths_.push_back(named);
    unix_paths_.back().fd = fd;
  }
  return fd;
}

int SimulationBackend::address(int fd, bool peer, char* address, size_t address_size, int* port, int* family) {
  sim::Object* object = world_->fd_find(fd);
  if (object == nullptr) return sim::kBadFd;
  if (object->type != sim::Object::socket) return sim::kNotSocket;
  return world_->network().address(object->index, peer, address, address_size, port, family);
}

int SimulationBackend::shutdown(int fd, bool send, bool receive) {
  sim::Object* object = world_->fd_find(fd);
  if (object == nullptr) return sim::kBadFd;
  if (object->type != sim::Object::socket) return sim::kNotSocket;
  return world_->network().shutdown(object->index, send, receive);
}

int SimulationBackend::set_cork(int fd, bool) {
  sim::Object* object = world_->fd_find(fd);
  if (object == nullptr) return sim::kBadFd;
  if (object->type != sim::Object::socket) return sim::kNotSocket;
  return world_->network().set_cork(object->index);
}

std::unique_ptr<Backend> create_simulation_backend(const std::string& name, Loop* loop, int* error) {
  TIGERIO_ASSERT(loop != nullptr && error != nullptr);
  const std::string prefix = "simulation:";
  std::shared_ptr<sim::World> world;
  if (name.compare(0, prefix.size(), prefix) == 0) {
    const unsigned long id = std::strtoul(name.c_str() + prefix.size(), nullptr, 10);
    if (id > 0 && id <= 0xffffffffUL) world = sim::world_find(static_cast<uint32_t>(id));
  }
  if (!world) {
    *error = kErrInvalid;  // io/ always names a world; a bare "simulation" has none
    return nullptr;
  }
  if (world->node_count() >= sim::kNodesMax) {
    *error = kErrTooManyFiles;
    return nullptr;
  }
  return std::unique_ptr<Backend>(new SimulationBackend(loop, std::move(world)));
}

}  // namespace tigerio
