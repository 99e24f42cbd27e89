// Which backends this build has and this machine can run, and making one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../core/backend.h"

namespace tigerio {

struct LoopConfig;

// Usable backends, best first.
std::vector<std::string> available_backends();
// Why this OS's best backend is not first in available_backends() (Linux:
// io_uring turned off or missing, epoll serves instead), or nullptr.
const char* default_backend_fallback_reason();
// Makes the named backend; nullptr with `error` set (a negative errno) on failure.
std::unique_ptr<Backend> create_backend(const std::string& name, Loop* loop, const LoopConfig& config, int* error);

}  // namespace tigerio
