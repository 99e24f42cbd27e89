#include "sim_disk.h"

#include <algorithm>
#include <cstring>

#include "../core/index_pool.h"
#include "../core/layout.h"
#include "sim_errors.h"
#include "sim_world.h"

namespace tigerio {
namespace sim {

namespace {
constexpr uint64_t kPositionMax = (uint64_t{1} << 53) - 1;  // what a JS number holds exactly
}

Page& Disk::page(File& file, uint64_t index) {
  std::unique_ptr<Page>& slot = file.pages[index];
  if (!slot) {
    slot.reset(new Page());  // zeroed: a hole reads as zeros, before and after a crash
    pages_bytes_ += sizeof(Page);
  }
  return *slot;
}

bool Disk::take_file(uint32_t* file_index) {
  if (!take_index(free_files_, files_, kFilesMax, file_index)) return false;
  File& file = files_[*file_index];
  // A new slot is default-constructed and a freed one was reset to File{} (release_if_unreachable).
  TIGERIO_ASSERT(!file.named && file.open_handles == 0 && file.pages.empty() && file.dirty_nodes == 0);
  TIGERIO_ASSERT(!file.socket && file.length == 0 && file.durable_length == 0);
  file.named = true;
  return true;
}

int32_t Disk::take_handle_fd(uint32_t node, uint32_t* handle_index) {
  if (!take_index(free_handles_, handles_, kHandlesMax, handle_index)) return kTooManyFiles;
  const int32_t fd = world_.fd_allocate(Object::file, *handle_index, node);
  // No fd (EMFILE): the handle goes back, so a failed open takes nothing.
  if (fd < 0) free_handles_.push_back(*handle_index);
  return fd;
}

void Disk::release_if_unreachable(uint32_t file_index) {
  TIGERIO_ASSERT(file_index < files_.size());
  File& file = files_[file_index];
  if (file.named || file.open_handles > 0 || file.journal_refs > 0) return;
  // No name and no open fd: nothing can reach its bytes again, so its pages go back to the disk.
  TIGERIO_ASSERT(pages_bytes_ >= file.pages.size() * sizeof(Page));
  pages_bytes_ -= file.pages.size() * sizeof(Page);
  file = File{};
  free_files_.push_back(file_index);
  TIGERIO_ASSERT(free_files_.size() <= files_.size());
}

int32_t Disk::open(const char* path, uint32_t flags, uint32_t node) {
  TIGERIO_ASSERT(path != nullptr);
  const bool create = (flags & kOpenCreate) != 0;
  auto found = paths_.find(path);
  if (found == paths_.end()) {
    if (!create) return kNoEntry;
  } else {
    if (create && (flags & kOpenExclusive) != 0) return kExists;
    if (found->second == kEntryDirectory) return kIsDirectory;
    TIGERIO_ASSERT(found->second < files_.size() && files_[found->second].named);
    if (files_[found->second].socket) return kNoDevice;  // open(2) of a socket: ENXIO
  }
  // The fd first, as the kernel takes it before it looks at the path: an
  // open that fails for want of one (EMFILE) creates and truncates nothing.
  uint32_t handle_index = 0;
  const int32_t fd = take_handle_fd(node, &handle_index);
  if (fd < 0) return fd;
  uint32_t file_index = 0;
  if (found != paths_.end()) {
    file_index = found->second;
  } else if (take_file(&file_index)) {
    // A new name: durable once its directory is synced.
    NameChange::Rebind created{path, kEntryNone, file_index};
    bind_path(created.path, file_index);
    journal(node, &created, 1, created.path);
  } else {
    world_.fd_release(fd);
    free_handles_.push_back(handle_index);
    return kNoSpace;  // creat(2) with the inode table full
  }
  File& file = files_[file_index];
  const bool writable = (flags & kOpenWrite) != 0;
  if (writable && (flags & kOpenTruncate) != 0 && file.length > 0) {
    // Truncation is a metadata change the model keeps durable at once.
    pages_bytes_ -= file.pages.size() * sizeof(Page);
    file.pages.clear();
    file.length = file.durable_length = 0;
  }
  Handle& handle = handles_[handle_index];
  handle = Handle{};
  handle.file = file_index;
  handle.node = node;
  handle.open = true;
  handle.readable = (flags & kOpenRead) != 0;
  handle.writable = writable;
  handle.append = (flags & kOpenAppend) != 0;
  file.open_handles++;
  TIGERIO_ASSERT(file.named && file.open_handles <= kHandlesMax);
  return fd;
}

int32_t Disk::read(uint32_t handle_index, FileTransferArgs& args) {
  Handle& handle = handles_[handle_index];
  TIGERIO_ASSERT(handle.open);
  if (!handle.readable) return kBadFd;
  if (world_.random().chance(world_.faults().read_error_ppm)) return kIO;
  File& file = files_[handle.file];
  const uint64_t position = args.position < 0 ? static_cast<uint64_t>(handle.position) : static_cast<uint64_t>(args.position);
  if (position >= file.length) return 0;
  const uint32_t length = static_cast<uint32_t>(std::min<uint64_t>(args.length, file.length - position));
  for (uint32_t done = 0; done < length;) {
    const uint64_t at = position + done;
    const uint32_t offset = static_cast<uint32_t>(at % kPageBytes);
    const uint32_t chunk = std::min(length - done, kPageBytes - offset);
    auto it = file.pages.find(at / kPageBytes);
    if (it == file.pages.end()) {
      std::memset(args.buffer + done, 0, chunk);
    } else {
      std::memcpy(args.buffer + done, it->second->data + offset, chunk);
    }
    done += chunk;
  }
  if (args.position < 0) handle.position += length;
  world_.trace().mix_bytes(args.buffer, length);
  return static_cast<int32_t>(length);
}

int32_t Disk::write(uint32_t handle_index, FileTransferArgs& args) {
  Handle& handle = handles_[handle_index];
  TIGERIO_ASSERT(handle.open);
  if (!handle.writable) return kBadFd;
  if (world_.random().chance(world_.faults().write_error_ppm)) return kIO;
  File& file = files_[handle.file];
  uint64_t position = static_cast<uint64_t>(args.position < 0 ? handle.position : args.position);
  if (handle.append) position = file.length;
  if (position + args.length > kPositionMax) return kInvalid;
  if (pages_bytes_ + (args.length / kPageBytes + 2) * sizeof(Page) > kDiskBytesMax) return kNoSpace;
  const uint32_t length = args.length;
  for (uint32_t done = 0; done < length;) {
    const uint64_t at = position + done;
    const uint32_t offset = static_cast<uint32_t>(at % kPageBytes);
    const uint32_t chunk = std::min(length - done, kPageBytes - offset);
    Page& target = page(file, at / kPageBytes);
    // The first write to a sector since the sync keeps what a crash may bring back.
    for (uint32_t sector = offset / kSectorBytes; sector <= (offset + chunk - 1) / kSectorBytes; sector++) {
      const uint8_t bit = static_cast<uint8_t>(1u << sector);
      if ((target.dirty & bit) != 0) continue;
      std::memcpy(target.durable + sector * kSectorBytes, target.data + sector * kSectorBytes, kSectorBytes);
      target.dirty |= bit;
    }
    std::memcpy(target.data + offset, args.buffer + done, chunk);
    done += chunk;
  }
  file.length = std::max<uint64_t>(file.length, position + length);
  file.dirty_nodes |= uint64_t{1} << handle.node;
  handle.wrote = true;
  if (args.position < 0 || handle.append) handle.position = static_cast<int64_t>(position + length);
  world_.trace().mix(position ^ (uint64_t{length} << 40));
  return static_cast<int32_t>(length);
}

void Disk::sync(File& file) {
  for (auto& entry : file.pages) entry.second->dirty = 0;
  file.durable_length = file.length;
  file.dirty_nodes = 0;
}

int32_t Disk::close(uint32_t handle_index) {
  Handle& handle = handles_[handle_index];
  TIGERIO_ASSERT(handle.open);
  if (handle.directory) {
    // Closing a directory syncs nothing: only its fsync does.
    handle = Handle{};
    free_handles_.push_back(handle_index);
    return 0;
  }
  int32_t result = 0;
  if (handle.wrote) {
    // The sync point. A failed sync leaves the writes un-synced (a later
    // crash may tear them), as a failed fsync does.
    if (world_.random().chance(world_.faults().sync_error_ppm)) {
      result = kIO;
    } else {
      sync(files_[handle.file]);
    }
  }
  const uint32_t file_index = handle.file;
  TIGERIO_ASSERT(file_index < files_.size() && files_[file_index].open_handles > 0);
  files_[file_index].open_handles--;
  handle = Handle{};
  free_handles_.push_back(handle_index);
  // The last fd of an unlinked file: its bytes go (unlink(2) defers that to here).
  release_if_unreachable(file_index);
  return result;
}

int32_t Disk::sync_handle(uint32_t handle_index) {
  TIGERIO_ASSERT(handle_index < handles_.size());
  Handle& handle = handles_[handle_index];
  TIGERIO_ASSERT(handle.open);
  if (world_.random().chance(world_.faults().sync_error_ppm)) return kIO;
  if (handle.directory) {
    sync_directory(handle.path);
    return 0;
  }
  sync(files_[handle.file]);
  handle.wrote = false;  // nothing left for the close to sync
  return 0;
}

int64_t Disk::size(uint32_t handle_index) {
  TIGERIO_ASSERT(handle_index < handles_.size());
  const Handle& handle = handles_[handle_index];
  TIGERIO_ASSERT(handle.open);
  return static_cast<int64_t>(files_[handle.file].length);
}

int32_t Disk::truncate(uint32_t handle_index, int64_t length_bytes) {
  TIGERIO_ASSERT(handle_index < handles_.size() && length_bytes >= 0);
  Handle& handle = handles_[handle_index];
  TIGERIO_ASSERT(handle.open);
  if (!handle.writable) return kInvalid;  // ftruncate(2) on a read-only fd
  File& file = files_[handle.file];
  const uint64_t length = static_cast<uint64_t>(length_bytes);
  if (length < file.length) {
    // Bytes past the new end are gone: a later extension reads zeros there.
    if (length == 0) {
      file.pages.clear();
    } else {
      file.pages.erase(file.pages.upper_bound((length - 1) / kPageBytes), file.pages.end());
    }
    const uint32_t tail = static_cast<uint32_t>(length % kPageBytes);
    auto it = file.pages.find(length / kPageBytes);
    if (tail != 0 && it != file.pages.end()) std::memset(it->second->data + tail, 0, kPageBytes - tail);
  }
  // A size change is metadata the model keeps durable at once, as at open.
  file.length = length;
  file.durable_length = std::min(file.durable_length, length);
  world_.trace().mix(length ^ 0x7c);
  return 0;
}

int32_t Disk::allocate(uint32_t handle_index, int64_t offset_bytes, int64_t length_bytes) {
  TIGERIO_ASSERT(handle_index < handles_.size() && offset_bytes >= 0 && length_bytes >= 1);
  Handle& handle = handles_[handle_index];
  TIGERIO_ASSERT(handle.open);
  if (!handle.writable) return kBadFd;
  const uint64_t end = static_cast<uint64_t>(offset_bytes) + static_cast<uint64_t>(length_bytes);
  if (end > kDiskBytesMax) return kNoSpace;  // the world's disk is this large
  File& file = files_[handle.file];
  // Blocks are reserved, not written: reads there see zeros, the size grows.
  file.length = std::max<uint64_t>(file.length, end);
  world_.trace().mix(end ^ 0xa1);
  return 0;
}

bool Disk::unlink(const std::string& path) {
  auto found = paths_.find(path);
  if (found == paths_.end() || found->second == kEntryDirectory) return false;
  const uint32_t file_index = found->second;
  TIGERIO_ASSERT(file_index < files_.size() && files_[file_index].named);
  paths_.erase(found);
  files_[file_index].named = false;
  release_if_unreachable(file_index);  // open fds keep it until their close
  world_.trace().mix(0x0dd1 ^ (uint64_t{path.size()} << 16));
  return true;
}

int32_t Disk::bind_socket(const std::string& path, uint32_t socket_index, uint64_t generation) {
  TIGERIO_ASSERT(!path.empty());
  if (paths_.count(path) != 0) return kAddressInUse;  // a stale socket or a file: removing it is the caller's call
  uint32_t file_index = 0;
  if (!take_file(&file_index)) return kNoSpace;  // bind(2) cannot make the socket file: ENOSPC
  File& file = files_[file_index];
  file.socket = true;
  file.socket_index = socket_index;
  file.socket_generation = generation;
  paths_.emplace(path, file_index);
  TIGERIO_ASSERT(paths_.count(path) == 1 && file.pages.empty());
  return 0;
}

int32_t Disk::find_socket(const std::string& path, uint32_t* socket_index, uint64_t* generation) const {
  auto found = paths_.find(path);
  TIGERIO_ASSERT(socket_index != nullptr && generation != nullptr);
  if (found == paths_.end()) return kNoEntry;
  if (found->second == kEntryDirectory) return kConnectionRefused;
  TIGERIO_ASSERT(found->second < files_.size());
  const File& file = files_[found->second];
  if (!file.socket) return kConnectionRefused;
  *socket_index = file.socket_index;
  *generation = file.socket_generation;
  return 0;
}

void Disk::unlink_socket(const std::string& path, uint32_t socket_index, uint64_t generation) {
  auto found = paths_.find(path);
  if (found == paths_.end() || found->second == kEntryDirectory) return;
  TIGERIO_ASSERT(found->second < files_.size());
  const File& file = files_[found->second];
  if (!file.socket || file.socket_index != socket_index || file.socket_generation != generation) return;
  unlink(path);
}

void Disk::crash(uint32_t node) {
  crash_names(node);
  Random& random = world_.random();
  const uint32_t lost_ppm = world_.faults().crash_lost_ppm;
  for (File& file : files_) {
    if ((file.dirty_nodes & (uint64_t{1} << node)) == 0) continue;
    uint64_t length = file.durable_length;
    for (auto& entry : file.pages) {
      Page& page = *entry.second;
      for (uint32_t sector = 0; sector < kSectorsPerPage; sector++) {
        if ((page.dirty & (1u << sector)) == 0) continue;
        const uint64_t start = entry.first * kPageBytes + sector * kSectorBytes;
        if (random.chance(lost_ppm)) {
          std::memcpy(page.data + sector * kSectorBytes, page.durable + sector * kSectorBytes, kSectorBytes);
        } else {
          length = std::max(length, std::min(file.length, start + kSectorBytes));
        }
      }
    }
    // Bytes past the surviving length are gone: they read as zeros if the file grows again.
    for (auto& entry : file.pages) {
      const uint64_t start = entry.first * kPageBytes;
      if (start + kPageBytes <= length) continue;
      const uint64_t keep = length > start ? length - start : 0;
      std::memset(entry.second->data + keep, 0, kPageBytes - keep);
    }
    file.length = length;
    sync(file);
    world_.trace().mix(length);
  }
}

}  // namespace sim
}  // namespace tigerio
