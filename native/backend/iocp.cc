// The IOCP backend (Windows): a completion model, as io_uring. Every socket
// and file operation is an overlapped call (AcceptEx, ConnectEx, WSARecv,
// WSASend, ReadFile, WriteFile) whose OVERLAPPED lives in the op's scratch,
// so nothing is allocated per operation; GetQueuedCompletionStatusEx
// harvests up to `entries` completions per wait; timeouts are a min-heap
// whose nearest deadline bounds that wait; wake() posts a packet.
//
// Rules this file keeps (each one a bug TigerBeetle or libuv met):
// - A handle is associated with a port at its first operation in an IO,
//   not at creation: an accepted socket handed to another thread's IO then
//   completes on that IO's port, not the acceptor's. A handle can be bound
//   to one port only: an fd used by two IOs fails in the second with EINVAL.
// - FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: an overlapped call that succeeds
//   at once posts no packet, and its result is taken there and then (only
//   when the mode was set: a socket under a non-IFS layered provider keeps
//   posting packets, as libuv checks too).
// - Only the head op of each direction per fd is in the kernel; the rest
//   wait in a FIFO (contract rule 4, same as readiness.cc). Files have one
//   FIFO for reads and writes: an overlapped handle has no file pointer, so
//   "the current position" is ours, and the ops run in submission order as
//   the synchronous POSIX file calls do.
// - The kernel owns an op's OVERLAPPED and buffer until its packet comes
//   back: no op completes before that, not on cancel, close or deinit.
//   close(fd) cancels (CancelIoEx) what is in flight, completes the queued
//   ops with ECANCELED at once, and closes the handle (closesocket for a
//   socket, CloseHandle for a file) only once the cancelled ops are back;
//   its own callback is last.
// - The AcceptEx socket is made with the listener's address family.
// - Waits round up to whole milliseconds, so a timer never fires early and
//   a sub-millisecond remainder never turns into a busy loop of zero-length
//   waits; timers are checked after every wait, whatever woke it, so none
//   is stranded behind a stream of completions.
#include "iocp.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_set>
#include <vector>

#include "../core/clock.h"
#include "../core/errors.h"
#include "../core/loop.h"
#include "../core/timers.h"
#include "win32.h"

namespace tigerio {

namespace {

using win32::as_handle;
using win32::as_socket;

// Completion keys: which kind of packet was dequeued.
constexpr ULONG_PTR kIoKey = 1;     // an operation's: its OVERLAPPED says which
constexpr ULONG_PTR kWakeKey = 2;   // wake(): cross-thread events
constexpr ULONG_PTR kRearmKey = 3;  // the loop thread telling the waiter to re-read the deadline

// Op::flags bits.
constexpr uint8_t kInFlight = 1;         // the kernel owns the op's OVERLAPPED until its packet
constexpr uint8_t kCancelRequested = 2;  // CancelIoEx was called for it: a failure is ECANCELED
constexpr uint8_t kOrphaned = 4;  // in flight on a handle whose number now names another (see forget_old_handle)

// start() and conclude() results besides an op's own.
constexpr int32_t kPending = INT32_MIN;     // a packet will come
constexpr int32_t kRetry = INT32_MIN + 1;   // issue the op again (an accept whose peer gave up)
constexpr uint32_t kAcceptRetriesMax = 64;  // per pump: dead connections in the backlog skipped at once

// AcceptEx writes both addresses, each with 16 bytes of its own overhead.
constexpr DWORD kAcceptAddressBytes = sizeof(sockaddr_in6) + 16;

// Bounds on waiting for cancelled ops to come back: CancelIoEx makes them
// complete promptly; not doing so within this long is a broken invariant.
constexpr int64_t kDrainNsMax = 60'000'000'000;
constexpr DWORD kDrainStepMs = 100;

// What an op keeps in Op::scratch while the kernel has it.
struct Scratch {
  OVERLAPPED overlapped;  // first: a dequeued OVERLAPPED* is this Scratch*
  Op* op;
  uint8_t accept_addresses[2 * kAcceptAddressBytes];
};
static_assert(sizeof(Scratch) <= sizeof(Op::scratch), "an op's overlapped state fits its scratch");
static_assert(alignof(Scratch) <= 16, "Op::scratch is 16-byte aligned");
// An accept keeps the socket it accepts into in Op::position (unused by accept).
static_assert(sizeof(SOCKET) <= sizeof(int64_t), "a SOCKET fits Op::position");

Scratch* scratch_of(Op* op) { return std::launder(reinterpret_cast<Scratch*>(op->scratch)); }

// A fresh OVERLAPPED for a new overlapped call of `op`.
Scratch* prepare(Op* op) {
  Scratch* scratch = new (op->scratch) Scratch();
  scratch->op = op;
  return scratch;
}

bool is_socket_op(OpKind kind) {
  return kind == OpKind::accept || kind == OpKind::connect || kind == OpKind::recv || kind == OpKind::send;
}

// Files opened by any IO of this process and not yet closed. An fd number
// this IO did not make is accepted if it is a socket (any socket can be
// checked) or in this set: otherwise it could be any handle of node.exe,
// and closing or writing it would be a disaster, so it is EBADF.
struct FileRegistry {
  std::mutex mutex;
  std::unordered_set<int32_t> fds;
};

FileRegistry& file_registry() {
  static FileRegistry* registry = new FileRegistry();  // leaked: workers may use it at exit
  return *registry;
}

void file_registered(int32_t fd) {
  FileRegistry& registry = file_registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.fds.insert(fd);
}

void file_unregistered(int32_t fd) {
  FileRegistry& registry = file_registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.fds.erase(fd);
}

bool file_known(int32_t fd) {
  FileRegistry& registry = file_registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  return registry.fds.count(fd) != 0;
}

// AcceptEx and ConnectEx, from the provider (the documented way; ConnectEx
// has no import). The same for IPv4 and IPv6 with Microsoft's provider.
struct Extensions {
  LPFN_ACCEPTEX accept_ex = nullptr;
  LPFN_CONNECTEX connect_ex = nullptr;
};

int32_t load_extensions(Extensions* out) {
  const SOCKET probe = win32::new_socket(AF_INET);
  if (probe == INVALID_SOCKET) return win32::socket_error();
  GUID accept_guid = WSAID_ACCEPTEX;
  GUID connect_guid = WSAID_CONNECTEX;
  DWORD bytes = 0;
  int32_t result = 0;
  if (::WSAIoctl(probe, SIO_GET_EXTENSION_FUNCTION_POINTER, &accept_guid, sizeof(accept_guid), &out->accept_ex,
                 sizeof(out->accept_ex), &bytes, nullptr, nullptr) != 0 ||
      ::WSAIoctl(probe, SIO_GET_EXTENSION_FUNCTION_POINTER, &connect_guid, sizeof(connect_guid), &out->connect_ex,
                 sizeof(out->connect_ex), &bytes, nullptr, nullptr) != 0) {
    result = win32::socket_error();
  }
  ::closesocket(probe);
  return result;
}

// Milliseconds for a wait of timeout_ns (-1: INFINITE), rounded up.
DWORD wait_ms(int64_t timeout_ns) {
  if (timeout_ns < 0) return INFINITE;
  const int64_t ms = (timeout_ns + 999'999) / 1'000'000;
  return ms >= static_cast<int64_t>(INFINITE) ? INFINITE - 1 : static_cast<DWORD>(ms);
}

class IocpBackend final : public Backend, public IocpWaiter {
 public:
  IocpBackend(Loop* loop, HANDLE port, uint32_t entries_max, const Extensions& extensions)
      : Backend(loop),
        port_(port),
        extensions_(extensions),
        entries_(entries_max),
        timers_(loop),
        waiter_entries_(entries_max),
        handoff_(entries_max) {
    TIGERIO_ASSERT(entries_max >= 1);
  }

  ~IocpBackend() override;

  const char* name() const override { return "iocp"; }
  void submit(Op* op) override;
  bool cancel(Op* op) override;
  void cancel_all() override;
  void wait(int64_t timeout_ns) override;
  void wake() override {
    // One wake packet in the port at a time is enough: whoever dequeues it
    // clears the flag and then looks at what the wake was for.
    if (!wake_posted_.exchange(true)) ::PostQueuedCompletionStatus(port_, 0, kWakeKey, nullptr);
  }
  // A completion port is not an fd: attach() on Windows uses the waiter.
  int poll_fd() const override { return -1; }
  int64_t next_deadline_ns() const override { return timers_.next_deadline_ns(); }

  int listen(const char* host, int port, int backlog, bool reuse_port) override {
    const int fd = win32::listen(host, port, backlog, reuse_port);
    if (fd >= 0) {
      opened(fd, Kind::socket, win32::socket_family(fd));
      if (FdState* state = known(fd)) state->listening = true;
    }
    return fd;
  }
  int socket(bool ipv6) override {
    const int fd = win32::socket(ipv6);
    if (fd >= 0) opened(fd, Kind::socket, ipv6 ? AF_INET6 : AF_INET);
    return fd;
  }
  int address(int fd, bool peer, char* out, size_t out_size, int* port, int* family) override {
    return win32::address(fd, peer, out, out_size, port, family);
  }
  int shutdown(int fd, bool send, bool receive) override { return win32::shutdown(fd, send, receive); }
  void close_now(int fd) override;

  bool waiter_start(Notify notify, void* context) override;
  void waiter_stop() override;
  void waiter_consume() override {
    if (!consume_handoff()) timers_.fire();
  }
  void waiter_rearm() override;

 private:
  enum class Kind : uint8_t { unknown, socket, file };

  struct FdState {
    OpQueue readers;            // accept, recv; for a file every read and write
    OpQueue writers;            // connect, send
    Op* closer = nullptr;       // a close waiting for the cancelled ops in flight
    int64_t file_position = 0;  // a file's "current position"
    uint32_t inflight = 0;      // ops whose OVERLAPPED the kernel has (the queue heads: 2 at most)
    int family = 0;             // a socket's AF_INET/AF_INET6, for AcceptEx on a listener; 0 unknown
    Kind kind = Kind::unknown;
    bool associated = false;       // with this IO's port
    bool skip_on_success = false;  // FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is set on the handle
    bool append = false;           // a file opened for appending
    bool listening = false;        // a socket known to listen (AcceptEx on another would wait forever)
  };

  // fds_ is indexed by fd / 4: handles are multiples of 4 (the kernel
  // ignores the two low bits), so a number with them set is no handle of ours.
  static bool indexable(int32_t fd) { return fd >= 0 && (fd & 3) == 0; }
  static size_t index_of(int32_t fd) { return static_cast<size_t>(fd) >> 2; }
  static int32_t fd_of(size_t index) { return static_cast<int32_t>(index << 2); }

  FdState* known(int32_t fd) {
    if (!indexable(fd) || index_of(fd) >= fds_.size()) return nullptr;
    FdState& state = fds_[index_of(fd)];
    return state.kind == Kind::unknown ? nullptr : &state;
  }
  FdState& slot(int32_t fd) {
    TIGERIO_ASSERT(indexable(fd));
    const size_t index = index_of(fd);
    if (index >= fds_.size()) fds_.resize(std::max(index + 1, fds_.size() * 2));
    return fds_[index];
  }
  FdState* state_for(int32_t fd);
  void opened(int32_t fd, Kind kind, int family);
  void forget_old_handle(FdState& state);

  static bool is_reader(const FdState& state, OpKind kind) {
    return state.kind == Kind::file || kind == OpKind::accept || kind == OpKind::recv;
  }
  OpQueue& queue_of(FdState& state, OpKind kind) { return is_reader(state, kind) ? state.readers : state.writers; }

  void submit_fd_op(Op* op);
  void submit_close(Op* op);
  void submit_open(Op* op);
  void pump(int32_t fd, bool readers);
  int32_t associate(int32_t fd, FdState& state);
  int32_t in_flight(Op* op, FdState& state) {
    op->flags |= kInFlight;
    state.inflight++;
    inflight_total_++;
    return kPending;
  }
  int32_t start(Op* op, FdState& state);
  int32_t start_accept(Op* op, FdState& state);
  int32_t start_connect(Op* op, FdState& state);
  int32_t start_file(Op* op, FdState& state);
  int32_t conclude(Op* op, int32_t result);
  int32_t packet_result(Op* op, const OVERLAPPED_ENTRY& entry);
  void process(const OVERLAPPED_ENTRY* entries, ULONG count);
  void finished(Op* op, int32_t result);
  void cancel_fd(int32_t fd, FdState& state);
  void close_fd(int32_t fd, Op* op);
  bool consume_handoff();
  void waiter_main();

  const HANDLE port_;
  const Extensions extensions_;
  std::vector<FdState> fds_;
  std::vector<OVERLAPPED_ENTRY> entries_;
  Timers timers_;
  uint32_t inflight_total_ = 0;  // ops the kernel has, all fds
  std::atomic<bool> wake_posted_{false};

  // attach(): the waiter thread and what it hands to the loop thread.
  // handoff_ belongs to the waiter while !handoff_pending_, to the loop
  // thread while handoff_pending_; the rest is under waiter_mutex_.
  static constexpr int64_t kAwake = -2;  // waiter_sleep_ns_: not in GetQueuedCompletionStatusEx
  bool waiter_running_ = false;          // loop thread only
  std::thread waiter_thread_;
  Notify notify_ = nullptr;
  void* notify_context_ = nullptr;
  std::vector<OVERLAPPED_ENTRY> waiter_entries_;  // the waiter thread's own
  std::vector<OVERLAPPED_ENTRY> handoff_;
  std::mutex waiter_mutex_;
  std::condition_variable waiter_cv_;
  ULONG handoff_count_ = 0;
  bool handoff_pending_ = false;
  bool waiter_stopping_ = false;
  bool rearm_posted_ = false;
  int64_t waiter_deadline_ns_ = -1;  // the nearest deadline the waiter must wake for (-1: none)
  int64_t waiter_sleep_ns_ = kAwake;  // the deadline it is sleeping toward now (-1: none)
};

IocpBackend::FdState* IocpBackend::state_for(int32_t fd) {
  if (FdState* state = known(fd)) return state;
  if (!indexable(fd)) return nullptr;
  // Not made by this IO: a socket from elsewhere (an accept on another
  // thread's IO), or a file another IO of this process opened.
  Kind kind = Kind::unknown;
  if (win32::is_socket(fd)) {
    kind = Kind::socket;
  } else if (file_known(fd)) {
    kind = Kind::file;
  } else {
    return nullptr;
  }
  FdState& state = slot(fd);
  TIGERIO_ASSERT(state.inflight == 0 && state.readers.empty() && state.writers.empty());
  state = FdState{};
  state.kind = kind;
  return &state;
}

void IocpBackend::opened(int32_t fd, Kind kind, int family) {
  loop_->fd_opened(fd);
  if (!indexable(fd)) return;  // never seen; such an fd is then EBADF to this IO, never misused
  // The number may have been another handle before, closed behind our back:
  // the new handle starts unassociated.
  FdState& state = slot(fd);
  forget_old_handle(state);
  state = FdState{};
  state.kind = kind;
  state.family = family;
}

// The number now names a new handle while ops of the old one are still here
// (the old handle was closed behind this IO's back, e.g. by another IO), as
// readiness.cc's on_fd_opened handles it: ops still waiting fail with EBADF,
// as a call on the old handle would now, and never run on the new one. Ops
// the kernel has are orphaned: the packet the old handle's close aborted
// completes them with EBADF, without touching the new handle's state.
void IocpBackend::forget_old_handle(FdState& state) {
  for (OpQueue* queue : {&state.readers, &state.writers}) {
    while (Op* op = queue->pop()) {
      if ((op->flags & kInFlight) != 0) {
        op->flags |= kOrphaned;
      } else {
        loop_->complete(op, kErrBadFd);
      }
    }
  }
  if (state.closer != nullptr) loop_->complete(state.closer, kErrBadFd);  // its handle is gone already
}

void IocpBackend::submit(Op* op) {
  switch (op->kind) {
    case OpKind::accept:
    case OpKind::connect:
    case OpKind::recv:
    case OpKind::send:
    case OpKind::read:
    case OpKind::write:
      submit_fd_op(op);
      return;
    case OpKind::timeout:
      timers_.start(op);
      return;
    case OpKind::close:
      submit_close(op);
      return;
    case OpKind::open:
      submit_open(op);
      return;
    case OpKind::event_listen:
    case OpKind::count:
      break;
  }
  TIGERIO_ASSERT(false && "operation kind the loop keeps");
}

void IocpBackend::submit_fd_op(Op* op) {
  FdState* state = state_for(op->fd);
  // A close in progress: the fd is as good as closed already.
  if (state == nullptr || state->closer != nullptr) {
    loop_->complete(op, kErrBadFd);
    return;
  }
  const bool socket_op = is_socket_op(op->kind);
  if (socket_op && state->kind != Kind::socket) {
    loop_->complete(op, kErrNotSocket);
    return;
  }
  if (!socket_op && state->kind != Kind::file) {
    // read/write on a socket: use recv/send (Linux would allow read() but
    // not a positioned one; one meaning per operation keeps it simple).
    loop_->complete(op, kErrInvalid);
    return;
  }
  const bool readers = is_reader(*state, op->kind);
  OpQueue& queue = readers ? state->readers : state->writers;
  queue.push(op);
  if (queue.head() == op) pump(op->fd, readers);
}

// Starts the head of one queue of `fd`, and the next ones while they
// complete at once, until one is in flight or the queue is empty.
void IocpBackend::pump(int32_t fd, bool readers) {
  for (uint32_t retries = 0;;) {
    FdState* state = known(fd);  // again every time: an accept grows fds_
    if (state == nullptr || state->closer != nullptr) return;
    OpQueue& queue = readers ? state->readers : state->writers;
    Op* op = queue.head();
    if (op == nullptr || (op->flags & kInFlight) != 0) return;
    int32_t result = start(op, *state);
    if (result == kPending) return;
    result = conclude(op, result);
    if (result == kRetry && ++retries < kAcceptRetriesMax) continue;
    if (result == kRetry) result = kErrConnectionAborted;
    FdState* after = known(fd);
    TIGERIO_ASSERT(after != nullptr);
    Op* done = (readers ? after->readers : after->writers).pop();
    TIGERIO_ASSERT(done == op);
    loop_->complete(op, result);
  }
}

int32_t IocpBackend::associate(int32_t fd, FdState& state) {
  if (state.associated) return 0;
  const HANDLE handle = as_handle(fd);
  if (::CreateIoCompletionPort(handle, port_, kIoKey, 0) == nullptr) {
    // ERROR_INVALID_PARAMETER: bound to another IO's port already.
    return win32::last_error();
  }
  state.associated = true;
  bool skip = true;
  if (state.kind == Kind::socket) {
    // Under a non-IFS layered service provider a success still posts a
    // packet whatever the mode says: only skip on IFS handles.
    WSAPROTOCOL_INFOW info;
    int size = sizeof(info);
    skip = ::getsockopt(as_socket(fd), SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &size) == 0 &&
           (info.dwServiceFlags1 & XP1_IFS_HANDLES) != 0;
  }
  const UCHAR modes = FILE_SKIP_SET_EVENT_ON_HANDLE | (skip ? FILE_SKIP_COMPLETION_PORT_ON_SUCCESS : 0);
  state.skip_on_success = ::SetFileCompletionNotificationModes(handle, modes) && skip;
  return 0;
}

int32_t IocpBackend::start(Op* op, FdState& state) {
  const int32_t associated = associate(op->fd, state);
  if (associated < 0) return associated;
  switch (op->kind) {
    case OpKind::accept:
      return start_accept(op, state);
    case OpKind::connect:
      return start_connect(op, state);
    case OpKind::recv:
    case OpKind::send: {
      Scratch* scratch = prepare(op);
      // Winsock copies the WSABUF array before returning: a local is fine.
      WSABUF buffer;
      buffer.len = op->length;
      buffer.buf = reinterpret_cast<char*>(op->buffer);
      DWORD bytes = 0;
      DWORD flags = 0;
      const int rc = op->kind == OpKind::recv
                         ? ::WSARecv(as_socket(op->fd), &buffer, 1, &bytes, &flags, &scratch->overlapped, nullptr)
                         : ::WSASend(as_socket(op->fd), &buffer, 1, &bytes, 0, &scratch->overlapped, nullptr);
      if (rc == 0) return state.skip_on_success ? static_cast<int32_t>(bytes) : in_flight(op, state);
      const int error = ::WSAGetLastError();
      if (error == WSA_IO_PENDING) return in_flight(op, state);
      return win32::map_error(static_cast<DWORD>(error));
    }
    case OpKind::read:
    case OpKind::write:
      return start_file(op, state);
    default:
      break;
  }
  TIGERIO_ASSERT(false && "not an fd operation");
  return kErrInvalid;
}

int32_t IocpBackend::start_accept(Op* op, FdState& state) {
  if (!state.listening) {
    // AcceptEx on a socket that does not listen may wait instead of failing
    // (it does under Wine): ask first, as POSIX accept fails with EINVAL.
    BOOL listening = FALSE;
    int size = sizeof(listening);
    if (::getsockopt(as_socket(op->fd), SOL_SOCKET, SO_ACCEPTCONN, reinterpret_cast<char*>(&listening), &size) != 0) {
      return win32::socket_error();
    }
    if (!listening) return kErrInvalid;
    state.listening = true;
  }
  // The accepted socket must have the listener's family (TigerBeetle's IPv6 bug).
  if (state.family == 0) state.family = win32::socket_family(op->fd);
  if (state.family == 0) return kErrInvalid;  // not bound: not listening either
  const SOCKET accepted = win32::new_socket(state.family);
  if (accepted == INVALID_SOCKET) return win32::socket_error();
  op->position = static_cast<int64_t>(accepted);
  Scratch* scratch = prepare(op);
  DWORD bytes = 0;
  if (extensions_.accept_ex(as_socket(op->fd), accepted, scratch->accept_addresses, 0, kAcceptAddressBytes,
                            kAcceptAddressBytes, &bytes, &scratch->overlapped)) {
    return state.skip_on_success ? 0 : in_flight(op, state);
  }
  const int error = ::WSAGetLastError();
  if (error == ERROR_IO_PENDING) return in_flight(op, state);
  ::closesocket(accepted);
  op->position = -1;
  return win32::map_error(static_cast<DWORD>(error));
}

int32_t IocpBackend::start_connect(Op* op, FdState& state) {
  const auto* target = reinterpret_cast<const sockaddr*>(op->address.bytes);
  // ConnectEx wants a bound socket: bind to the wildcard address and port 0.
  // WSAEINVAL: bound already (a second connect, or bound by its owner).
  sockaddr_storage any{};
  any.ss_family = target->sa_family;
  const int any_size = target->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::bind(as_socket(op->fd), reinterpret_cast<const sockaddr*>(&any), any_size) != 0) {
    const int error = ::WSAGetLastError();
    if (error != WSAEINVAL) return win32::map_error(static_cast<DWORD>(error));
  }
  Scratch* scratch = prepare(op);
  DWORD bytes = 0;
  if (extensions_.connect_ex(as_socket(op->fd), target, static_cast<int>(op->address.length), nullptr, 0, &bytes,
                             &scratch->overlapped)) {
    return state.skip_on_success ? 0 : in_flight(op, state);
  }
  const int error = ::WSAGetLastError();
  if (error == ERROR_IO_PENDING) return in_flight(op, state);
  return win32::map_error(static_cast<DWORD>(error));
}

int32_t IocpBackend::start_file(Op* op, FdState& state) {
  Scratch* scratch = prepare(op);
  const uint64_t offset = static_cast<uint64_t>(op->position >= 0 ? op->position : state.file_position);
  scratch->overlapped.Offset = static_cast<DWORD>(offset);
  scratch->overlapped.OffsetHigh = static_cast<DWORD>(offset >> 32);
  const bool write = op->kind == OpKind::write;
  if (write && state.append) {
    // "At the end of the file", as O_APPEND (a positioned write appends too, as on Linux).
    scratch->overlapped.Offset = 0xffffffff;
    scratch->overlapped.OffsetHigh = 0xffffffff;
  }
  DWORD bytes = 0;
  const BOOL ok = write ? ::WriteFile(as_handle(op->fd), op->buffer, op->length, &bytes, &scratch->overlapped)
                        : ::ReadFile(as_handle(op->fd), op->buffer, op->length, &bytes, &scratch->overlapped);
  if (ok) return state.skip_on_success ? static_cast<int32_t>(bytes) : in_flight(op, state);
  const DWORD error = ::GetLastError();
  if (error == ERROR_IO_PENDING) return in_flight(op, state);
  if (!write && error == ERROR_HANDLE_EOF) return 0;
  // A handle without the access asked (a write to a file opened 'r'): POSIX says EBADF.
  if (error == ERROR_ACCESS_DENIED) return kErrBadFd;
  return win32::map_error(error);
}

// The kind-specific end of an op: its result as JS sees it.
int32_t IocpBackend::conclude(Op* op, int32_t result) {
  if ((op->flags & kCancelRequested) != 0 && result < 0) result = kErrCanceled;
  switch (op->kind) {
    case OpKind::accept: {
      const SOCKET accepted = static_cast<SOCKET>(op->position);
      op->position = -1;
      if (result < 0) {
        ::closesocket(accepted);
        // The peer gave up while in the backlog: POSIX accept skips those too.
        const bool died = result == kErrConnectionReset || result == kErrConnectionAborted;
        return died && (op->flags & kCancelRequested) == 0 ? kRetry : result;
      }
      const SOCKET listener = as_socket(op->fd);
      ::setsockopt(accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, reinterpret_cast<const char*>(&listener),
                   sizeof(listener));
      win32::set_nodelay(accepted);
      int32_t fd = -1;
      if (!win32::to_fd(static_cast<uintptr_t>(accepted), &fd)) {
        ::closesocket(accepted);
        return kErrTooManyFiles;
      }
      const FdState* listener_state = known(op->fd);
      opened(fd, Kind::socket, listener_state != nullptr ? listener_state->family : 0);
      return fd;
    }
    case OpKind::connect:
      // Makes getpeername, shutdown and the rest work on the socket.
      if (result >= 0) {
        ::setsockopt(as_socket(op->fd), SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0);
        result = 0;
      }
      return result;
    case OpKind::read:
    case OpKind::write:
      if (result > 0 && op->position < 0) {
        FdState* state = known(op->fd);
        if (state != nullptr && !state->append) state->file_position += result;
      }
      return result;
    default:
      return result;
  }
}

// An op's result from its dequeued packet: bytes, or a negative errno.
int32_t IocpBackend::packet_result(Op* op, const OVERLAPPED_ENTRY& entry) {
  OVERLAPPED* overlapped = entry.lpOverlapped;
  // Internal is the NTSTATUS: success and warnings are >= 0.
  if (static_cast<LONG>(overlapped->Internal) >= 0) return static_cast<int32_t>(entry.dwNumberOfBytesTransferred);
  DWORD bytes = 0;
  DWORD error = 0;
  if (is_socket_op(op->kind)) {
    DWORD flags = 0;
    // Translates the NTSTATUS into the Winsock error a synchronous call would give.
    if (::WSAGetOverlappedResult(as_socket(op->fd), overlapped, &bytes, FALSE, &flags)) {
      return static_cast<int32_t>(bytes);
    }
    error = static_cast<DWORD>(::WSAGetLastError());
  } else {
    if (::GetOverlappedResult(as_handle(op->fd), overlapped, &bytes, FALSE)) return static_cast<int32_t>(bytes);
    error = ::GetLastError();
    if (op->kind == OpKind::read && (error == ERROR_HANDLE_EOF || error == ERROR_BROKEN_PIPE)) return 0;
    if (error == ERROR_ACCESS_DENIED) return kErrBadFd;  // as in start_file()
  }
  return win32::map_error(error);
}

void IocpBackend::process(const OVERLAPPED_ENTRY* entries, ULONG count) {
  for (ULONG i = 0; i < count; i++) {
    const OVERLAPPED_ENTRY& entry = entries[i];
    if (entry.lpCompletionKey == kWakeKey) {
      wake_posted_.store(false);
      continue;
    }
    if (entry.lpCompletionKey == kRearmKey) continue;  // meant for a waiter that has stopped
    TIGERIO_ASSERT(entry.lpCompletionKey == kIoKey && entry.lpOverlapped != nullptr);
    Op* op = reinterpret_cast<Scratch*>(entry.lpOverlapped)->op;
    TIGERIO_ASSERT(scratch_of(op) == reinterpret_cast<Scratch*>(entry.lpOverlapped));
    finished(op, packet_result(op, entry));
  }
}

// The packet of an op in flight came back.
void IocpBackend::finished(Op* op, int32_t result) {
  TIGERIO_ASSERT((op->flags & kInFlight) != 0 && op->state == OpState::pending);
  if ((op->flags & kOrphaned) != 0) {
    TIGERIO_ASSERT(inflight_total_ > 0);
    op->flags &= static_cast<uint8_t>(~(kInFlight | kOrphaned));
    inflight_total_--;
    // An accept the kernel finished anyway: its socket is nobody's.
    if (op->kind == OpKind::accept && op->position != -1) ::closesocket(static_cast<SOCKET>(op->position));
    loop_->complete(op, kErrBadFd);
    return;
  }
  const int32_t fd = op->fd;
  FdState* state = known(fd);
  TIGERIO_ASSERT(state != nullptr && state->inflight > 0 && inflight_total_ > 0);
  op->flags &= static_cast<uint8_t>(~kInFlight);
  state->inflight--;
  inflight_total_--;
  const bool readers = is_reader(*state, op->kind);
  result = conclude(op, result);
  if (result == kRetry) {
    pump(fd, readers);  // still the head, no longer in flight: issued again
    return;
  }
  state = known(fd);  // again: an accept grows fds_
  TIGERIO_ASSERT(state != nullptr);
  Op* done = (readers ? state->readers : state->writers).pop();
  TIGERIO_ASSERT(done == op);
  loop_->complete(op, result);
  if (state->closer != nullptr) {
    if (state->inflight == 0) close_fd(fd, state->closer);
    return;
  }
  pump(fd, readers);
}

void IocpBackend::submit_close(Op* op) {
  const int32_t fd = op->fd;
  FdState* state = state_for(fd);
  if (state == nullptr || state->closer != nullptr) {
    loop_->complete(op, kErrBadFd);
    return;
  }
  cancel_fd(fd, *state);
  if (state->inflight == 0) {
    close_fd(fd, op);
  } else {
    state->closer = op;  // closed when the cancelled ops are back (finished())
  }
}

// Completes the queued ops of `fd` with ECANCELED (readers first, as
// readiness.cc) and asks the kernel to cancel the ones in flight.
void IocpBackend::cancel_fd(int32_t fd, FdState& state) {
  for (OpQueue* queue : {&state.readers, &state.writers}) {
    OpQueue kept;
    while (Op* op = queue->pop()) {
      if ((op->flags & kInFlight) == 0) {
        loop_->complete(op, kErrCanceled);
        continue;
      }
      kept.push(op);
      if ((op->flags & kCancelRequested) == 0) {
        op->flags |= kCancelRequested;
        // ERROR_NOT_FOUND: done already, its packet is on the way.
        ::CancelIoEx(as_handle(fd), &scratch_of(op)->overlapped);
      }
    }
    *queue = kept;
  }
}

void IocpBackend::close_fd(int32_t fd, Op* op) {
  FdState* state = known(fd);
  TIGERIO_ASSERT(state != nullptr && state->inflight == 0);
  TIGERIO_ASSERT(state->readers.empty() && state->writers.empty());
  const Kind kind = state->kind;
  *state = FdState{};
  int32_t result = 0;
  if (kind == Kind::socket) {
    if (::closesocket(as_socket(fd)) != 0) result = win32::socket_error();
  } else {
    file_unregistered(fd);
    if (!::CloseHandle(as_handle(fd))) result = win32::last_error();
  }
  loop_->fd_closed(fd);
  if (op != nullptr) loop_->complete(op, result);
}

void IocpBackend::submit_open(Op* op) {
  // UTF-8 -> UTF-16 for CreateFileW (open is not a hot path: it may allocate).
  const char* path = op->path.get();
  const int wide_size = ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, nullptr, 0);
  if (wide_size <= 0) {
    loop_->complete(op, kErrInvalid);
    return;
  }
  std::vector<wchar_t> wide(static_cast<size_t>(wide_size));
  ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide.data(), wide_size);
  const uint32_t flags = op->open_flags;
  DWORD access = 0;
  if (flags & kOpenRead) access |= GENERIC_READ;
  if (flags & kOpenWrite) access |= GENERIC_WRITE;
  if (flags & kOpenAppend) {
    // As libuv: append-only data access, so every write goes to the end.
    access &= ~static_cast<DWORD>(GENERIC_WRITE);
    access |= FILE_GENERIC_WRITE & ~static_cast<DWORD>(FILE_WRITE_DATA);
  }
  DWORD disposition = OPEN_EXISTING;
  if ((flags & kOpenCreate) && (flags & kOpenExclusive)) {
    disposition = CREATE_NEW;
  } else if ((flags & kOpenCreate) && (flags & kOpenTruncate)) {
    disposition = CREATE_ALWAYS;
  } else if (flags & kOpenCreate) {
    disposition = OPEN_ALWAYS;
  } else if (flags & kOpenTruncate) {
    disposition = TRUNCATE_EXISTING;
  }
  // Windows has no POSIX permission bits: open_mode is not used. Sharing
  // everything is what POSIX files do (others may read, write, delete).
  // FILE_FLAG_BACKUP_SEMANTICS lets a directory open, as open(2) does (its
  // reads then fail with EISDIR), so code that opens and then checks works.
  const HANDLE handle =
      ::CreateFileW(wide.data(), access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, disposition,
                    FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED | FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (handle == INVALID_HANDLE_VALUE) {
    loop_->complete(op, win32::last_error());
    return;
  }
  int32_t fd = -1;
  if (!win32::to_fd(reinterpret_cast<uintptr_t>(handle), &fd) || !indexable(fd)) {
    ::CloseHandle(handle);
    loop_->complete(op, kErrTooManyFiles);
    return;
  }
  file_registered(fd);
  opened(fd, Kind::file, 0);
  FdState* state = known(fd);
  TIGERIO_ASSERT(state != nullptr);
  state->append = (flags & kOpenAppend) != 0;
  loop_->complete(op, fd);
}

bool IocpBackend::cancel(Op* op) {
  if (op->kind == OpKind::timeout) return timers_.cancel(op);
  // open finishes at submission; a close waiting for its fd's ops is not undone.
  if (op->kind == OpKind::open || op->kind == OpKind::close) return false;
  FdState* state = known(op->fd);
  if (state == nullptr) return false;
  if ((op->flags & kInFlight) != 0) {
    // An orphan's handle is gone: its aborted packet is on its way.
    if ((op->flags & (kCancelRequested | kOrphaned)) != 0) return false;
    // ERROR_NOT_FOUND: the kernel finished it first; its packet brings its own result.
    if (!::CancelIoEx(as_handle(op->fd), &scratch_of(op)->overlapped)) return false;
    op->flags |= kCancelRequested;
    return true;
  }
  if (!queue_of(*state, op->kind).remove(op)) return false;
  loop_->complete(op, kErrCanceled);
  return true;
}

void IocpBackend::cancel_all() {
  // The loop thread drains the port itself here: the waiter steps aside.
  const bool waiter_was_running = waiter_running_;
  waiter_stop();
  consume_handoff();
  for (size_t index = 0; index < fds_.size(); index++) {
    FdState& state = fds_[index];
    if (state.kind != Kind::unknown) cancel_fd(fd_of(index), state);
  }
  timers_.cancel_all();
  // "Completes everything before it returns": the cancelled ops' packets,
  // then the closes that waited for them (finished() does both).
  const int64_t started_ns = monotonic_ns();
  while (inflight_total_ > 0) {
    TIGERIO_ASSERT(monotonic_ns() - started_ns < kDrainNsMax);
    ULONG count = 0;
    if (!::GetQueuedCompletionStatusEx(port_, entries_.data(), static_cast<ULONG>(entries_.size()), &count,
                                      kDrainStepMs, FALSE)) {
      count = 0;
    }
    process(entries_.data(), count);
  }
  if (waiter_was_running) TIGERIO_ASSERT(waiter_start(notify_, notify_context_));
}

void IocpBackend::wait(int64_t timeout_ns) {
  if (waiter_running_) {
    // The waiter is the port's reader now: take what it handed over, never block.
    waiter_consume();
    return;
  }
  // What a waiter dequeued before it stopped comes first, and then nothing blocks.
  if (consume_handoff()) timeout_ns = 0;
  timeout_ns = timers_.bound_wait_ns(timeout_ns);
  ULONG count = 0;
  if (!::GetQueuedCompletionStatusEx(port_, entries_.data(), static_cast<ULONG>(entries_.size()), &count,
                                    wait_ms(timeout_ns), FALSE)) {
    count = 0;  // WAIT_TIMEOUT
  }
  process(entries_.data(), count);
  timers_.fire();
}

void IocpBackend::close_now(int fd) {
  FdState* state = known(fd);
  Kind kind = state != nullptr ? state->kind : Kind::unknown;
  if (state != nullptr) {
    // At destroy, ops may still be pending (an IO finalized without
    // deinit): the destructor waits for those in flight.
    cancel_fd(fd, *state);
    while (state->readers.pop() != nullptr) {
    }
    while (state->writers.pop() != nullptr) {
    }
    *state = FdState{};
  } else if (win32::is_socket(fd)) {
    kind = Kind::socket;
  } else if (file_known(fd)) {
    kind = Kind::file;
  }
  if (kind == Kind::socket) {
    ::closesocket(as_socket(fd));
  } else if (kind == Kind::file) {
    file_unregistered(fd);
    ::CloseHandle(as_handle(fd));
  }
}

IocpBackend::~IocpBackend() {
  waiter_stop();
  // The kernel writes into an op's OVERLAPPED (and buffer) until its packet
  // is dequeued: wait for every op in flight before the ops are freed.
  for (size_t index = 0; index < fds_.size(); index++) {
    if (fds_[index].inflight > 0) ::CancelIoEx(as_handle(fd_of(index)), nullptr);
  }
  const int64_t started_ns = monotonic_ns();
  ULONG count = 0;
  for (ULONG i = 0; i < handoff_count_ && handoff_pending_; i++) {
    if (handoff_[i].lpCompletionKey == kIoKey && inflight_total_ > 0) inflight_total_--;
  }
  while (inflight_total_ > 0 && monotonic_ns() - started_ns < kDrainNsMax) {
    if (!::GetQueuedCompletionStatusEx(port_, entries_.data(), static_cast<ULONG>(entries_.size()), &count,
                                      kDrainStepMs, FALSE)) {
      continue;
    }
    for (ULONG i = 0; i < count; i++) {
      if (entries_[i].lpCompletionKey != kIoKey) continue;
      Op* op = reinterpret_cast<Scratch*>(entries_[i].lpOverlapped)->op;
      if (op->kind == OpKind::accept && op->position >= 0) ::closesocket(static_cast<SOCKET>(op->position));
      inflight_total_--;
    }
  }
  ::CloseHandle(port_);
}

// ---- attach(): the waiter thread ---------------------------------------------

bool IocpBackend::waiter_start(Notify notify, void* context) {
  TIGERIO_ASSERT(!waiter_running_ && notify != nullptr);
  notify_ = notify;
  notify_context_ = context;
  {
    std::lock_guard<std::mutex> lock(waiter_mutex_);
    waiter_stopping_ = false;
    rearm_posted_ = false;
    waiter_sleep_ns_ = kAwake;
    waiter_deadline_ns_ = next_deadline_ns();
  }
  try {
    waiter_thread_ = std::thread([this] { waiter_main(); });
  } catch (...) {
    return false;
  }
  waiter_running_ = true;
  return true;
}

void IocpBackend::waiter_stop() {
  if (!waiter_running_) return;
  {
    std::lock_guard<std::mutex> lock(waiter_mutex_);
    waiter_stopping_ = true;
  }
  waiter_cv_.notify_all();
  // Breaks a GetQueuedCompletionStatusEx in progress (if the waiter is not
  // in one, the packet is dropped by the next wait()).
  ::PostQueuedCompletionStatus(port_, 0, kRearmKey, nullptr);
  waiter_thread_.join();
  waiter_running_ = false;
}

void IocpBackend::waiter_rearm() {
  if (!waiter_running_) return;
  const int64_t deadline_ns = next_deadline_ns();
  bool post = false;
  {
    std::lock_guard<std::mutex> lock(waiter_mutex_);
    waiter_deadline_ns_ = deadline_ns;
    const bool sleeping = waiter_sleep_ns_ != kAwake;
    const bool sooner = deadline_ns >= 0 && (waiter_sleep_ns_ < 0 || deadline_ns < waiter_sleep_ns_);
    if (sleeping && sooner && !rearm_posted_) {
      rearm_posted_ = true;
      post = true;
    }
  }
  if (post) ::PostQueuedCompletionStatus(port_, 0, kRearmKey, nullptr);
}

// Loop thread: completes what the waiter handed over, fires due timers,
// and lets the waiter wait again, for the nearest deadline as it is now.
bool IocpBackend::consume_handoff() {
  ULONG count = 0;
  {
    std::lock_guard<std::mutex> lock(waiter_mutex_);
    if (!handoff_pending_) return false;
    count = handoff_count_;
  }
  // The waiter does not touch handoff_ while handoff_pending_.
  process(handoff_.data(), count);
  timers_.fire();
  {
    std::lock_guard<std::mutex> lock(waiter_mutex_);
    handoff_pending_ = false;
    handoff_count_ = 0;
    waiter_deadline_ns_ = next_deadline_ns();
  }
  waiter_cv_.notify_all();
  return true;
}

void IocpBackend::waiter_main() {
  for (;;) {
    int64_t deadline_ns = -1;
    {
      std::unique_lock<std::mutex> lock(waiter_mutex_);
      waiter_cv_.wait(lock, [this] { return waiter_stopping_ || !handoff_pending_; });
      if (waiter_stopping_) return;
      deadline_ns = waiter_deadline_ns_;
      waiter_sleep_ns_ = deadline_ns;
    }
    const DWORD timeout_ms = deadline_ns < 0 ? INFINITE : wait_ms(std::max<int64_t>(0, deadline_ns - monotonic_ns()));
    ULONG count = 0;
    if (!::GetQueuedCompletionStatusEx(port_, waiter_entries_.data(), static_cast<ULONG>(waiter_entries_.size()),
                                      &count, timeout_ms, FALSE)) {
      count = 0;
    }
    ULONG kept = 0;
    bool rearmed = false;
    for (ULONG i = 0; i < count; i++) {
      if (waiter_entries_[i].lpCompletionKey == kRearmKey) {
        rearmed = true;
      } else {
        waiter_entries_[kept++] = waiter_entries_[i];
      }
    }
    const bool due = deadline_ns >= 0 && monotonic_ns() >= deadline_ns;
    {
      std::lock_guard<std::mutex> lock(waiter_mutex_);
      waiter_sleep_ns_ = kAwake;
      if (rearmed) rearm_posted_ = false;
      if (kept == 0 && !due) continue;  // a re-arm, or woken early: wait again
      std::copy(waiter_entries_.begin(), waiter_entries_.begin() + kept, handoff_.begin());
      handoff_count_ = kept;
      handoff_pending_ = true;
    }
    notify_(notify_context_);
  }
}

}  // namespace

std::unique_ptr<Backend> create_iocp_backend(Loop* loop, const LoopConfig& config, int* error) {
  const int32_t started = win32::startup();
  if (started < 0) {
    *error = started;
    return nullptr;
  }
  Extensions extensions;
  const int32_t loaded = load_extensions(&extensions);
  if (loaded < 0) {
    *error = loaded;
    return nullptr;
  }
  // One thread dequeues at a time (the loop thread, or its waiter).
  const HANDLE port = ::CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  if (port == nullptr) {
    *error = win32::last_error();
    return nullptr;
  }
  return std::unique_ptr<Backend>(new IocpBackend(loop, port, config.entries, extensions));
}

IocpWaiter* iocp_waiter(Backend& backend) {
  // No RTTI in node-gyp's MSVC builds: the name says which backend it is.
  if (std::strcmp(backend.name(), "iocp") != 0) return nullptr;
  return static_cast<IocpBackend*>(&backend);
}

}  // namespace tigerio
