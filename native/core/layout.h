// Numbers shared by the C++ and TypeScript layers. addon.cc exports them as
// `binding.layout`, and io/ reads them from there: this file is the one
// definition.
#pragma once

#include <cstdint>

namespace tigerio {

// An operation id is generation * 2^kSlotBits + slot: unique for 2^32 reuses
// of a slot, below 2^53 so that it is exact in a JS number.
constexpr uint32_t kSlotBits = 20;
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;

// A completion is two int32 words: (kind << kKindShift | slot, result).
// result >= 0 is the operation's value; result < 0 is a libuv-style errno.
constexpr uint32_t kKindShift = 24;
// A value that may not fit in an int32 (fileSize: a size in bytes) travels
// beside the pair: the completion's first word has kCompletionValueFlag set,
// its result word is 0, and the value is the float64 at the same index in
// the `completion values` array (entries float64s shared with JS), exact up
// to 2^53 - 1. Only fileSize sets it; every other completion is the pair alone.
constexpr uint32_t kCompletionValueFlag = 1u << 23;
// Set in a completion's first word (its result is ECANCELED) when the op
// was abandoned: its kernel never answered the cancel (core/loop.h), so the
// kernel may still write into its buffer, which JS must then keep.
constexpr uint32_t kCompletionAbandonedFlag = 1u << 22;

// The state array JS reads without a native call.
constexpr uint32_t kStateInflight = 0;     // submitted, not yet harvested into completions
constexpr uint32_t kStateUndelivered = 1;  // written by JS: harvested but not yet dispatched
// The completions the last poll() or pollUntil() wrote (its result, with no
// JS number made); -1 after a pollUntil() that found its deadline passed
// (nothing started waiting, nothing harvested).
constexpr uint32_t kStateHarvested = 2;
constexpr uint32_t kStateLength = 3;

// The submission queue: JS writes each operation as one record into an
// ArrayBuffer the addon reads at the next flush (the poll of a tick, or a
// flush of its own), so submitting makes no native call. A record is
// kSubmitRecordWords int32 words: kind, slot, fd, a small integer argument
// (port, open flags), the buffer's registration id and its length in
// bytes, then two float64s at words 6-7 and 8-9: A (position, a timeout's
// delay, an event handle, open's mode) and B (the buffer's byte offset in
// its ArrayBuffer, a timeout's deadline). Hosts and paths stay in JS, in
// the `sides` array by slot, with the buffers (kept reachable there).
constexpr uint32_t kSubmitRecordWords = 10;
constexpr uint32_t kSubmitKind = 0;
constexpr uint32_t kSubmitSlot = 1;
constexpr uint32_t kSubmitFd = 2;
constexpr uint32_t kSubmitInteger = 3;
constexpr uint32_t kSubmitBuffer = 4;  // a registered ArrayBuffer's id, or -1: look the view up in `sides`
constexpr uint32_t kSubmitLength = 5;
// A bit io/ sets in a record's kind word when the op is cancelled while
// still in the queue: the flush completes it with ECANCELED, and it never
// reaches the backend.
constexpr uint32_t kSubmitKindCanceled = 1u << 8;
// A record of this kind is no operation: pool.release() gives a buffer back
// through the queue (no native call per buffer), in order with the
// operations around it. Integer: the pool's id; length: the buffer's index.
// It takes no slot; io/ checked that the caller holds the buffer.
constexpr uint32_t kSubmitPoolRelease = kSubmitKindCanceled - 1;
constexpr uint32_t kSubmitNumberA = 3;  // float64 index within the record (words 6-7)
constexpr uint32_t kSubmitNumberB = 4;  // float64 index within the record (words 8-9)
// Records in the queue: a full queue is flushed at the call that fills it.
constexpr uint32_t kSubmitQueueRecords = 1024;
// ArrayBuffers an IO knows by id at once (io/ registers each the first time
// an operation uses it, and forgets it when it is collected).
constexpr uint32_t kBuffersRegisteredMax = 1u << 20;
// Ids handed to JS are small integers (no allocation to return one):
// generation (kIdGenerationBits, wrapping) << kSlotBits | slot.
constexpr uint32_t kIdGenerationBits = 10;
static_assert(kSlotBits + kIdGenerationBits <= 30, "operation ids are V8 small integers");
static_assert(kSubmitRecordWords % 2 == 0 && kSubmitNumberB * 2 + 1 < kSubmitRecordWords, "float64s aligned in a record");
static_assert(kSubmitNumberA * 2 > kSubmitLength, "the float64s follow the int32 fields");

// Bits of open()'s flags, mapped to each OS's own by its backend.
constexpr uint32_t kOpenRead = 1u << 0;
constexpr uint32_t kOpenWrite = 1u << 1;
constexpr uint32_t kOpenCreate = 1u << 2;
constexpr uint32_t kOpenTruncate = 1u << 3;
constexpr uint32_t kOpenAppend = 1u << 4;
constexpr uint32_t kOpenExclusive = 1u << 5;
// open(path, flags, { direct: true }): O_DIRECT (Linux, FreeBSD), F_NOCACHE
// (macOS), FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH (Windows). Every
// read and write on such an fd must have its buffer's address, its length and
// its position (when given) a multiple of kDirectAlignmentBytes, or it fails
// with EINVAL before the kernel sees it (the core checks, the same on every OS).
constexpr uint32_t kOpenDirect = 1u << 6;
// The alignment direct I/O asks for: the largest logical block size of the
// devices in common use (4Kn disks; 512e and 512n disks need less), and the
// page size, so it satisfies Linux's O_DIRECT and Windows' NO_BUFFERING
// rules on them. TigerBeetle's sector_size is the same.
constexpr uint32_t kDirectAlignmentBytes = 4096;
// File offsets and lengths (positions, truncate, allocate): exact in a JS number.
constexpr double kFileBytesMax = 9007199254740991.0;

// The address object of recvFrom (io.addressBuffer()): the sender of a
// datagram, written by the backend in one OS-neutral layout so that io/
// decodes it without knowing any sockaddr. Byte 0: family (4, 6; 0 before
// any datagram); bytes 2-3: port, big-endian; bytes 4-7: IPv6 scope id,
// little-endian; bytes 8-23: the address (IPv4: bytes 8-11).
constexpr uint32_t kAddressBytes = 24;
constexpr uint32_t kAddressFamily = 0;
constexpr uint32_t kAddressPort = 2;
constexpr uint32_t kAddressScope = 4;
constexpr uint32_t kAddressIp = 8;
// The largest UDP payload one datagram carries: 65535 less the IP and UDP
// headers (IPv4 20 + 8; IPv6's header is not counted in its payload length, so 65535 - 8).
constexpr uint32_t kDatagramIpv4Max = 65507;
constexpr uint32_t kDatagramIpv6Max = 65527;

// Every limit of an IO: the range of each option and its default. io/
// reads these from binding.layout; nothing repeats them.
constexpr uint32_t kEntriesMax = 4096;
constexpr uint32_t kEntriesDefault = 256;
// Slots hold the ops in flight plus one harvested batch whose callbacks are
// running (see Loop::acquire), all within the slot space.
constexpr uint32_t kOperationsMaxLimit = (1u << kSlotBits) - kEntriesMax;
constexpr uint32_t kOperationsMaxDefault = 65536;
// Linux's MAX_RW_COUNT: the most one read/write/send/recv moves anyway.
constexpr uint32_t kBufferSizeMaxLimit = 0x7ffff000;
constexpr uint32_t kBufferSizeMaxDefault = kBufferSizeMaxLimit;
// The fd table (core/fd_table.h): fd numbers (handle values / 4 on
// Windows) below fdsMax can carry operations. Entries are 32 bytes (48 on
// Windows) of zeroed virtual memory, touched only when used.
constexpr uint32_t kFdsMaxLimit = 1u << 24;
constexpr uint32_t kFdsMaxDefault = 1u << 16;
constexpr uint32_t kEventsPerIOMax = 64;
// processExit's result (a non-negative int32): the exit code (0-255), or
// kExitSignaled | the number of the signal that killed the process, or
// kExitUnknown: it exited, and its status was reaped by someone else first.
constexpr int32_t kExitSignaled = 1 << 8;
constexpr int32_t kExitUnknown = 1 << 9;
// An exit code beyond 255 (Windows) is the completion's value (see
// kCompletionValueFlag): this plus the code, exact in a float64.
constexpr double kExitCodeWide = 4294967296.0;
// Buffer pools (recvPooled): pools per IO, buffers per pool (a buffer id is
// 16 bits in io_uring's provided-buffer rings, and a ring's size a power of
// two up to 32768).
constexpr uint32_t kPoolsPerIOMax = 64;
constexpr uint32_t kPoolBuffersMax = 1u << 15;
// A recvPooled's completion value (completion values, beside its result):
// pool id * kPoolBuffersMax + the index of the buffer that holds its bytes
// (0 when it has none: a result <= 0). io/ finds the pool there, so it keeps
// nothing per pending recvPooled beyond its callback.
static_assert(kPoolsPerIOMax * kPoolBuffersMax <= (1u << 30), "a pooled completion value is a small integer");
// Timeouts: exact in a JS number (about 104 days).
constexpr double kTimeoutNsMax = 9007199254740991.0;

static_assert(kEntriesDefault >= 1 && kEntriesDefault <= kEntriesMax, "default entries in range");
static_assert(kOperationsMaxDefault <= kOperationsMaxLimit, "default operationsMax in range");
static_assert(kOperationsMaxLimit + kEntriesMax <= (1u << kSlotBits), "in-flight ops and one batch fit the slot space");
static_assert(kFdsMaxDefault <= kFdsMaxLimit, "default fdsMax in range");
static_assert(kKindShift >= kSlotBits, "a completion's kind bits sit above its slot bits");
static_assert(kCompletionValueFlag >= (1u << kSlotBits) && kCompletionValueFlag < (1u << kKindShift),
              "the value flag sits between a completion's slot and kind bits");
static_assert(kCompletionAbandonedFlag >= (1u << kSlotBits) && kCompletionAbandonedFlag < (1u << kKindShift) &&
                  kCompletionAbandonedFlag != kCompletionValueFlag,
              "the abandoned flag sits between a completion's slot and kind bits, apart from the value flag");
static_assert((kDirectAlignmentBytes & (kDirectAlignmentBytes - 1)) == 0, "the direct alignment is a power of two");
static_assert(kBufferSizeMaxLimit % kDirectAlignmentBytes == 0, "the largest transfer is a whole number of direct blocks");
static_assert(kEventsPerIOMax >= 1, "an IO has events");

}  // namespace tigerio
