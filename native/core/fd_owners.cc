#include "fd_owners.h"

#include <memory>
#include <mutex>
#include <vector>

#include "assert.h"
#include "platform.h"

namespace tigerio {

namespace {

// fds are small dense numbers (Windows handles are multiples of 4: see
// platform.h), so the table is indexed by fd, in pages made when an fd
// first falls in one and never moved or freed: it costs a pointer per fd
// number in use (no doubling's slack, no copies left behind), and an
// accept or close allocates nothing once its page is there.
size_t index_of(int32_t fd) { return static_cast<size_t>(fd) >> kFdIndexShift; }

// A number no handle can have (low bits set on Windows) is never recorded:
// it would alias a real handle's slot.
bool recordable(int32_t fd) { return fd >= 0 && (static_cast<uint32_t>(fd) & ((1u << kFdIndexShift) - 1)) == 0; }

int32_t fd_of(size_t index) { return static_cast<int32_t>(index << kFdIndexShift); }

constexpr size_t kPageFds = 4096;  // 32 KiB of owners per page

struct Owners {
  std::mutex mutex;  // uncontended but for IOs of several threads opening and closing at once
  std::vector<std::unique_ptr<const Loop*[]>> pages;  // fd index / kPageFds; nullptr until one is used
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
  const size_t page = index / kPageFds;
  Owners& o = owners();
  std::lock_guard<std::mutex> lock(o.mutex);
  if (page >= o.pages.size()) o.pages.resize(page + 1);
  if (!o.pages[page]) o.pages[page].reset(new const Loop*[kPageFds]());
  o.pages[page][index % kPageFds] = loop;
}

void fd_owner_clear(int32_t fd) {
  if (!recordable(fd)) return;
  const size_t index = index_of(fd);
  const size_t page = index / kPageFds;
  Owners& o = owners();
  std::lock_guard<std::mutex> lock(o.mutex);
  if (page < o.pages.size() && o.pages[page]) o.pages[page][index % kPageFds] = nullptr;
}

std::vector<int32_t> fd_owner_take_all(const Loop* loop) {
  std::vector<int32_t> fds;
  Owners& o = owners();
  std::lock_guard<std::mutex> lock(o.mutex);
  for (size_t page = 0; page < o.pages.size(); page++) {
    if (!o.pages[page]) continue;
    for (size_t offset = 0; offset < kPageFds; offset++) {
      if (o.pages[page][offset] != loop) continue;
      fds.push_back(fd_of(page * kPageFds + offset));
      o.pages[page][offset] = nullptr;
      TIGERIO_ASSERT(recordable(fds.back()));
    }
  }
  return fds;
}

}  // namespace tigerio
