#pragma once

#include <memory>

#include "../core/backend.h"

namespace tigerio {

struct LoopConfig;
std::unique_ptr<Backend> create_epoll_backend(Loop* loop, const LoopConfig& config, int* error);

}  // namespace tigerio
