// The file namespace on Windows: rename, unlink, mkdir, openDirectory and a
// directory's fsync. Each is a blocking call the IOCP backend runs on its
// thread pool; errors are told apart so that their codes match POSIX's.
#include "../core/assert.h"
#include "../core/errors.h"
#include "../core/operation.h"
#include "win32_files.h"

namespace tigerio {
namespace win32 {

namespace {

// INVALID_FILE_ATTRIBUTES when the path names nothing.
DWORD attributes_of(const wchar_t* path) { return ::GetFileAttributesW(path); }

bool names_directory(DWORD attributes) {
  return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
}

bool directory_empty(const std::vector<wchar_t>& directory) {
  std::vector<wchar_t> pattern(directory.begin(), directory.end() - 1);  // without the NUL
  pattern.push_back(L'\\');
  pattern.push_back(L'*');
  pattern.push_back(0);
  WIN32_FIND_DATAW found;
  const HANDLE search = ::FindFirstFileW(pattern.data(), &found);
  if (search == INVALID_HANDLE_VALUE) return true;
  bool empty = true;
  do {
    const wchar_t* name = found.cFileName;
    if (!(name[0] == L'.' && (name[1] == 0 || (name[1] == L'.' && name[2] == 0)))) empty = false;
  } while (empty && ::FindNextFileW(search, &found));
  ::FindClose(search);
  return empty;
}

}  // namespace

bool wide_path(const char* path, std::vector<wchar_t>* wide) {
  TIGERIO_ASSERT(path != nullptr && wide != nullptr);
  const int size = ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, nullptr, 0);
  if (size <= 0) return false;
  wide->assign(static_cast<size_t>(size), 0);
  return ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide->data(), size) == size;
}

int32_t rename(const char* from, const char* to, uint32_t flags) {
  std::vector<wchar_t> source, target;
  if (!wide_path(from, &source) || !wide_path(to, &target)) return kErrInvalid;
  const bool replace = (flags & kRenameNoReplace) == 0;
  const DWORD move_flags = MOVEFILE_WRITE_THROUGH | (replace ? MOVEFILE_REPLACE_EXISTING : 0);
  // A file over a directory or a directory over a file: POSIX refuses both
  // (EISDIR, ENOTDIR); Windows says "access denied", and Wine even lets a
  // directory replace a file. Told apart before the move.
  const DWORD source_attributes = attributes_of(source.data());
  const DWORD target_attributes = attributes_of(target.data());
  const bool both_exist = source_attributes != INVALID_FILE_ATTRIBUTES && target_attributes != INVALID_FILE_ATTRIBUTES;
  if (both_exist && replace) {
    if (!names_directory(source_attributes) && names_directory(target_attributes)) return kErrIsDirectory;
    if (names_directory(source_attributes) && !names_directory(target_attributes)) return kErrNotDirectory;
  }
  if (::MoveFileExW(source.data(), target.data(), move_flags)) return 0;
  const DWORD error = ::GetLastError();
  if (error != ERROR_ACCESS_DENIED) return map_error(error);
  if (both_exist) {
    if (names_directory(source_attributes) && names_directory(target_attributes)) {
      if (!directory_empty(target)) return kErrNotEmpty;
      // POSIX replaces an empty directory; MoveFileEx will not. Remove it, then move.
      if (replace && ::RemoveDirectoryW(target.data()) && ::MoveFileExW(source.data(), target.data(), move_flags)) {
        return 0;
      }
      return last_error();
    }
  }
  return map_error(error);
}

int32_t unlink(const char* path) {
  std::vector<wchar_t> wide;
  if (!wide_path(path, &wide)) return kErrInvalid;
  if (::DeleteFileW(wide.data())) return 0;
  const DWORD error = ::GetLastError();
  if (error == ERROR_ACCESS_DENIED && names_directory(attributes_of(wide.data()))) return kErrIsDirectory;
  return map_error(error);
}

int32_t mkdir(const char* path) {
  std::vector<wchar_t> wide;
  if (!wide_path(path, &wide)) return kErrInvalid;
  if (::CreateDirectoryW(wide.data(), nullptr)) return 0;
  return last_error();
}

int64_t open_directory(const char* path) {
  std::vector<wchar_t> wide;
  if (!wide_path(path, &wide)) return kErrInvalid;
  const DWORD attributes = attributes_of(wide.data());
  if (attributes != INVALID_FILE_ATTRIBUTES && !names_directory(attributes)) return kErrNotDirectory;
  // FILE_FLAG_BACKUP_SEMANTICS: the only way CreateFile opens a directory.
  // Overlapped, as every handle of this IO (a read on it then fails as on POSIX).
  const HANDLE handle =
      ::CreateFileW(wide.data(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                    OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OVERLAPPED, nullptr);
  if (handle == INVALID_HANDLE_VALUE) return last_error();
  int32_t fd = -1;
  if (!to_fd(reinterpret_cast<uintptr_t>(handle), &fd) || (fd & 3) != 0) {
    ::CloseHandle(handle);
    return kErrTooManyFiles;
  }
  if (!is_directory(fd)) {
    ::CloseHandle(handle);  // replaced by a file between the check and the open
    return kErrNotDirectory;
  }
  return fd;
}

bool is_directory(int32_t fd) {
  BY_HANDLE_FILE_INFORMATION information;
  if (!::GetFileInformationByHandle(as_handle(fd), &information)) return false;
  return (information.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
}

int32_t directory_sync(int32_t fd) {
  if (::FlushFileBuffers(as_handle(fd))) return 0;
  const DWORD error = ::GetLastError();
  if (error == ERROR_ACCESS_DENIED || error == ERROR_INVALID_FUNCTION || error == ERROR_INVALID_PARAMETER) return 0;
  return map_error(error);
}

}  // namespace win32
}  // namespace tigerio
