// One submitted operation: the record a slot holds from submission until JS
// has dispatched its completion. Its arguments are a union with one struct
// per kind (TigerBeetle's Completion.operation), read only through the
// member that matches `kind`. Backends keep what they need in `scratch`
// (io_uring's SQ index, IOCP's OVERLAPPED), so that no operation allocates.
// Every pending operation holds one (an idle connection's receive too), so
// its size is counted: see the static_asserts under it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "assert.h"
#include "layout.h"
#include "platform.h"

namespace tigerio {

enum class OpKind : uint8_t {
  accept,
  connect,
  recv,
  send,
  timeout,
  close,
  open,
  read,
  write,
  event_listen,
  fsync,
  fdatasync,
  file_size,
  truncate,
  allocate,
  // Datagrams, local sockets, sendfile (appended: kinds keep their numbers).
  send_to,
  recv_from,
  connect_unix,
  send_file,
  // The file namespace (appended): no fd of their own; open_directory makes one.
  rename,
  unlink,
  mkdir,
  open_directory,
  // Signals and process exits (appended).
  signal,
  process_exit,
  // A receive into a buffer of a pool, chosen when data arrives (core/buffer_pools.h).
  recv_pooled,
  count,
};

// What IOError.syscall says for each kind (exported to JS as layout.operationNames).
inline const char* op_kind_name(OpKind kind) {
  static const char* const names[] = {"accept",    "connect",  "recv",     "send",     "timeout",
                                      "close",     "open",     "read",     "write",    "eventListen",
                                      "fsync",     "fdatasync", "fileSize", "truncate", "allocate",
                                      "sendTo",    "recvFrom", "connectUnix", "sendFile", "rename",   "unlink",
                                      "mkdir",     "openDirectory", "signal", "processExit", "recvPooled"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<size_t>(OpKind::count), "a name per kind");
  TIGERIO_ASSERT(kind < OpKind::count);
  return names[static_cast<size_t>(kind)];
}

// The fd queue an op waits in (see fd_table.h): accept, recv and every file
// operation (read, write, fsync, fdatasync, fileSize, truncate, allocate)
// share one FIFO (a file's operations run one at a time in submission order,
// as synchronous calls would: an fsync covers the writes before it, a
// fileSize sees them; a socket's receiving side, recvFrom included), connect,
// send, sendTo, connectUnix and sendFile the other.
enum class Direction : uint8_t { in = 0, out = 1, none = 2 };

inline Direction op_direction(OpKind kind) {
  switch (kind) {
    case OpKind::accept:
    case OpKind::recv:
    case OpKind::read:
    case OpKind::write:
    case OpKind::fsync:
    case OpKind::fdatasync:
    case OpKind::file_size:
    case OpKind::truncate:
    case OpKind::allocate:
    case OpKind::recv_from:
    case OpKind::recv_pooled:
      return Direction::in;
    case OpKind::connect:
    case OpKind::send:
    case OpKind::send_to:
    case OpKind::connect_unix:
    case OpKind::send_file:
      return Direction::out;
    default:
      return Direction::none;
  }
}

// The namespace operations and open: they take paths, not an fd, so they
// wait in no fd queue (the loop's loose list) and run when issued.
inline bool op_is_path_op(OpKind kind) {
  switch (kind) {
    case OpKind::open:
    case OpKind::rename:
    case OpKind::unlink:
    case OpKind::mkdir:
    case OpKind::open_directory:
      return true;
    default:
      return false;
  }
}

// The operations whose arguments name a path (OpTable::path_storage owns it).
inline bool op_takes_path(OpKind kind) { return op_is_path_op(kind) || kind == OpKind::connect_unix; }

// The operations with no fd queue of their own (path ops and process
// exits): the core keeps them on its loose list while the backend has them.
inline bool op_is_loose(OpKind kind) { return op_is_path_op(kind) || kind == OpKind::process_exit; }

// The socket operations: issued as the head of one of the fd's queues, to
// the backend's socket path (readiness, an SQE, an overlapped call, the
// simulated network).
inline bool op_is_socket_op(OpKind kind) {
  switch (kind) {
    case OpKind::accept:
    case OpKind::connect:
    case OpKind::recv:
    case OpKind::send:
    case OpKind::send_to:
    case OpKind::recv_from:
    case OpKind::connect_unix:
    case OpKind::send_file:
    case OpKind::recv_pooled:
      return true;
    default:
      return false;
  }
}

// The file operations that take an fd (open makes one): issued as the head
// of the fd's `in` queue; on the readiness backends they run on the IO's
// thread pool (core/thread_pool.h), as no readiness API waits on a file.
inline bool op_is_file_op(OpKind kind) {
  switch (kind) {
    case OpKind::read:
    case OpKind::write:
    case OpKind::fsync:
    case OpKind::fdatasync:
    case OpKind::file_size:
    case OpKind::truncate:
    case OpKind::allocate:
      return true;
    default:
      return false;
  }
}

enum class OpState : uint8_t {
  free,        // in the free list
  pending,     // owned by the core or the backend (queued, in the kernel, a timer, a listener)
  ready,       // completed, in the loop's ready queue
  delivering,  // written into the completions array, JS dispatching it
  abandoned,   // its kernel never answered a cancel (Loop::abandon): kept out of reuse until it does
};

// Op::core_flags bits (the core's own; backends have Op::backend_flags).
constexpr uint8_t kOpIssued = 1u << 0;           // handed to Backend::issue(): the backend owns it
constexpr uint8_t kOpCancelRequested = 1u << 1;  // Backend::cancel() was called for it
constexpr uint8_t kOpOrphaned = 1u << 2;         // its fd number was reused: off its queue, result EBADF
constexpr uint8_t kOpQueued = 1u << 3;           // in its fd's queue
constexpr uint8_t kOpCancelOutstanding = 1u << 4;  // issued, cancel asked, not answered yet (Loop::revisit_cancels)
constexpr uint8_t kOpAbandoned = 1u << 5;        // the stand-in of an abandoned op: its completion says so to JS
constexpr uint8_t kOpLoose = 1u << 6;            // in the loop's loose list (issued, in no fd queue)
// A recvPooled that found its pool empty: issued, but the backend gave it
// back to the core, where it waits in its pool's waiters for a buffer.
constexpr uint8_t kOpParked = 1u << 7;

// Storage for a socket address, big enough for IPv6 on every OS.
struct alignas(8) AddressStorage {
  uint8_t bytes[32];
  uint32_t length;
};

// The arguments of each kind.
struct AcceptArgs {};
struct ConnectArgs {
  AddressStorage address;
};
struct TransferArgs {  // recv, send
  uint8_t* buffer;
  uint32_t length;
};
struct FileTransferArgs {  // read, write
  uint8_t* buffer;
  uint32_t length;
  int64_t position;  // -1: the file's current position
};
struct TimeoutArgs {
  int64_t deadline_ns;  // monotonic: the time of the call plus the delay
  uint64_t sequence;    // submission order among timeouts: ties between equal deadlines go FIFO
  bool delay_zero;      // due at its call: timeout(0)
};
struct CloseArgs {};
struct OpenArgs {
  const char* path;  // NUL-terminated, owned by OpTable::path_storage
  uint32_t flags;    // layout.h kOpen* bits
  uint32_t mode;
};
struct EventListenArgs {
  uint32_t handle;
};
struct SyncArgs {};  // fsync, fdatasync: the whole file
struct FileSizeArgs {
  int64_t size_bytes;  // out: set by Loop::complete_size, harvested as the completion's value
};
struct TruncateArgs {
  int64_t length_bytes;  // the new size: shorter drops the tail, longer reads as zeros
};
struct AllocateArgs {
  int64_t offset_bytes;  // [offset, offset + length) gets disk blocks; the size grows to cover it
  int64_t length_bytes;  // >= 1
};
// Bytes of the largest socket address a datagram names (sockaddr_in6 on
// every OS); its length follows from its family (backend's address_length).
constexpr uint32_t kDatagramAddressBytes = 28;
struct SendToArgs {
  uint8_t* buffer;
  uint32_t length;
  alignas(4) uint8_t address[kDatagramAddressBytes];  // a sockaddr_in or sockaddr_in6
};
struct RecvFromArgs {
  uint8_t* buffer;
  uint32_t length;
  // The caller's address object (layout.h kAddress*, kAddressBytes): the
  // sender goes there, in the OS-neutral layout io/ decodes.
  uint8_t* address;
};
struct ConnectUnixArgs {
  const char* path;      // owned by OpTable::path_storage; may start with NUL (Linux's abstract namespace)
  uint32_t path_length;  // bytes, without a terminating NUL
};
// rename, unlink, mkdir, open_directory: paths owned by OpTable::path_storage.
struct PathArgs {
  const char* path;     // NUL-terminated; rename's source
  const char* target;   // rename's destination, else nullptr
  uint32_t flags;       // rename: kRenameNoReplace
  uint32_t mode;        // mkdir: the new directory's permission bits
};
// PathArgs::flags for rename: fail with EEXIST instead of replacing `target`.
constexpr uint32_t kRenameNoReplace = 1u << 0;
struct SendFileArgs {
  int64_t offset;  // in the file; the file's own position is neither used nor moved
  uint32_t length;
  int32_t file_fd;
};

struct SignalArgs {
  int32_t number;  // the OS's signal number (1..kSignalNumberMax), checked by io/ at the call
};
struct ProcessExitArgs {
  int32_t pid;     // > 0
  int64_t handle;  // the backend's: a pidfd, a process handle; -1 while none
  // out: -1, or an exit code beyond 255 (Windows' are 32 bits: an NTSTATUS
  // such as 0xC0000005), set by Loop::complete_exit_code and harvested as
  // the completion's value, kExitCodeWide + the code.
  int64_t code_wide;
};

// A buffer index that names no buffer.
constexpr uint32_t kNoBuffer = 0xffffffffu;
struct Op;
struct RecvPooledArgs {
  uint32_t pool;    // the pool's id in its IO
  uint32_t buffer;  // the buffer it holds (taken when data came), or kNoBuffer
  // Links in the pool's waiters while kOpParked (the fd queue has next/previous).
  Op* waiter_next;
  Op* waiter_previous;
};

union OpArgs {
  AcceptArgs accept;
  ConnectArgs connect;
  TransferArgs recv;
  TransferArgs send;
  TimeoutArgs timeout;
  CloseArgs close;
  OpenArgs open;
  FileTransferArgs read;
  FileTransferArgs write;
  EventListenArgs event_listen;
  SyncArgs fsync;
  SyncArgs fdatasync;
  FileSizeArgs file_size;
  TruncateArgs truncate;
  AllocateArgs allocate;
  SendToArgs send_to;
  RecvFromArgs recv_from;
  ConnectUnixArgs connect_unix;
  SendFileArgs send_file;
  PathArgs path;  // rename, unlink, mkdir, open_directory
  SignalArgs signal;
  ProcessExitArgs process_exit;
  RecvPooledArgs recv_pooled;
};
static_assert(std::is_trivial<OpArgs>::value, "arguments are plain data");
static_assert(sizeof(OpArgs) == 40, "the largest arguments are connect's address");

struct Op {
  Op* next = nullptr;  // intrusive links: free list, ready queue, fd queue, loose list
  Op* previous = nullptr;
  uint32_t slot = 0;
  uint32_t generation = 0;
  OpKind kind = OpKind::count;
  OpState state = OpState::free;
  uint8_t core_flags = 0;
  uint8_t backend_flags = 0;  // the backend's own bits while it owns the op
  int32_t fd = -1;
  int32_t result = 0;
  union {
    uint32_t heap_index = 0;  // a timeout: its position in the timer heap
    uint32_t cancel_rounds;   // an issued op: cancel rounds its kernel has not answered (Loop::revisit_cancels)
  };
  OpArgs args{};
  // The backend's (or the thread pool's) while it owns the op; sized per OS
  // (platform.h kOpScratchBytes), each user asserts that what it keeps fits.
  alignas(kOpScratchAlignment) uint8_t scratch[kOpScratchBytes];

  uint64_t id() const { return (static_cast<uint64_t>(generation) << kSlotBits) | slot; }

  // recv and send share their arguments' shape, as read and write do.
  TransferArgs& transfer() {
    TIGERIO_ASSERT(kind == OpKind::recv || kind == OpKind::send);
    return kind == OpKind::recv ? args.recv : args.send;
  }
  FileTransferArgs& file_transfer() {
    TIGERIO_ASSERT(kind == OpKind::read || kind == OpKind::write);
    return kind == OpKind::read ? args.read : args.write;
  }
};
// 64-bit targets (every one we ship): a change of size is a decision, not an
// accident. 80 bytes of links, identity, state and arguments, then the
// scratch: 24 bytes on POSIX (104 in all), 128 on Windows (208).
static_assert(sizeof(void*) != 8 || sizeof(Op) == 80 + kOpScratchBytes,
              "Op size changed: check scratch users, the chunk size and the per-connection figures (io/README.md)");
static_assert(offsetof(Op, scratch) % kOpScratchAlignment == 0, "scratch is aligned for the pointers and int64s kept there");

// An intrusive doubly-linked FIFO of operations through Op::next/previous:
// O(1) push, pop and remove. It holds only its head, so that the two in
// every FdEntry (fd_table.h) cost a pointer each: the head's `previous` is
// the tail (itself when alone), every other op's `previous` its
// predecessor, and `next` runs from the head to nullptr after the tail, so
// a walk by `next` sees the FIFO in order. An op in a list has a
// `previous`; one in none has neither link. Plain data: a zeroed OpList is
// empty. It keeps no count: the fd queues never need one.
struct OpList {
  Op* head_;

  bool empty() const { return head_ == nullptr; }
  Op* head() const { return head_; }
  Op* tail() const { return head_ == nullptr ? nullptr : head_->previous; }

  void push(Op* op) {
    TIGERIO_ASSERT(op->next == nullptr && op->previous == nullptr && op != head_);
    if (head_ == nullptr) {
      op->previous = op;
      head_ = op;
      return;
    }
    Op* tail = head_->previous;
    TIGERIO_ASSERT(tail != nullptr && tail->next == nullptr);
    tail->next = op;
    op->previous = tail;
    head_->previous = op;
  }

  Op* pop() {
    Op* op = head_;
    if (op == nullptr) return nullptr;
    remove(op);
    return op;
  }

  // op must be in this list.
  void remove(Op* op) {
    TIGERIO_ASSERT(head_ != nullptr && op->previous != nullptr);
    Op* tail = head_->previous;
    if (op == head_) {
      head_ = op->next;
      if (head_ != nullptr) head_->previous = tail;  // still the tail: op was not it
    } else {
      op->previous->next = op->next;
      if (op == tail) {
        head_->previous = op->previous;
      } else {
        op->next->previous = op->previous;
      }
    }
    op->next = op->previous = nullptr;
  }

  // `in` takes the place of `out`, which must be in this list (Loop::abandon).
  void replace(Op* out, Op* in) {
    TIGERIO_ASSERT(head_ != nullptr && out != in && out->previous != nullptr);
    TIGERIO_ASSERT(in->next == nullptr && in->previous == nullptr);
    Op* tail = head_->previous;
    in->next = out->next;
    in->previous = out->previous;
    if (out == head_) {
      head_ = in;
    } else {
      out->previous->next = in;
    }
    if (out == tail) {
      head_->previous = in;  // `in` itself when it is alone
    } else {
      out->next->previous = in;
    }
    out->next = out->previous = nullptr;
  }
};
static_assert(std::is_trivial<OpList>::value, "a zeroed OpList is an empty one");

// An OpList that counts its ops: the loop's own queues (ready, delivering,
// loose, abandoned, the timers' FIFO), whose sizes it asserts and bounds.
struct OpQueue {
  OpList list_;
  uint32_t size_;

  bool empty() const { return list_.empty(); }
  Op* head() const { return list_.head(); }
  Op* tail() const { return list_.tail(); }
  uint32_t size() const { return size_; }

  void push(Op* op) {
    list_.push(op);
    size_++;
  }

  Op* pop() {
    Op* op = list_.pop();
    if (op == nullptr) return nullptr;
    TIGERIO_ASSERT(size_ > 0);
    size_--;
    return op;
  }

  // op must be in this queue.
  void remove(Op* op) {
    TIGERIO_ASSERT(size_ > 0);
    list_.remove(op);
    size_--;
  }

  // `in` takes the place of `out`, which must be in this queue (Loop::abandon).
  void replace(Op* out, Op* in) {
    TIGERIO_ASSERT(size_ > 0);
    list_.replace(out, in);
  }
};
static_assert(std::is_trivial<OpQueue>::value, "a zeroed OpQueue is an empty one");

}  // namespace tigerio
