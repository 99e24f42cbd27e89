#pragma once

#include <memory>

#include "../core/backend.h"

namespace tigerio {

struct LoopConfig;

// True if this kernel lets us use io_uring with every opcode and feature the
// backend needs (probed once, cached): io_uring_setup can be missing (before
// 5.1, or CONFIG_IO_URING=n), disabled by sysctl, or blocked by seccomp.
bool io_uring_available();
std::unique_ptr<Backend> create_io_uring_backend(Loop* loop, const LoopConfig& config, int* error);

}  // namespace tigerio
