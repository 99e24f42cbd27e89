// The backends compiled for this OS, best first, and their factories.
#include "registry.h"

#include "../core/errors.h"
#include "../core/loop.h"

#if defined(__linux__)
#include "epoll.h"
#include "io_uring.h"
#endif
// macOS and the BSDs; on Linux only in a contributor build against libkqueue
// (binding.gyp's TIGERIO_KQUEUE_PREFIX), listed last so that it is never the default.
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(TIGERIO_KQUEUE)
#define TIGERIO_HAS_KQUEUE 1
#include "kqueue.h"
#endif
#ifdef _WIN32
#include "iocp.h"
#endif
#include "simulation.h"

namespace tigerio {

std::vector<std::string> available_backends() {
  std::vector<std::string> names;
#if defined(__linux__)
  // io_uring first where the kernel has what it needs and lets us use it
  // (probed once: kernel version, the io_uring_disabled sysctl, seccomp):
  // the bench has it ahead of epoll on ping-pong and on HTTP CPU per
  // request (native/README.md); epoll everywhere else.
  if (io_uring_available()) names.push_back("io_uring");
  names.push_back("epoll");
#endif
#ifdef TIGERIO_HAS_KQUEUE
  names.push_back("kqueue");
#endif
#ifdef _WIN32
  names.push_back("iocp");
#endif
  // Every OS: a simulated world (io/ names it "simulation:<world id>"). Last: never the default.
  names.push_back("simulation");
  return names;
}

const char* default_backend_fallback_reason() {
#if defined(__linux__)
  return io_uring_unavailable_reason();
#else
  return nullptr;
#endif
}

std::unique_ptr<Backend> create_backend(const std::string& name, Loop* loop, const LoopConfig& config, int* error) {
#if defined(__linux__)
  if (name == "epoll") return create_epoll_backend(loop, config, error);
  if (name == "io_uring") return create_io_uring_backend(loop, config, error);
#endif
#ifdef TIGERIO_HAS_KQUEUE
  if (name == "kqueue") return create_kqueue_backend(loop, config, error);
#endif
#ifdef _WIN32
  if (name == "iocp") return create_iocp_backend(loop, config, error);
#endif
  if (name.compare(0, 10, "simulation") == 0) return create_simulation_backend(name, loop, error);
  (void)loop;
  (void)config;
  (void)name;
  *error = kErrNotSupported;
  return nullptr;
}

}  // namespace tigerio
