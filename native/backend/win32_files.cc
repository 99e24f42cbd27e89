#include "win32_files.h"

#include "../core/assert.h"
#include "../core/layout.h"

namespace tigerio {
namespace win32 {

int32_t file_sync(int32_t fd) {
  TIGERIO_ASSERT(fd >= 0);
  if (!::FlushFileBuffers(as_handle(fd))) return last_error();
  return 0;
}

int64_t file_size(int32_t fd) {
  TIGERIO_ASSERT(fd >= 0);
  LARGE_INTEGER size;
  if (!::GetFileSizeEx(as_handle(fd), &size)) return last_error();
  TIGERIO_ASSERT(size.QuadPart >= 0);
  return static_cast<int64_t>(size.QuadPart);
}

int32_t file_truncate(int32_t fd, int64_t length_bytes) {
  TIGERIO_ASSERT(fd >= 0);
  TIGERIO_ASSERT(length_bytes >= 0 && static_cast<double>(length_bytes) <= kFileBytesMax);
  FILE_END_OF_FILE_INFO end;
  end.EndOfFile.QuadPart = length_bytes;
  if (!::SetFileInformationByHandle(as_handle(fd), FileEndOfFileInfo, &end, sizeof(end))) return last_error();
  return 0;
}

int32_t file_allocate(int32_t fd, int64_t offset_bytes, int64_t length_bytes) {
  TIGERIO_ASSERT(fd >= 0);
  TIGERIO_ASSERT(offset_bytes >= 0 && length_bytes >= 1);
  TIGERIO_ASSERT(static_cast<double>(offset_bytes) + static_cast<double>(length_bytes) <= kFileBytesMax);
  const HANDLE handle = as_handle(fd);
  const int64_t end_bytes = offset_bytes + length_bytes;
  FILE_STANDARD_INFO standard;
  if (!::GetFileInformationByHandleEx(handle, FileStandardInfo, &standard, sizeof(standard))) return last_error();
  if (end_bytes > standard.AllocationSize.QuadPart) {
    FILE_ALLOCATION_INFO allocation;
    allocation.AllocationSize.QuadPart = end_bytes;
    if (!::SetFileInformationByHandle(handle, FileAllocationInfo, &allocation, sizeof(allocation))) {
      const DWORD error = ::GetLastError();
      // A file system (or Wine) without FileAllocationInfo: moving the end
      // of file below is then the allocation (see win32_files.h). Anything
      // else, ERROR_DISK_FULL first, is the answer.
      if (error != ERROR_CALL_NOT_IMPLEMENTED && error != ERROR_INVALID_FUNCTION && error != ERROR_NOT_SUPPORTED) {
        return map_error(error);
      }
    }
  }
  if (end_bytes > standard.EndOfFile.QuadPart) {
    FILE_END_OF_FILE_INFO end;
    end.EndOfFile.QuadPart = end_bytes;
    if (!::SetFileInformationByHandle(handle, FileEndOfFileInfo, &end, sizeof(end))) return last_error();
  }
  return 0;
}

DWORD file_open_flags(uint32_t open_flags) {
  TIGERIO_ASSERT((open_flags & ~(kOpenRead | kOpenWrite | kOpenCreate | kOpenTruncate | kOpenAppend | kOpenExclusive |
                                 kOpenDirect)) == 0);
  const DWORD flags = (open_flags & kOpenDirect) != 0 ? FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH : 0;
  TIGERIO_ASSERT((flags & FILE_FLAG_OVERLAPPED) == 0);
  return flags;
}

}  // namespace win32
}  // namespace tigerio
