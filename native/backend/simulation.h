// The simulation backend: one more thin backend, OS-neutral. It hands each
// op to a simulated world (sim_world.h) shared by the IOs on it, and its
// clock is the world's virtual clock, which moves only when nothing is
// runnable: a wait with nothing ready jumps to the next event.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../core/backend.h"
#include "../core/loop.h"
#include "sim_world.h"

namespace tigerio {

class SimulationBackend final : public Backend {
 public:
  // The world must have room for another node (World::node_count() < sim::kNodesMax).
  SimulationBackend(Loop* loop, std::shared_ptr<sim::World> world);
  ~SimulationBackend() override;

  const char* name() const override { return "simulation"; }
  void issue(Op* op, FdEntry* entry) override;
  void cancel(Op* op, FdEntry* entry) override;
  int32_t close(int32_t fd, FdEntry* entry) override;
  void end_abandoned() override;
  void wait(int64_t timeout_ns) override;
  void wake() override;
  void set_wake_hook(void (*hook)(void*), void* data) override;
  int64_t now_ns() const override { return world_->now_ns(); }
  int poll_fd() const override { return -1; }  // no kernel object: attach() drives it by rounds
  // For attach(): a round can make progress by moving the virtual clock.
  bool has_unsubmitted() const override;
  // Virtual fds are the world's, not the process's: the core keeps them out
  // of the process-wide fd owners, and this backend closes its own at destroy.
  bool fds_are_process_wide() const override { return false; }
  bool receives_process_signals() const override { return false; }

  int listen(const char* host, int port, int backlog, bool reuse_port) override;
  int socket(bool ipv6) override;
  int address(int fd, bool peer, char* address, size_t address_size, int* port, int* family) override;
  int shutdown(int fd, bool send, bool receive) override;
  int set_cork(int fd, bool on) override;
  int udp_socket(bool ipv6) override;
  int bind(int fd, const char* host, int port) override;
  int listen_unix(const char* path, uint32_t path_length, int backlog) override;
  int unix_socket() override;

  // The world finished `op` (now, or after a delivery or a delay).
  void complete(Op* op, int32_t result);
  Loop& loop() { return *loop_; }
  // A delayed disk op's time has come (World's op_done event): `id` is its op id.
  void finish_delayed(uint64_t id);
  uint32_t node() const { return node_; }

 private:
  bool cancel_unheard(Op* op);
  void issue_file_op(Op* op);
  int64_t perform_file_op(Op* op);
  void complete_file_op(Op* op, int64_t result);
  static uint64_t traced_fd(int32_t fd);
  bool consume_wake();
  int32_t socket_fd(int socket);

  // The Unix listeners this IO bound to a path: its close of one removes
  // the path (what libuv, and io/ on the kernel backends, do with unlink),
  // if the path still names that socket. A close by another IO of the
  // world (behind this one's back) leaves the path, as a kernel does.
  struct UnixPath {
    int32_t fd;
    uint32_t socket;
    uint64_t generation;
    std::string path;
  };
  std::vector<UnixPath> unix_paths_;

  std::shared_ptr<sim::World> world_;
  const uint32_t node_;
  // Cross-thread wake-ups (events): the only real blocking, when nothing
  // in the world can ever happen without one.
  std::mutex mutex_;
  std::condition_variable woken_;
  bool wake_pending_ = false;
  void (*wake_hook_)(void*) = nullptr;  // attach(): wakes Node's loop (under mutex_)
  void* wake_hook_data_ = nullptr;
};

// "simulation:<world id>": an IO on that world. nullptr with `error` set otherwise.
std::unique_ptr<Backend> create_simulation_backend(const std::string& name, Loop* loop, int* error);

}  // namespace tigerio
