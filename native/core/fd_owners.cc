#include "fd_owners.h"

#include <mutex>
#include <unordered_map>

namespace tigerio {

namespace {

struct Owners {
  std::mutex mutex;
  std::unordered_map<int32_t, const Loop*> by_fd;
};

// Leaked on purpose: worker threads may close fds while the process exits.
Owners& owners() {
  static Owners* instance = new Owners();
  return *instance;
}

}  // namespace

void fd_owner_set(int32_t fd, const Loop* loop) {
  Owners& o = owners();
  std::lock_guard<std::mutex> lock(o.mutex);
  o.by_fd[fd] = loop;
}

void fd_owner_clear(int32_t fd) {
  Owners& o = owners();
  std::lock_guard<std::mutex> lock(o.mutex);
  o.by_fd.erase(fd);
}

std::vector<int32_t> fd_owner_take_all(const Loop* loop) {
  std::vector<int32_t> fds;
  Owners& o = owners();
  std::lock_guard<std::mutex> lock(o.mutex);
  for (auto it = o.by_fd.begin(); it != o.by_fd.end();) {
    if (it->second == loop) {
      fds.push_back(it->first);
      it = o.by_fd.erase(it);
    } else {
      ++it;
    }
  }
  return fds;
}

}  // namespace tigerio
