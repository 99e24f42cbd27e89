#include "fd_owners.h"

#include <algorithm>
#include <mutex>

#include "assert.h"
#include "platform.h"

namespace tigerio {

namespace {

// fds are small dense numbers (Windows handles are multiples of 4: see
// platform.h), so a vector indexed by fd, grown by doubling to the highest
// fd seen, serves without an allocation per accept or close once warm.
size_t index_of(int32_t fd) { return static_cast<size_t>(fd) >> kFdIndexShift; }

// A number no handle can have (low bits set on Windows) is never recorded:
// it would alias a real handle's slot.
bool recordable(int32_t fd) { return fd >= 0 && (static_cast<uint32_t>(fd) & ((1u << kFdIndexShift) - 1)) == 0; }

int32_t fd_of(size_t index) { return static_cast<int32_t>(index << kFdIndexShift); }

struct Owners {
  std::mutex mutex;  // uncontended but for IOs of several threads opening and closing at once
  std::vector<const Loop*> by_index;
};

// Leaked on purpose: worker threads may close fds while the process exits.
Owners& owners() {
  static Owners* instance = new Owners();
  return *instance;
}

}  // namespace

void fd_owner_set(int32_t fd, const Loop* loop) {
  TIGERIO_ASSERT(loop != nullptr);
  if (!recordable(fd)) return;
  const size_t index = index_of(fd);
  Owners& o = owners();
  std::lock_guard<std::mutex> lock(o.mutex);
  if (index >= o.by_index.size()) o.by_index.resize(std::max<size_t>(index + 1, o.by_index.size() * 2), nullptr);
  o.by_index[index] = loop;
}

void fd_owner_clear(int32_t fd) {
  if (!recordable(fd)) return;
  const size_t index = index_of(fd);
  Owners& o = owners();
  std::lock_guard<std::mutex> lock(o.mutex);
  if (index < o.by_index.size()) o.by_index[index] = nullptr;
}

std::vector<int32_t> fd_owner_take_all(const Loop* loop) {
  std::vector<int32_t> fds;
  Owners& o = owners();
  std::lock_guard<std::mutex> lock(o.mutex);
  for (size_t index = 0; index < o.by_index.size(); index++) {
    if (o.by_index[index] != loop) continue;
    fds.push_back(fd_of(index));
    o.by_index[index] = nullptr;
    TIGERIO_ASSERT(recordable(fds.back()));
  }
  return fds;
}

}  // namespace tigerio
