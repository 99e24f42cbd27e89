// The simulated disk of a world: files by path, sparse pages of bytes, and
// per 512-byte sector the last synced content, so that a crash can lose or
// tear what was written since (TigerBeetle's storage simulator does the
// same per sector). A file's sync point is the close of an fd that wrote
// to it (the API has no fsync): what was written before a successful close
// survives any crash.
//
// The namespace (sim_names.cc) has the same kind of model: a file created,
// renamed or unlinked, or a directory made, is journaled until its
// directory is synced (fsync of an fd from openDirectory); a crash rolls
// back a seeded suffix of the node's journaled changes (Faults::
// crash_lost_name_ppm). Directories are implicit as well as made: a path's
// parent need not exist, and openDirectory of a prefix of any path works.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../core/operation.h"

namespace tigerio {
namespace sim {

class World;

constexpr uint32_t kPageBytes = 4096;
constexpr uint32_t kSectorBytes = 512;
constexpr uint32_t kSectorsPerPage = kPageBytes / kSectorBytes;
constexpr uint64_t kDiskBytesMax = uint64_t{1} << 30;  // pages held by one world: past it, writes get ENOSPC
constexpr uint32_t kHandlesMax = 1u << 16;
// Files and socket paths one world holds at once (an inode table): past it,
// creating one gets ENOSPC. A file's slot is reused once nothing can reach
// it (no name, no open fd).
constexpr uint32_t kFilesMax = 1u << 16;
static_assert(kSectorsPerPage <= 8, "a page's dirty sectors fit in one byte");

struct Page {
  uint8_t data[kPageBytes];
  uint8_t durable[kPageBytes];  // valid for the dirty sectors: their content at the last sync
  uint8_t dirty;                // bit per sector written since the last sync
};

struct File {
  // A path names it (unlink takes the name away).
  bool named = false;
  // Open handles on it: its bytes stay reachable while any is open.
  uint32_t open_handles = 0;
  // A Unix socket bound at this path (listenUnix): no bytes, only the
  // listener it names, which may be gone (a stale socket file).
  bool socket = false;
  uint32_t socket_index = 0;
  uint64_t socket_generation = 0;
  uint64_t length = 0;
  uint64_t durable_length = 0;
  uint64_t dirty_nodes = 0;  // bit per node that wrote since the last sync
  // Journaled namespace changes that name it: it must outlive them, since
  // a crash may roll one back and give it its name again.
  uint32_t journal_refs = 0;
  std::map<uint64_t, std::unique_ptr<Page>> pages;
};

struct Handle {
  uint32_t file = 0;
  uint32_t node = 0;
  int64_t position = 0;
  bool open = false, readable = false, writable = false, append = false, wrote = false;
  bool directory = false;  // from openDirectory: `path` is the directory, `file` unused
  std::string path;
};

// What a path names in Disk::paths_: a file's index, or one of these.
constexpr uint32_t kEntryDirectory = 0xffffffffu;
constexpr uint32_t kEntryNone = 0xfffffffeu;  // only in journal records: the path named nothing

// One namespace change not yet durable: what each path it touched named
// before and after (a rename of a directory moves every path under it).
struct NameChange {
  struct Rebind {
    std::string path;
    uint32_t before;
    uint32_t after;
  };
  uint32_t node;
  std::string directory;  // the directory whose sync makes it durable: the new name's
  std::vector<Rebind> rebinds;
};

class Disk {
 public:
  explicit Disk(World& world) : world_(world) {}

  int32_t open(const char* path, uint32_t flags, uint32_t node);  // an fd, or a negative errno
  int32_t read(uint32_t handle, FileTransferArgs& args);
  int32_t write(uint32_t handle, FileTransferArgs& args);
  int32_t close(uint32_t handle);
  // fsync/fdatasync: the file's writes become durable (or, with the sync
  // fault, EIO and they stay un-synced, as a failed fsync leaves them).
  int32_t sync_handle(uint32_t handle);
  int64_t size(uint32_t handle);  // bytes, or a negative errno
  int32_t truncate(uint32_t handle, int64_t length_bytes);
  int32_t allocate(uint32_t handle, int64_t offset_bytes, int64_t length_bytes);
  void crash(uint32_t node);

  // The namespace operations (sim_names.cc): 0 or a negative errno, as the
  // syscalls say (EEXIST, ENOENT, ENOTEMPTY, EISDIR, ENOTDIR, EINVAL).
  int32_t rename(const char* from, const char* to, uint32_t flags, uint32_t node);
  int32_t unlink_path(const char* path, uint32_t node);
  int32_t mkdir(const char* path, uint32_t node);
  int32_t open_directory(const char* path, uint32_t node);  // an fd, or a negative errno
  bool is_directory_handle(uint32_t handle) const { return handles_[handle].directory; }

  // The world's one file namespace, which Unix socket paths share with files
  // (as on POSIX): a path names a file or a socket.
  bool exists(const std::string& path) const { return paths_.count(path) != 0; }
  // Removes the name (open fds keep the file, as unlink(2) leaves them); false if there was none.
  bool unlink(const std::string& path);
  // Binds a socket at `path`: 0, or kAddressInUse if anything is there (a stale socket too).
  int32_t bind_socket(const std::string& path, uint32_t socket_index, uint64_t generation);
  // The socket bound at `path`: 0 with its index and generation, kNoEntry,
  // or kConnectionRefused for a file that is not a socket (as connect(2) says).
  int32_t find_socket(const std::string& path, uint32_t* socket_index, uint64_t* generation) const;
  // Removes `path` if it still names that socket (an IO removing its listener's path at close).
  void unlink_socket(const std::string& path, uint32_t socket_index, uint64_t generation);

 private:
  void sync(File& file);
  Page& page(File& file, uint64_t index);
  // A fresh, named File slot (a freed one first): false when kFilesMax are in use.
  bool take_file(uint32_t* file_index);
  // An fd of node `node` for a new handle (its index in *handle_index, the
  // handle itself for the caller to fill), or a negative errno with nothing taken.
  int32_t take_handle_fd(uint32_t node, uint32_t* handle_index);
  // Frees the file's slot and pages once no name and no open handle reach it.
  void release_if_unreachable(uint32_t file_index);
  // sim_names.cc: points `path` at `value` (kEntryNone: removes it), keeping files' `named` true.
  void bind_path(const std::string& path, uint32_t value);
  void journal(uint32_t node, NameChange::Rebind* rebinds, size_t count, const std::string& directory);
  void journal_ref(uint32_t value, int delta);
  // A directory fd's fsync: its journaled changes become durable.
  void sync_directory(const std::string& directory);
  void crash_names(uint32_t node);
  bool is_directory(const std::string& path) const;

  World& world_;
  std::map<std::string, uint32_t> paths_;
  std::vector<File> files_;
  std::vector<uint32_t> free_files_;
  std::vector<Handle> handles_;
  std::vector<uint32_t> free_handles_;
  std::vector<NameChange> journal_;  // in the order they were made
  uint64_t pages_bytes_ = 0;
};

}  // namespace sim
}  // namespace tigerio
