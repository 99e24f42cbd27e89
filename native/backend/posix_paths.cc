// The file namespace on POSIX (rename, unlink, mkdir, openDirectory), and
// the one place that maps a file or path op to its blocking syscall, for
// the readiness backends' thread pool and io_uring's fallbacks.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif
#if defined(__APPLE__)
#include <stdio.h>  // renamex_np
#endif

#include <cerrno>
#include <cstdio>

#include "../core/assert.h"
#include "../core/errors.h"
#include "posix.h"

namespace tigerio {
namespace posix {

namespace {

// The `flags` of renameat2(2) that refuses to replace (linux/fs.h's value:
// older glibc headers do not name it).
constexpr unsigned kLinuxRenameNoReplace = 1u << 0;

}  // namespace

int32_t rename(const char* from, const char* to, uint32_t flags) {
  TIGERIO_ASSERT(from != nullptr && to != nullptr);
  TIGERIO_ASSERT((flags & ~kRenameNoReplace) == 0);
  if ((flags & kRenameNoReplace) != 0) {
#if defined(__linux__) && defined(SYS_renameat2)
    // Through syscall(2): glibc names renameat2 only from 2.28.
    if (::syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, kLinuxRenameNoReplace) == 0) return 0;
    return -errno;  // EINVAL where the file system has no RENAME_NOREPLACE
#elif defined(__APPLE__)
    if (::renamex_np(from, to, RENAME_EXCL) == 0) return 0;
    return -errno;
#else
    return kErrNotSupported;
#endif
  }
  if (::rename(from, to) == 0) return 0;
  return -errno;
}

int32_t unlink(const char* path) {
  TIGERIO_ASSERT(path != nullptr);
  if (::unlink(path) == 0) return 0;
  const int error = errno;
#if !defined(__linux__)
  // POSIX lets unlink(2) of a directory say EPERM (macOS, the BSDs do);
  // Linux says EISDIR, and so does every backend here.
  struct stat status;
  if (error == EPERM && ::lstat(path, &status) == 0 && S_ISDIR(status.st_mode)) return -EISDIR;
#endif
  return -error;
}

int32_t mkdir(const char* path, uint32_t mode) {
  TIGERIO_ASSERT(path != nullptr && mode <= 07777);
  if (::mkdir(path, static_cast<mode_t>(mode)) == 0) return 0;
  return -errno;
}

int32_t open_directory(const char* path) {
  TIGERIO_ASSERT(path != nullptr);
  for (;;) {
    const int fd = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno != EINTR) return -errno;
  }
}

int64_t run_file_op(const Op& op) {
  switch (op.kind) {
    case OpKind::open:
      return open(op.args.open.path, op.args.open.flags, op.args.open.mode);
    case OpKind::read:
      return read(op.fd, op.args.read.buffer, op.args.read.length, op.args.read.position);
    case OpKind::write:
      return write(op.fd, op.args.write.buffer, op.args.write.length, op.args.write.position);
    case OpKind::fsync:
    case OpKind::fdatasync:
      return fsync(op.fd, op.kind == OpKind::fdatasync);
    case OpKind::file_size:
      return file_size(op.fd);
    case OpKind::truncate:
      return truncate(op.fd, op.args.truncate.length_bytes);
    case OpKind::allocate:
      return allocate(op.fd, op.args.allocate.offset_bytes, op.args.allocate.length_bytes);
    case OpKind::rename:
      return rename(op.args.path.path, op.args.path.target, op.args.path.flags);
    case OpKind::unlink:
      return unlink(op.args.path.path);
    case OpKind::mkdir:
      return mkdir(op.args.path.path, op.args.path.mode);
    case OpKind::open_directory:
      return open_directory(op.args.path.path);
    default:
      break;
  }
  TIGERIO_ASSERT(false && "not a file or path operation");
  return kErrInvalid;
}

}  // namespace posix
}  // namespace tigerio
