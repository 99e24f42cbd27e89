// Error numbers in libuv's convention: negative, equal to -errno on POSIX
// (libuv's own fixed numbers on Windows), so that JS names them with
// util.getSystemErrorName() and the same condition gets the same name on
// every OS. The core declares the few it produces itself; the backend layer
// defines them in its OS's numbering (backend/posix.cc, backend/win32.cc).
#pragma once

#include <cstdint>

namespace tigerio {

extern const int32_t kErrCanceled;      // ECANCELED
extern const int32_t kErrAgain;         // EAGAIN
extern const int32_t kErrBadFd;         // EBADF
extern const int32_t kErrInvalid;       // EINVAL
extern const int32_t kErrNoMemory;      // ENOMEM
extern const int32_t kErrNotSupported;  // ENOTSUP
extern const int32_t kErrTooManyFiles;  // EMFILE
extern const int32_t kErrBusy;          // EBUSY

}  // namespace tigerio
