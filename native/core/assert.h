// Invariant checks, kept in release builds: they are cheap, and a broken
// invariant in an I/O layer corrupts memory or loses a callback, which is
// worse than a clear abort with the file and line.
#pragma once

#include <cstdio>
#include <cstdlib>

#define TIGERIO_ASSERT(condition)                                                      \
  do {                                                                                \
    if (!(condition)) {                                                               \
      std::fprintf(stderr, "tigerio: assertion failed: %s (%s:%d)\n", #condition,    \
                   __FILE__, __LINE__);                                               \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)
