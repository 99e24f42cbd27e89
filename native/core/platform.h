// The few facts that differ per OS and that the core must know. The core
// declares them; the backend layer defines them, once per OS family
// (backend/posix.cc, backend/win32.cc), so the core has no #ifdef.
#pragma once

#include <cstdint>

namespace tigerio {

// fd numbers are handle values shifted right by this to index a table:
// 0 on POSIX (fds are small dense numbers); 2 on Windows (handles are
// multiples of 4, the kernel ignores the two low bits).
extern const uint32_t kFdIndexShift;

}  // namespace tigerio
