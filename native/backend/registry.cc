// The backends compiled for this OS, best first, and their factories.
#include "registry.h"

#include "../core/errors.h"
#include "../core/loop.h"

#if defined(__linux__)
#include "epoll.h"
#include "io_uring.h"
#endif

namespace tigerio {

std::vector<std::string> available_backends() {
  std::vector<std::string> names;
#if defined(__linux__)
  names.push_back("epoll");
#endif
  return names;
}

std::unique_ptr<Backend> create_backend(const std::string& name, Loop* loop, const LoopConfig& config, int* error) {
#if defined(__linux__)
  if (name == "epoll") return create_epoll_backend(loop, config, error);
  if (name == "io_uring") return create_io_uring_backend(loop, config, error);
#endif
  (void)loop;
  (void)config;
  (void)name;
  *error = kErrNotSupported;
  return nullptr;
}

}  // namespace tigerio
