// The simulated disk's namespace (see sim_disk.h): rename, unlink, mkdir and
// openDirectory, and the journal that makes a change durable only once its
// directory is synced. TigerBeetle's storage simulator models a single
// preallocated file and needs none of this; the model here is the one
// ext4/XFS give in practice: changes reach the disk in the order they were
// made (a journal), so a crash keeps a prefix of the un-synced ones.
#include <algorithm>
#include <string>
#include <vector>

#include "../core/index_pool.h"
#include "sim_disk.h"
#include "sim_errors.h"
#include "sim_world.h"

namespace tigerio {
namespace sim {

namespace {

// The world is the same on every OS, and so are its paths: a program on
// Windows names them with backslashes (path.join), on POSIX with slashes.
bool separator(char c) { return c == '/' || c == '\\'; }

// A path without its trailing separators ("/" stays "/"; "" is ".").
std::string trimmed(const std::string& path) {
  std::string result = path;
  while (result.size() > 1 && separator(result.back())) result.pop_back();
  return result.empty() ? std::string(".") : result;
}

// The directory a path's name lives in: "." for a bare name, "/" at the root.
std::string parent_of(const std::string& path) {
  const std::string name = trimmed(path);
  const size_t slash = name.find_last_of("/\\");
  if (slash == std::string::npos) return ".";
  if (slash == 0) return name.substr(0, 1);
  return name.substr(0, slash);
}

// True if `path` is inside `directory` (a child or deeper).
bool under(const std::string& path, const std::string& directory) {
  return path.size() > directory.size() + 1 && path.compare(0, directory.size(), directory) == 0 &&
         separator(path[directory.size()]);
}

// The first path in `paths` inside `directory`, if any (they sort after it
// and before its last possible child: the separator is the next byte).
template <typename Map>
typename Map::const_iterator first_under(const Map& paths, const std::string& directory) {
  for (const char* mark : {"/", "\\"}) {
    auto it = paths.lower_bound(directory + mark);
    if (it != paths.end() && under(it->first, directory)) return it;
  }
  return paths.end();
}

}  // namespace

bool Disk::is_directory(const std::string& path) const {
  if (path == "." || path == "/") return true;
  auto found = paths_.find(path);
  if (found != paths_.end()) return found->second == kEntryDirectory;
  // Implicit: the prefix of a path that exists (the model lets a file be
  // made without its parent, as the simulation always has).
  return first_under(paths_, path) != paths_.end();
}

void Disk::bind_path(const std::string& path, uint32_t value) {
  auto found = paths_.find(path);
  if (found != paths_.end()) {
    if (found->second != kEntryDirectory) files_[found->second].named = false;
    paths_.erase(found);
  }
  if (value == kEntryNone) return;
  if (value != kEntryDirectory) {
    TIGERIO_ASSERT(value < files_.size());
    files_[value].named = true;
  }
  paths_.emplace(path, value);
}

void Disk::journal_ref(uint32_t value, int delta) {
  if (value == kEntryNone || value == kEntryDirectory) return;
  TIGERIO_ASSERT(value < files_.size());
  File& file = files_[value];
  if (delta > 0) {
    file.journal_refs++;
    return;
  }
  TIGERIO_ASSERT(file.journal_refs > 0);
  file.journal_refs--;
  release_if_unreachable(value);
}

void Disk::journal(uint32_t node, NameChange::Rebind* rebinds, size_t count, const std::string& named_path) {
  TIGERIO_ASSERT(count >= 1);
  for (size_t i = 0; i < count; i++) {
    world_.trace().mix(0x4a0 ^ (uint64_t{rebinds[i].path.size()} << 12) ^ rebinds[i].after);
  }
  // With the fault off a crash rolls nothing back: nothing to keep (and a
  // removed file's slot is free at once, as before names were journaled).
  if (world_.faults().crash_lost_name_ppm == 0) return;
  NameChange change;
  change.node = node;
  change.directory = parent_of(named_path);
  for (size_t i = 0; i < count; i++) {
    journal_ref(rebinds[i].before, +1);
    journal_ref(rebinds[i].after, +1);
    change.rebinds.push_back(rebinds[i]);
  }
  journal_.push_back(std::move(change));
}

void Disk::sync_directory(const std::string& directory) {
  // Every change whose name is in it, whichever node made it, is durable now.
  auto durable = [&](const NameChange& change) { return change.directory == directory; };
  for (const NameChange& change : journal_) {
    if (!durable(change)) continue;
    for (const NameChange::Rebind& rebind : change.rebinds) {
      journal_ref(rebind.before, -1);
      journal_ref(rebind.after, -1);
    }
  }
  journal_.erase(std::remove_if(journal_.begin(), journal_.end(), durable), journal_.end());
}

void Disk::crash_names(uint32_t node) {
  const uint32_t lost_ppm = world_.faults().crash_lost_name_ppm;
  // In order: the first change lost loses every later one of the node too.
  bool losing = false;
  std::vector<size_t> lost;
  for (size_t i = 0; i < journal_.size(); i++) {
    if (journal_[i].node != node) continue;
    if (!losing && world_.random().chance(lost_ppm)) losing = true;
    if (losing) lost.push_back(i);
  }
  // Rolled back newest first; a path another node has changed since keeps that node's change.
  for (auto it = lost.rbegin(); it != lost.rend(); ++it) {
    const NameChange& change = journal_[*it];
    bool current = true;
    for (const NameChange::Rebind& rebind : change.rebinds) {
      auto found = paths_.find(rebind.path);
      const uint32_t now = found == paths_.end() ? kEntryNone : found->second;
      if (now != rebind.after) current = false;
    }
    if (!current) continue;
    for (auto back = change.rebinds.rbegin(); back != change.rebinds.rend(); ++back) bind_path(back->path, back->before);
    world_.trace().mix(0xdead ^ (uint64_t{change.rebinds.size()} << 8));
  }
  // What is left of the node's changes is on the disk now, one way or the other.
  std::vector<NameChange> kept;
  for (NameChange& change : journal_) {
    if (change.node == node) {
      for (const NameChange::Rebind& rebind : change.rebinds) {
        journal_ref(rebind.before, -1);
        journal_ref(rebind.after, -1);
      }
    } else {
      kept.push_back(std::move(change));
    }
  }
  journal_ = std::move(kept);
}

int32_t Disk::rename(const char* from_path, const char* to_path, uint32_t flags, uint32_t node) {
  TIGERIO_ASSERT(from_path != nullptr && to_path != nullptr);
  const std::string from = trimmed(from_path);
  const std::string to = trimmed(to_path);
  auto source = paths_.find(from);
  const bool source_directory = source == paths_.end() && is_directory(from);
  if (source == paths_.end() && !source_directory) return kNoEntry;
  const uint32_t moved = source_directory ? kEntryDirectory : source->second;
  auto target = paths_.find(to);
  const bool target_implicit = target == paths_.end() && is_directory(to);
  const uint32_t replaced = target != paths_.end() ? target->second : target_implicit ? kEntryDirectory : kEntryNone;
  if ((flags & kRenameNoReplace) != 0 && replaced != kEntryNone) return kExists;
  if (from == to) return 0;  // rename(2) of a path to itself does nothing
  if (moved == kEntryDirectory) {
    if (under(to, from)) return kInvalid;  // into itself
    if (replaced != kEntryDirectory && replaced != kEntryNone) return kNotDirectory;
    if (replaced == kEntryDirectory && first_under(paths_, to) != paths_.end()) {
      return kNotEmpty;
    }
  } else if (replaced == kEntryDirectory) {
    return kIsDirectory;
  }
  // The moves: the name itself, then (a directory) every path under it.
  std::vector<NameChange::Rebind> rebinds;
  std::vector<std::pair<std::string, uint32_t>> children;
  if (moved == kEntryDirectory) {
    for (const char* mark : {"/", "\\"}) {
      for (auto it = paths_.lower_bound(from + mark); it != paths_.end() && under(it->first, from) &&
                                                      it->first[from.size()] == mark[0];
           ++it) {
        children.emplace_back(it->first, it->second);
      }
    }
  }
  if (source != paths_.end()) rebinds.push_back({from, moved, kEntryNone});
  for (const auto& child : children) rebinds.push_back({child.first, child.second, kEntryNone});
  rebinds.push_back({to, replaced == kEntryDirectory && target_implicit ? kEntryNone : replaced,
                     source != paths_.end() ? moved : kEntryDirectory});
  for (const auto& child : children) {
    const std::string moved_path = to + child.first.substr(from.size());
    rebinds.push_back({moved_path, kEntryNone, child.second});
  }
  for (const NameChange::Rebind& rebind : rebinds) bind_path(rebind.path, rebind.after);
  journal(node, rebinds.data(), rebinds.size(), to);
  return 0;
}

int32_t Disk::unlink_path(const char* path_text, uint32_t node) {
  TIGERIO_ASSERT(path_text != nullptr);
  const std::string path = trimmed(path_text);
  auto found = paths_.find(path);
  if (found == paths_.end()) return is_directory(path) ? kIsDirectory : kNoEntry;
  if (found->second == kEntryDirectory) return kIsDirectory;
  NameChange::Rebind removed{path, found->second, kEntryNone};
  bind_path(path, kEntryNone);
  journal(node, &removed, 1, path);
  return 0;
}

int32_t Disk::mkdir(const char* path_text, uint32_t node) {
  TIGERIO_ASSERT(path_text != nullptr);
  const std::string path = trimmed(path_text);
  if (paths_.count(path) != 0 || is_directory(path)) return kExists;
  NameChange::Rebind made{path, kEntryNone, kEntryDirectory};
  bind_path(path, kEntryDirectory);
  journal(node, &made, 1, path);
  return 0;
}

int32_t Disk::open_directory(const char* path_text, uint32_t node) {
  TIGERIO_ASSERT(path_text != nullptr);
  const std::string path = trimmed(path_text);
  if (!is_directory(path)) return paths_.count(path) != 0 ? kNotDirectory : kNoEntry;
  uint32_t handle_index = 0;
  const int32_t fd = take_handle_fd(node, &handle_index);
  if (fd < 0) return fd;
  Handle& handle = handles_[handle_index];
  handle = Handle{};
  handle.node = node;
  handle.open = true;
  handle.readable = true;
  handle.directory = true;
  handle.path = path;
  return fd;
}

}  // namespace sim
}  // namespace tigerio
