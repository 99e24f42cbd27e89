#pragma once

#include <memory>

#include "../core/backend.h"

namespace tigerio {

struct LoopConfig;

// True if this kernel lets us use io_uring with every opcode and feature the
// backend needs (probed once, cached): io_uring_setup can be missing (before
// 5.1, or CONFIG_IO_URING=n), disabled by sysctl, or blocked by seccomp.
bool io_uring_available();
// Why io_uring_available() is false, for the one notice that the default
// backend fell back to epoll; nullptr when it is true.
const char* io_uring_unavailable_reason();
std::unique_ptr<Backend> create_io_uring_backend(Loop* loop, const LoopConfig& config, int* error);

}  // namespace tigerio
