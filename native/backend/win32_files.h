// The file operations of issue 13 on Windows, as synchronous calls on a
// file HANDLE (the fd is the handle's value, see win32.h). Each returns 0
// (or a size) or a negative libuv-style errno from win32::map_error, so the
// same condition has the same `code` as on Linux. The IOCP backend runs them
// at issue, as the readiness backends run the POSIX ones: Windows has no
// overlapped flush, size query, truncate or allocation.
#pragma once

#include <cstdint>
#include <vector>

#include "win32.h"

namespace tigerio {
namespace win32 {

// fsync and fdatasync: FlushFileBuffers, which writes the file's data and
// metadata through the OS cache and asks the device to flush its own cache
// (Windows has no data-only flush). Needs a handle opened for writing:
// otherwise EACCES (ERROR_ACCESS_DENIED), unlike POSIX.
int32_t file_sync(int32_t fd);

// The file's size in bytes (GetFileSizeEx), or a negative errno.
int64_t file_size(int32_t fd);

// Sets the end of file to length_bytes (SetFileInformationByHandle,
// FileEndOfFileInfo): shorter drops the tail, longer reads as zeros.
int32_t file_truncate(int32_t fd, int64_t length_bytes);

// allocate: the nearest honest equivalent of posix_fallocate. NTFS reserves
// clusters up to offset + length (FileAllocationInfo, only ever growing it:
// a smaller allocation size would cut the file), then the end of file moves
// up to offset + length (FileEndOfFileInfo) if it was before it, so the size
// matches POSIX's and the clusters stay the file's after the handle closes
// (NTFS frees an allocation beyond the end of file at the last close). The
// clusters are not zeroed at once: NTFS reads them as zeros and writes
// zeros up to a later write's offset (its valid data length) when that
// write comes. SetFileValidData, which would skip that, needs a privilege
// and exposes the disk's old contents: not used. A sparse file's holes are
// not filled. ENOSPC when the volume lacks the room. Where the file system
// does not implement FileAllocationInfo (ERROR_CALL_NOT_IMPLEMENTED,
// ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED: Wine, some redirectors),
// only the end of file moves: on NTFS and ReFS that allocates the clusters
// of a non-sparse file anyway (what tigerio opens); under Wine it is the
// host's ftruncate, which leaves a hole.

int32_t file_allocate(int32_t fd, int64_t offset_bytes, int64_t length_bytes);

// The CreateFileW flags that open()'s layout.h bits add to
// FILE_FLAG_OVERLAPPED: kOpenDirect is FILE_FLAG_NO_BUFFERING (no cache;
// sector-aligned buffers, lengths and offsets, which the core checks against
// kDirectAlignmentBytes) | FILE_FLAG_WRITE_THROUGH (a write completes once
// it is on the device, not in its cache).
DWORD file_open_flags(uint32_t open_flags);

// ---- The file namespace (win32_paths.cc) ----
// UTF-8 to UTF-16 for the W calls: false for a path that is not UTF-8.
bool wide_path(const char* path, std::vector<wchar_t>* wide);
// MoveFileExW with MOVEFILE_WRITE_THROUGH (it returns once the move is on
// the disk: Windows has no directory sync to make it durable later), and
// MOVEFILE_REPLACE_EXISTING unless kRenameNoReplace. ERROR_ACCESS_DENIED
// on a directory is told apart as POSIX does: EISDIR, ENOTDIR, ENOTEMPTY.
int32_t rename(const char* from, const char* to, uint32_t flags);
// DeleteFileW; EISDIR for a directory, as on Linux.
int32_t unlink(const char* path);
int32_t mkdir(const char* path);
// A directory's handle (CreateFileW with FILE_FLAG_BACKUP_SEMANTICS, as
// open's), or a negative errno (ENOTDIR for a file). Its value is the fd.
int64_t open_directory(const char* path);
// fsync of a directory's handle: FlushFileBuffers, where the file system
// takes it on a directory; where it refuses (NTFS wants write access, which
// a directory handle opened for reading lacks), 0: every namespace change
// was already made durable by the call that made it or by NTFS's own log
// (see the README's "What each OS really guarantees").
int32_t directory_sync(int32_t fd);
// True if the handle is a directory's.
bool is_directory(int32_t fd);

}  // namespace win32
}  // namespace tigerio
