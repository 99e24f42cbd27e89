// The fd table: one entry per fd number the IO has used, sized once at init
// (fdsMax) and never grown, indexed by fd >> kFdIndexShift. An entry holds
// the fd's two FIFOs (core/operation.h Direction), the close waiting for
// them to drain, and a few bytes that belong to the backend (epoll's
// registration, IOCP's file position). The memory comes zeroed from the
// allocator, so pages of entries never used cost nothing.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <type_traits>

#include "assert.h"
#include "operation.h"
#include "platform.h"

namespace tigerio {

struct FdEntry {
  OpList queues[2];  // indexed by Direction: only the head is issued to the backend
  Op* closer;        // a close waiting for the ops on this fd to complete
  // The backend's own per-fd state; zero when the number starts a new life.
  alignas(8) uint8_t backend[kFdBackendBytes];
  uint8_t advancing;  // bit per Direction: Loop::advance() is issuing heads of it
  uint8_t direct;     // opened by this IO with kOpenDirect: reads and writes must be aligned (layout.h)

  bool idle() const { return queues[0].empty() && queues[1].empty() && closer == nullptr; }
  OpList& queue(Direction direction) {
    TIGERIO_ASSERT(direction != Direction::none);
    return queues[static_cast<uint8_t>(direction)];
  }
  template <typename T>
  T& backend_state() {
    static_assert(sizeof(T) <= sizeof(backend), "backend state fits in FdEntry::backend (platform.h kFdBackendBytes)");
    static_assert(std::is_trivial<T>::value && alignof(T) <= 8, "backend state is plain data");
    return *reinterpret_cast<T*>(backend);
  }
};
static_assert(std::is_trivial<FdEntry>::value, "a zeroed FdEntry is an unused one");
// Every fd an IO uses holds one: 32 bytes on POSIX, 48 on Windows (its
// backend bytes are more). IOOptions.fdsMax's TSDoc (io/types.ts) and
// layout.h's kFdsMaxLimit say so.
static_assert(kFdBackendBytes == 6 || kFdBackendBytes == 16, "a new backend size: decide FdEntry's size below");
static_assert(sizeof(void*) != 8 || kFdBackendBytes != 6 || sizeof(FdEntry) == 32,
              "FdEntry size changed: update IOOptions.fdsMax's TSDoc (io/types.ts) and layout.h");
static_assert(sizeof(void*) != 8 || kFdBackendBytes != 16 || sizeof(FdEntry) == 48,
              "FdEntry size changed: update IOOptions.fdsMax's TSDoc (io/types.ts) and layout.h");

class FdTable {
 public:
  explicit FdTable(uint32_t fds_max) : capacity_(fds_max) {
    TIGERIO_ASSERT(fds_max >= 1 && fds_max <= kFdsMaxLimit);
    entries_ = static_cast<FdEntry*>(std::calloc(fds_max, sizeof(FdEntry)));
    TIGERIO_ASSERT(entries_ != nullptr);  // virtual memory: zero pages until touched
  }
  ~FdTable() { std::free(entries_); }
  FdTable(const FdTable&) = delete;
  FdTable& operator=(const FdTable&) = delete;

  // The entry of fd, or nullptr if fd is no handle number or beyond fdsMax.
  FdEntry* find(int32_t fd) {
    if (fd < 0) return nullptr;
    const uint32_t low = (1u << kFdIndexShift) - 1;
    if ((static_cast<uint32_t>(fd) & low) != 0) return nullptr;
    const uint32_t index = static_cast<uint32_t>(fd) >> kFdIndexShift;
    if (index >= capacity_) return nullptr;
    return &entries_[index];
  }

  FdEntry& at(int32_t fd) {
    FdEntry* entry = find(fd);
    TIGERIO_ASSERT(entry != nullptr);
    return *entry;
  }

  uint32_t capacity() const { return capacity_; }
  FdEntry& entry(uint32_t index) {
    TIGERIO_ASSERT(index < capacity_);
    return entries_[index];
  }
  static int32_t fd_of(uint32_t index) { return static_cast<int32_t>(index << kFdIndexShift); }

 private:
  const uint32_t capacity_;
  FdEntry* entries_ = nullptr;
};

}  // namespace tigerio
