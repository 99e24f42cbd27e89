// The IOCP backend (Windows): a completion model, as io_uring. Every socket
// and file operation is an overlapped call (AcceptEx, ConnectEx, WSARecv,
// WSASend, ReadFile, WriteFile) whose OVERLAPPED lives in the op's scratch,
// so nothing is allocated per operation; GetQueuedCompletionStatusEx
// harvests up to `entries` completions per wait; wake() posts a packet.
// Per-fd queues, close-after-drain, cancellation of queued ops, the reused
// fd rule and timers are the core's (core/loop.h): the core issues only the
// head of each of an fd's two FIFOs, so this file starts one overlapped call
// per issue() and reports its result once, through Loop::complete().
//
// Rules this file keeps (each one a bug TigerBeetle or libuv met):
// - A handle is associated with a port at its first operation in an IO,
//   not at creation: an accepted socket handed to another thread's IO then
//   completes on that IO's port, not the acceptor's. A handle can be bound
//   to one port only: an fd used by two IOs fails in the second with EINVAL.
// - FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: an overlapped call that succeeds
//   at once posts no packet, and its result is taken there and then, inside
//   issue() (only when the mode was set: a socket under a non-IFS layered
//   provider keeps posting packets, as libuv checks too).
// - An overlapped handle has no file pointer: "the current position" of a
//   file is ours (FdState::file_position). The core runs a file's reads and
//   writes in one FIFO (Direction::in), one at a time, so it stays exact.
// - The kernel owns an op's OVERLAPPED and buffer until its packet comes
//   back: no op completes before that, not on cancel, close or deinit
//   (the core waits for every issued op before it closes or frees anything).
// - The AcceptEx socket is made with the listener's address family.
// - AF_UNIX runs through the same AcceptEx, ConnectEx, WSARecv
//   and WSASend, with the AF_UNIX provider's own extension functions. Its
//   addresses do not fit an op's scratch: an AF_UNIX accept or connect
//   borrows a UnixBlock from the backend's pool until its packet comes back.
// - A send is at most kSendChunkMax bytes per WSASend (see there): a send
//   may complete with fewer bytes than asked, as POSIX send does.
// - Waits round up to whole milliseconds, so a timer never fires early and
//   a sub-millisecond remainder never turns into a busy loop of zero-length
//   waits. A failed wait other than a timeout is a broken invariant.
#include "iocp.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_set>
#include <vector>

#include "../core/clock.h"
#include "../core/errors.h"
#include "../core/fd_table.h"
#include "../core/layout.h"
#include "../core/loop.h"
#include "../core/thread_pool.h"
#include "win32.h"
#include "win32_files.h"

namespace tigerio {

namespace {

using win32::as_handle;
using win32::as_socket;

// Completion keys: which kind of packet was dequeued.
constexpr ULONG_PTR kIoKey = 1;     // an operation's: its OVERLAPPED says which
constexpr ULONG_PTR kWakeKey = 2;   // wake(): cross-thread events
constexpr ULONG_PTR kRearmKey = 3;  // the loop thread telling the waiter to re-read the deadline
constexpr ULONG_PTR kProcessKey = 4;  // a process exited: lpOverlapped is its processExit's op id + 1

// Op::backend_flags bits.
constexpr uint8_t kInFlight = 1;      // the kernel owns the op's OVERLAPPED until its packet
constexpr uint8_t kUnixBlock = 2;     // the op holds a UnixBlock (UnixHold in its scratch)

// start() and conclude() results besides an op's own.
constexpr int32_t kPending = INT32_MIN;     // a packet will come
constexpr int32_t kRetry = INT32_MIN + 1;   // issue the op again (an accept whose peer gave up)
constexpr int32_t kParked = INT32_MIN + 2;  // a recvPooled with data and no buffer: it waits in the core
constexpr uint32_t kAcceptRetriesMax = 64;  // per issue: dead connections in the backlog skipped at once

// The most one WSASend hands to the kernel (issue 11). An overlapped send
// completes only once the kernel has taken the whole buffer. Wine sends what
// fits in the socket buffer at once and leaves the rest waiting for room;
// when the peer has already closed, the first segments make it answer with
// a reset, which comes while that send is still being handed out, and the
// rest left waiting then never completes: measured, a 1 MiB send right after
// the peer's close had no packet after 3 s (8 s in the issue), while sends up
// to 512 KiB (what a fresh loopback socket takes at once) always completed,
// and 640 KiB never did. node:net gets ECONNRESET in milliseconds because its first write is a
// non-blocking try that reports what fit, and its next write meets the reset
// at once. Sending at most 64 KiB per call does the same here: the kernel
// takes it whole, the op completes with that count (a partial send, which the
// contract allows, as POSIX send), and the caller's next send fails with
// ECONNRESET. A 64 KiB send still waits for room when the peer stopped
// reading and the buffer is full; a reset that comes then does wake it
// (measured), so only a reset arriving within that very call is not covered.
// On Windows itself the bound only splits large sends into more completions.
constexpr uint32_t kSendChunkMax = 64 * 1024;

// True for 127.0.0.0/8 and ::1: an address of this machine's loopback.
bool is_loopback(const sockaddr* address) {
  TIGERIO_ASSERT(address != nullptr);
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (address->sa_family == AF_INET6) {
    static const uint8_t kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, kLoopback6, 16) == 0;
  }
  return false;
}

// mstcpip.h's SIO_TCP_INITIAL_RTO and TCP_INITIAL_RTO_PARAMETERS, written
// out: SDKs declare the no-retransmission value only for newer targets.
struct InitialRto {
  USHORT rtt;
  UCHAR max_syn_retransmissions;
};
constexpr DWORD kSioTcpInitialRto = _WSAIOW(IOC_VENDOR, 17);
constexpr USHORT kRttUnspecified = 0xFFFF;       // TCP_INITIAL_RTO_UNSPECIFIED_RTT: the system's
constexpr UCHAR kNoSynRetransmissions = 0xFE;    // TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS
static_assert(sizeof(InitialRto) == 4, "TCP_INITIAL_RTO_PARAMETERS' layout");

// Windows answers a SYN that a reset refused by sending it again, twice,
// and reports WSAECONNREFUSED only after that: about 2 s for a closed port
// on the loopback, where Linux and macOS (and Node's libuv, which does what
// follows) refuse at once. A loopback refusal is final, so the socket is
// told not to retransmit its SYN. Windows 10 1709 and later honour it; an
// older one, or Wine (whose TCP is Linux's and refuses at once anyway),
// rejects the ioctl, and the connect goes on as before.
void refuse_loopback_at_once(SOCKET socket) {
  TIGERIO_ASSERT(socket != INVALID_SOCKET);
  InitialRto parameters{kRttUnspecified, kNoSynRetransmissions};
  DWORD bytes = 0;
  ::WSAIoctl(socket, kSioTcpInitialRto, &parameters, sizeof(parameters), nullptr, 0, &bytes, nullptr, nullptr);
}

// AcceptEx writes both addresses, each with 16 bytes of its own overhead,
// and needs room for the largest address of the transport: sockaddr_in6
// for TCP, inside an op's scratch; SOCKADDR_UN for AF_UNIX, in a UnixBlock.
constexpr DWORD kAcceptAddressBytes = sizeof(sockaddr_in6) + 16;
constexpr DWORD kUnixAcceptAddressBytes = sizeof(win32::UnixAddress) + 16;

// What an AF_UNIX accept or connect needs the kernel to keep beyond an op's
// scratch: AcceptEx's two address areas (2 x 126 bytes), or the SOCKADDR_UN
// ConnectEx connects to (kept until the packet, not on the issuing stack).
// Pooled per backend (UnixBlocks): taken at the call, given back when the
// op concludes; a block is allocated only when every one made before is
// in use, so a steady load allocates nothing.
struct UnixBlock {
  union {
    uint8_t accept_addresses[2 * kUnixAcceptAddressBytes];
    win32::UnixAddress target;
  };
  UnixBlock* next_free;  // the pool's free list, while no op holds it
  UnixBlock* next_made;  // every block the pool made, to free them at its end
};

// What an op keeps in Op::scratch while the kernel has it. The OVERLAPPED
// is first, and Op::scratch is at a fixed offset in Op, so a dequeued
// OVERLAPPED* leads back to its op without a pointer stored beside it.
struct Scratch {
  OVERLAPPED overlapped;
  SOCKET accepted;  // accept: the socket AcceptEx accepts into (INVALID_SOCKET once handed on)
  uint8_t accept_addresses[2 * kAcceptAddressBytes];
};
static_assert(offsetof(Scratch, overlapped) == 0, "a dequeued OVERLAPPED* is its Scratch*");
static_assert(sizeof(Scratch) <= sizeof(Op::scratch), "an op's overlapped state fits its scratch (platform.h kOpScratchBytes)");
static_assert(alignof(Scratch) <= kOpScratchAlignment, "Op::scratch is aligned for Scratch");

Scratch* scratch_of(Op* op) { return std::launder(reinterpret_cast<Scratch*>(op->scratch)); }

// A processExit's scratch: the process handle is waited for by the thread
// pool (RegisterWaitForSingleObject), whose callback posts a kProcessKey
// packet to the port; the op is found again by its id, so a packet that
// comes after a cancel finds nothing.
struct ProcessWait {
  HANDLE process;
  HANDLE wait;
  HANDLE port;
  uint64_t id;
};
static_assert(sizeof(ProcessWait) <= sizeof(Op::scratch), "a process wait fits its scratch");
static_assert(alignof(ProcessWait) <= kOpScratchAlignment, "Op::scratch is aligned for a process wait");

ProcessWait* process_wait_of(Op* op) { return std::launder(reinterpret_cast<ProcessWait*>(op->scratch)); }

void CALLBACK on_process_exit(void* context, BOOLEAN timed_out) {
  (void)timed_out;  // INFINITE: never
  const ProcessWait* wait = static_cast<const ProcessWait*>(context);
  // Read before the post: once it is posted, the loop thread may move on (it
  // unregisters the wait first, which waits for this callback to return).
  const BOOL posted = ::PostQueuedCompletionStatus(wait->port, 0, kProcessKey,
                                                   reinterpret_cast<OVERLAPPED*>(static_cast<uintptr_t>(wait->id + 1)));
  TIGERIO_ASSERT(posted);
}

// Stops waiting and closes the handle: the callback is not running once this returns.
void end_process_wait(ProcessWait* wait) {
  if (wait->wait != nullptr) ::UnregisterWaitEx(wait->wait, INVALID_HANDLE_VALUE);
  if (wait->process != nullptr) ::CloseHandle(wait->process);
  wait->wait = nullptr;
  wait->process = nullptr;
}

Op* op_of(OVERLAPPED* overlapped) {
  TIGERIO_ASSERT(overlapped != nullptr);
  Op* op = reinterpret_cast<Op*>(reinterpret_cast<uint8_t*>(overlapped) - offsetof(Op, scratch));
  TIGERIO_ASSERT(&scratch_of(op)->overlapped == overlapped);
  return op;
}

// A fresh OVERLAPPED for a new overlapped call of `op`.
Scratch* prepare(Op* op) {
  // Nothing of a previous call left: its block (if any) was given back when it concluded.
  TIGERIO_ASSERT((op->backend_flags & (kInFlight | kUnixBlock)) == 0);
  Scratch* scratch = new (op->scratch) Scratch();
  scratch->accepted = INVALID_SOCKET;
  return scratch;
}

// A recvFrom's sender, which WSARecvFrom writes until the packet
// comes, in the Scratch bytes an accept would use for its addresses.
struct DatagramFrom {
  sockaddr_in6 from;
  INT length;
};
static_assert(sizeof(DatagramFrom) <= sizeof(Scratch::accept_addresses), "a sender fits an op's scratch");

DatagramFrom* datagram_from(Scratch* scratch) {
  return std::launder(reinterpret_cast<DatagramFrom*>(scratch->accept_addresses));
}

// The UnixBlock an AF_UNIX accept or connect holds (Op::backend_flags
// has kUnixBlock), in the Scratch bytes a TCP accept would use for its addresses.
struct UnixHold {
  UnixBlock* block;
};
static_assert(sizeof(UnixHold) <= sizeof(Scratch::accept_addresses), "a block pointer fits an op's scratch");

UnixHold* unix_hold(Scratch* scratch) { return std::launder(reinterpret_cast<UnixHold*>(scratch->accept_addresses)); }

// The error of a Winsock call on a handle this IO knows as a socket.
// WSAENOTSOCK there means the handle was closed behind the IO's back (the
// number is no socket any more): for the caller a closed fd, EBADF, as on
// POSIX (and as a number the IO never knew gets at issue()).
int32_t socket_call_error(int error) {
  TIGERIO_ASSERT(error != 0);
  return error == WSAENOTSOCK ? kErrBadFd : win32::map_error(static_cast<DWORD>(error));
}

// Files opened by any IO of this process and not yet closed. An fd number
// this IO did not make is accepted if it is a socket (any socket can be
// checked) or in this set: otherwise it could be any handle of node.exe,
// and closing or writing it would be a disaster, so it is EBADF. Open and
// close are not hot paths: the set may allocate.
struct FileRegistry {
  std::mutex mutex;
  std::unordered_set<int32_t> fds;
};

FileRegistry& file_registry() {
  static FileRegistry* registry = new FileRegistry();  // leaked: workers may use it at exit
  return *registry;
}

void file_registered(int32_t fd) {
  TIGERIO_ASSERT(fd >= 0);
  FileRegistry& registry = file_registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  // Already there only if a file of ours was closed behind the registry's
  // back and the handle value reused: the entry is right again either way.
  registry.fds.insert(fd);
}

void file_unregistered(int32_t fd) {
  TIGERIO_ASSERT(fd >= 0);
  FileRegistry& registry = file_registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.fds.erase(fd);
}

bool file_known(int32_t fd) {
  if (fd < 0) return false;
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

// An extension function (SIO_GET_EXTENSION_FUNCTION_POINTER) of the
// provider of `socket`, looked up once per process and provider at its first
// use: an IO that never needs it makes no call for it. Extension functions
// are the provider's (the documented rule): AF_UNIX sockets get the AF_UNIX
// provider's, never the TCP ones. nullptr: the provider has none.
template <typename Function>
Function extension_of(SOCKET socket, GUID guid, std::atomic<Function>* cached) {
  TIGERIO_ASSERT(socket != INVALID_SOCKET && cached != nullptr);
  Function function = cached->load(std::memory_order_acquire);
  if (function != nullptr) return function;
  DWORD bytes = 0;
  if (::WSAIoctl(socket, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &function, sizeof(function), &bytes,
                 nullptr, nullptr) != 0 ||
      function == nullptr) {
    return nullptr;
  }
  cached->store(function, std::memory_order_release);
  return function;
}

// TransmitFile (sendFile), for a socket of `family` (the IP provider's or
// the AF_UNIX provider's). nullptr: ENOTSUP.
LPFN_TRANSMITFILE transmit_file_of(SOCKET socket, int family) {
  static std::atomic<LPFN_TRANSMITFILE> ip{nullptr};
  static std::atomic<LPFN_TRANSMITFILE> unix_domain{nullptr};
  return extension_of(socket, WSAID_TRANSMITFILE, family == AF_UNIX ? &unix_domain : &ip);
}

// AcceptEx and ConnectEx of the AF_UNIX provider.
LPFN_ACCEPTEX unix_accept_ex_of(SOCKET socket) {
  static std::atomic<LPFN_ACCEPTEX> cached{nullptr};
  return extension_of(socket, WSAID_ACCEPTEX, &cached);
}
LPFN_CONNECTEX unix_connect_ex_of(SOCKET socket) {
  static std::atomic<LPFN_CONNECTEX> cached{nullptr};
  return extension_of(socket, WSAID_CONNECTEX, &cached);
}

int32_t load_extensions(Extensions* out) {
  TIGERIO_ASSERT(out != nullptr);
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
  TIGERIO_ASSERT(result < 0 || (out->accept_ex != nullptr && out->connect_ex != nullptr));
  return result;
}

// Milliseconds for a wait of timeout_ns (-1: INFINITE), rounded up so that
// no timer fires early.
DWORD wait_ms(int64_t timeout_ns) {
  TIGERIO_ASSERT(timeout_ns >= -1);
  if (timeout_ns < 0) return INFINITE;
  const int64_t ms = (timeout_ns + 999'999) / 1'000'000;
  const DWORD result = ms >= static_cast<int64_t>(INFINITE) ? INFINITE - 1 : static_cast<DWORD>(ms);
  TIGERIO_ASSERT(result != INFINITE && (timeout_ns == 0) == (result == 0));
  return result;
}

// GetQueuedCompletionStatusEx: the count dequeued, 0 on a timeout. Any other
// failure (a closed port, a bad argument) is a broken invariant: saying "no
// events" would make the loop spin or hang silently.
ULONG dequeue(HANDLE port, OVERLAPPED_ENTRY* entries, ULONG entries_max, DWORD timeout_ms) {
  TIGERIO_ASSERT(entries != nullptr && entries_max >= 1);
  ULONG count = 0;
  if (!::GetQueuedCompletionStatusEx(port, entries, entries_max, &count, timeout_ms, FALSE)) {
    const DWORD error = ::GetLastError();
    if (error != WAIT_TIMEOUT) {
      std::fprintf(stderr, "tigerio: iocp wait failed with Windows error %lu\n", static_cast<unsigned long>(error));
      TIGERIO_ASSERT(error == WAIT_TIMEOUT);
    }
    return 0;
  }
  TIGERIO_ASSERT(count >= 1 && count <= entries_max);
  return count;
}

class IocpBackend final : public Backend, public IocpWaiter {
 public:
  IocpBackend(Loop* loop, HANDLE port, uint32_t entries_max, const Extensions& extensions, uint32_t file_threads)
      : Backend(loop),
        port_(port),
        extensions_(extensions),
        entries_(entries_max),
        waiter_entries_(entries_max),
        handoff_(entries_max) {
    pool_.reset(new ThreadPool(file_threads, &IocpBackend::run_pooled, &IocpBackend::wake_from_pool, this));
    TIGERIO_ASSERT(entries_max >= 1 && entries_max <= kEntriesMax);
    TIGERIO_ASSERT(port != nullptr && extensions.accept_ex != nullptr && extensions.connect_ex != nullptr);
  }

  ~IocpBackend() override;

  const char* name() const override { return "iocp"; }
  void issue(Op* op, FdEntry* entry) override;
  void cancel(Op* op, FdEntry* entry) override;
  void fd_opened(int32_t fd, FdEntry& entry) override;
  int32_t close(int32_t fd, FdEntry* entry) override;
  void wait(int64_t timeout_ns) override;
  void wait_port(int64_t timeout_ns);
  void wake() override {
    // One wake packet in the port at a time is enough: whoever dequeues it
    // clears the flag and then looks at what the wake was for.
    if (!wake_posted_.exchange(true)) {
      const BOOL posted = ::PostQueuedCompletionStatus(port_, 0, kWakeKey, nullptr);
      TIGERIO_ASSERT(posted);  // fails only on a closed port or out of memory
    }
  }
  // A completion port is not an fd: attach() on Windows uses the waiter.
  int poll_fd() const override { return -1; }

  int listen(const char* host, int port, int backlog, bool reuse_port) override;
  int socket(bool ipv6) override;
  int udp_socket(bool ipv6) override;
  int listen_unix(const char* path, uint32_t path_length, int backlog) override;
  int unix_socket() override;
  int bind(int fd, const char* host, int port) override { return win32::bind(fd, host, port); }
  int address(int fd, bool peer, char* out, size_t out_size, int* port, int* family) override {
    TIGERIO_ASSERT(out != nullptr && port != nullptr && family != nullptr);
    return win32::address(fd, peer, out, out_size, port, family);
  }
  int shutdown(int fd, bool send, bool receive) override {
    TIGERIO_ASSERT(send || receive);
    return win32::shutdown(fd, send, receive);
  }
  // Windows has no TCP_CORK or TCP_NOPUSH (and Nagle is no cork: it sends
  // a partial segment whenever nothing is unacknowledged): the call checks
  // the fd as every backend does and holds nothing back.
  int set_cork(int fd, bool on) override {
    (void)on;
    return win32::check_tcp_socket(fd, file_known(fd));
  }
  int32_t refuse_self_connection(int fd, const AddressStorage& target) override {
    return win32::refuse_self_connection(fd, target);
  }

  bool waiter_start(Notify notify, void* context) override;
  void waiter_stop() override;
  void waiter_consume() override;
  void waiter_rearm() override;

 private:
  enum class Kind : uint8_t { unknown = 0, socket = 1, file = 2 };

  // What the backend keeps in FdEntry::backend: zero (Kind::unknown) when
  // the number starts a new life with this IO.
  struct FdState {
    int64_t file_position;  // a file's "current position"
    uint16_t family;        // a socket's AF_INET/AF_INET6/AF_UNIX (AcceptEx, connectUnix, TransmitFile); 0 unknown
    Kind kind;
    uint8_t associated;       // with this IO's port
    uint8_t skip_on_success;  // FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is set on the handle
    uint8_t append;           // a file opened for appending
    uint8_t listening;        // a socket known to listen (AcceptEx on another would wait forever)
  };

  // What the backend knows of a fd it is about to hand to the core (accept,
  // open, listen, socket): fd_opened() copies it into the fd's fresh entry.
  struct Opening {
    int32_t fd = -1;
    Kind kind = Kind::unknown;
    uint16_t family = 0;
    bool append = false;
    bool listening = false;
  };

  static FdState& state_of(FdEntry& entry) { return entry.backend_state<FdState>(); }
  void note_opening(int32_t fd, Kind kind, int family, bool append, bool listening) {
    TIGERIO_ASSERT(fd >= 0 && kind != Kind::unknown);
    TIGERIO_ASSERT(family == 0 || family == AF_INET || family == AF_INET6 || family == AF_UNIX);
    TIGERIO_ASSERT(kind == Kind::socket || family == 0);
    opening_ = Opening{fd, kind, static_cast<uint16_t>(family), append, listening};
  }

  void issue_fd_op(Op* op, FdEntry& entry);
  // The blocking calls (CreateFileW, FlushFileBuffers, SetFileInformationByHandle, MoveFileExW, ...)
  // on the thread pool: the call (a pool thread), its wake-up, its completion (the loop thread).
  static bool pooled(OpKind kind);
  static int64_t run_pooled(Op* op, void* context);
  static void wake_from_pool(void* context) { static_cast<IocpBackend*>(context)->wake(); }
  static void finish_pooled(Op* op, int64_t result, void* data);
  static int64_t open_file(const OpenArgs& open);
  void issue_process_exit(Op* op);
  void process_exited(uint64_t id);
  void run(Op* op, FdEntry& entry);
  int32_t associate(int32_t fd, FdState& state);
  int32_t in_flight(Op* op) {
    TIGERIO_ASSERT((op->backend_flags & kInFlight) == 0);
    op->backend_flags |= kInFlight;
    inflight_++;
    return kPending;
  }
  int32_t start(Op* op, FdState& state);
  int32_t start_transfer(Op* op, FdState& state);
  int32_t start_pooled(Op* op, FdState& state);
  int32_t receive_pooled(Op* op);
  int32_t start_accept(Op* op, FdState& state);
  int32_t start_connect(Op* op, FdState& state);
  int32_t start_connect_unix(Op* op, FdState& state);
  int32_t unix_connect_failed(Op* op, int32_t result);
  static uint16_t family_of(int32_t fd, FdState& state);
  UnixBlock* take_unix_block(Op* op);
  void give_back_unix_block(Op* op);
  int32_t start_file(Op* op, FdState& state);
  int32_t start_datagram(Op* op, FdState& state);
  int32_t socket_started(Op* op, const FdState& state, int rc, DWORD bytes, ULONG length);
  int32_t connect_datagram(Op* op, const AddressStorage& address);
  int32_t start_send_file(Op* op, FdState& state);
  int32_t conclude(Op* op, FdState& state, int32_t result);
  int32_t packet_result(Op* op, const OVERLAPPED_ENTRY& entry);
  void process(const OVERLAPPED_ENTRY* entries, ULONG count);
  void finished(Op* op, int32_t result);
  void finished_abandoned(Op* op);
  bool take_handoff();
  bool release_waiter();
  void waiter_main();

  const HANDLE port_;
  const Extensions extensions_;
  std::vector<OVERLAPPED_ENTRY> entries_;
  uint32_t inflight_ = 0;  // ops whose OVERLAPPED the kernel has (kInFlight), all fds
  // The pool of UnixBlocks: every one made (through next_made,
  // freed at destruction), the free ones (through next_free), and counts.
  UnixBlock* unix_made_ = nullptr;
  UnixBlock* unix_free_ = nullptr;
  uint32_t unix_blocks_made_ = 0;
  uint32_t unix_blocks_held_ = 0;
  Opening opening_;
  std::atomic<bool> wake_posted_{false};
  // Joined first in the destructor: its threads post to port_.
  std::unique_ptr<ThreadPool> pool_;

  // attach(): the waiter thread and what it hands to the loop thread.
  // handoff_ belongs to the waiter while !handoff_pending_, to the loop
  // thread while handoff_pending_; the rest is under waiter_mutex_. A
  // hand-over stays pending (the waiter parked) after the loop thread has
  // taken its entries, until release_waiter(): after the round's dispatch,
  // when the timers it made due have fired and the nearest deadline is new.
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
  int64_t waiter_deadline_ns_ = -1;   // the nearest deadline the waiter must wake for (-1: none)
  int64_t waiter_sleep_ns_ = kAwake;  // the deadline it is sleeping toward now (-1: none)
};

// ---- fds ---------------------------------------------------------------------

void IocpBackend::fd_opened(int32_t fd, FdEntry& entry) {
  TIGERIO_ASSERT(fd >= 0);
  FdState& state = state_of(entry);
  TIGERIO_ASSERT(state.kind == Kind::unknown && state.associated == 0);  // zeroed by the core
  // Every fd the core learns of came from this backend an instant ago
  // (accept, open, listen, socket), which noted what it is.
  TIGERIO_ASSERT(opening_.fd == fd);
  state.kind = opening_.kind;
  state.family = opening_.family;
  state.append = opening_.append ? 1 : 0;
  state.listening = opening_.listening ? 1 : 0;
  opening_ = Opening{};
  TIGERIO_ASSERT(state.kind != Kind::unknown);
}

int IocpBackend::listen(const char* host, int port, int backlog, bool reuse_port) {
  TIGERIO_ASSERT(host != nullptr && backlog >= 1);
  const int fd = win32::listen(host, port, backlog, reuse_port);
  if (fd >= 0) note_opening(fd, Kind::socket, win32::socket_family(fd), false, true);
  return fd;
}

int IocpBackend::socket(bool ipv6) {
  const int fd = win32::socket(ipv6);
  if (fd >= 0) note_opening(fd, Kind::socket, ipv6 ? AF_INET6 : AF_INET, false, false);
  return fd;
}

int IocpBackend::udp_socket(bool ipv6) {
  const int fd = win32::udp_socket(ipv6);
  if (fd >= 0) note_opening(fd, Kind::socket, ipv6 ? AF_INET6 : AF_INET, false, false);
  return fd;
}

int IocpBackend::listen_unix(const char* path, uint32_t path_length, int backlog) {
  TIGERIO_ASSERT(path != nullptr && path_length >= 1 && path_length <= unix_path_max() && backlog >= 1);
  const int fd = win32::listen_unix(path, path_length, backlog);
  if (fd >= 0) note_opening(fd, Kind::socket, AF_UNIX, false, true);
  return fd;
}

int IocpBackend::unix_socket() {
  const int fd = win32::unix_socket();
  if (fd >= 0) note_opening(fd, Kind::socket, AF_UNIX, false, false);
  return fd;
}

// ---- The UnixBlock pool ----------------------------------------------------------

// A block for `op` (recorded in its scratch, which prepare() made just
// before), or nullptr when none can be made (ENOMEM).
UnixBlock* IocpBackend::take_unix_block(Op* op) {
  TIGERIO_ASSERT((op->backend_flags & (kUnixBlock | kInFlight)) == 0);
  TIGERIO_ASSERT(op->kind == OpKind::accept || op->kind == OpKind::connect_unix);
  UnixBlock* block = unix_free_;
  if (block != nullptr) {
    unix_free_ = block->next_free;
  } else {
    // Only when every block made is held: more AF_UNIX accepts and
    // connects in flight at once than ever before on this IO.
    TIGERIO_ASSERT(unix_blocks_held_ == unix_blocks_made_);
    block = new (std::nothrow) UnixBlock();
    if (block == nullptr) return nullptr;
    block->next_made = unix_made_;
    unix_made_ = block;
    unix_blocks_made_++;
  }
  block->next_free = nullptr;
  std::memset(block->accept_addresses, 0, sizeof(block->accept_addresses));
  static_assert(sizeof(block->accept_addresses) >= sizeof(block->target), "the addresses cover the union");
  unix_hold(scratch_of(op))->block = block;
  op->backend_flags |= kUnixBlock;
  unix_blocks_held_++;
  TIGERIO_ASSERT(unix_blocks_held_ <= unix_blocks_made_);
  return block;
}

// The op's block back to the pool, if it holds one; only once the kernel
// has given the op back (its packet came, or the call failed at once).
void IocpBackend::give_back_unix_block(Op* op) {
  if ((op->backend_flags & kUnixBlock) == 0) return;
  TIGERIO_ASSERT((op->backend_flags & kInFlight) == 0 && unix_blocks_held_ > 0);
  UnixHold* hold = unix_hold(scratch_of(op));
  UnixBlock* block = hold->block;
  TIGERIO_ASSERT(block != nullptr);
  hold->block = nullptr;
  block->next_free = unix_free_;
  unix_free_ = block;
  op->backend_flags &= static_cast<uint8_t>(~kUnixBlock);
  unix_blocks_held_--;
}

int32_t IocpBackend::close(int32_t fd, FdEntry* entry) {
  TIGERIO_ASSERT(entry == nullptr || (entry->queues[0].empty() && entry->queues[1].empty()));
  Kind kind = entry != nullptr ? state_of(*entry).kind : Kind::unknown;
  if (kind == Kind::unknown) {
    // Not used by this IO yet (or beyond its table): only a socket or a file
    // of this process's IOs may be closed, never any other handle of node.exe.
    if (fd >= 0 && win32::is_socket(fd)) {
      kind = Kind::socket;
    } else if (file_known(fd)) {
      kind = Kind::file;
    } else {
      return kErrBadFd;
    }
  }
  // Synchronous: the core calls this only once nothing of this IO is in
  // flight on the handle, so no packet of ours can still name it.
  if (kind == Kind::socket) return ::closesocket(as_socket(fd)) == 0 ? 0 : win32::socket_error();
  TIGERIO_ASSERT(kind == Kind::file);
  file_unregistered(fd);
  return ::CloseHandle(as_handle(fd)) ? 0 : win32::last_error();
}

// ---- issuing -------------------------------------------------------------------

void IocpBackend::issue(Op* op, FdEntry* entry) {
  TIGERIO_ASSERT(op->state == OpState::pending && (op->core_flags & kOpIssued) != 0);
  TIGERIO_ASSERT(op->backend_flags == 0);
  switch (op->kind) {
    case OpKind::accept:
    case OpKind::connect:
    case OpKind::recv:
    case OpKind::send:
    case OpKind::read:
    case OpKind::write:
    case OpKind::send_to:
    case OpKind::recv_from:
    case OpKind::send_file:
    case OpKind::connect_unix:
    case OpKind::recv_pooled:
      TIGERIO_ASSERT(entry != nullptr);
      issue_fd_op(op, *entry);
      return;
    case OpKind::process_exit:
      TIGERIO_ASSERT(entry == nullptr);
      issue_process_exit(op);
      return;
    default:
      break;
  }
  if (pooled(op->kind)) {
    // Windows has no overlapped open, flush, size, truncate, rename...:
    // they block, so they run on the pool. A file op is its fd's head: the
    // ops before it are done, the ones after it wait in the core.
    TIGERIO_ASSERT((entry == nullptr) == op_is_path_op(op->kind));
    if (entry != nullptr && state_of(*entry).kind == Kind::unknown && !file_known(op->fd)) {
      loop_->complete(op, kErrBadFd);  // not a file this process opened
      return;
    }
    pool_->submit(op);
    return;
  }
  TIGERIO_ASSERT(false && "operation kind the core keeps");
}

void IocpBackend::issue_process_exit(Op* op) {
  ProcessWait* wait = new (op->scratch) ProcessWait{nullptr, nullptr, port_, op->id()};
  wait->process = ::OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
                                static_cast<DWORD>(op->args.process_exit.pid));
  if (wait->process == nullptr) {
    const DWORD error = ::GetLastError();
    // ERROR_INVALID_PARAMETER: no process has that id (any more).
    loop_->complete(op, error == ERROR_INVALID_PARAMETER ? kErrNoSuchProcess : win32::map_error(error));
    return;
  }
  if (!::RegisterWaitForSingleObject(&wait->wait, wait->process, on_process_exit, wait, INFINITE,
                                     WT_EXECUTEONLYONCE)) {
    const DWORD error = ::GetLastError();
    wait->wait = nullptr;
    end_process_wait(wait);
    loop_->complete(op, win32::map_error(error));
    return;
  }
  in_flight(op);
}

// A kProcessKey packet: the process of the op with this id exited.
void IocpBackend::process_exited(uint64_t id) {
  Op* op = loop_->find_pending(id);
  if (op == nullptr || op->kind != OpKind::process_exit) return;  // cancelled before its packet came
  ProcessWait* wait = process_wait_of(op);
  DWORD code = 0;
  const bool known = ::GetExitCodeProcess(wait->process, &code) != 0 && code != STILL_ACTIVE;
  end_process_wait(wait);
  op->backend_flags &= static_cast<uint8_t>(~kInFlight);
  inflight_--;
  if (known) {
    loop_->complete_exit_code(op, code);
  } else {
    loop_->complete(op, kExitUnknown);
  }
}

void IocpBackend::issue_fd_op(Op* op, FdEntry& entry) {
  TIGERIO_ASSERT(&loop_->fds().at(op->fd) == &entry);
  FdState& state = state_of(entry);
  if (state.kind == Kind::unknown) {
    // Not made by this IO: a socket from elsewhere (an accept on another
    // thread's IO), or a file another IO of this process opened.
    if (win32::is_socket(op->fd)) {
      state.kind = Kind::socket;
    } else if (file_known(op->fd)) {
      state.kind = Kind::file;
    } else {
      loop_->complete(op, kErrBadFd);
      return;
    }
  }
  const bool socket_op = op_is_socket_op(op->kind);
  if (socket_op && state.kind != Kind::socket) {
    loop_->complete(op, kErrNotSocket);
    return;
  }
  if (!socket_op && state.kind != Kind::file) {
    // read/write on a socket: use recv/send (Linux would allow read() but
    // not a positioned one; one meaning per operation keeps it simple).
    loop_->complete(op, kErrInvalid);
    return;
  }
  const int32_t associated = associate(op->fd, state);
  if (associated < 0) {
    loop_->complete(op, associated);
    return;
  }
  run(op, entry);
}

// Starts `op`, and starts it again while it asks to be retried (an accept
// whose connection died in the backlog), until it is in the kernel or done.
void IocpBackend::run(Op* op, FdEntry& entry) {
  TIGERIO_ASSERT(op->state == OpState::pending && (op->backend_flags & kInFlight) == 0);
  FdState& state = state_of(entry);
  TIGERIO_ASSERT(state.associated != 0);
  for (uint32_t attempt = 1;; attempt++) {
    int32_t result = start(op, state);
    if (result == kPending) {
      TIGERIO_ASSERT((op->backend_flags & kInFlight) != 0);
      return;
    }
    result = conclude(op, state, result);
    if (result == kParked) {
      loop_->pool_park(op);
      return;
    }
    if (result == kRetry) {
      if (attempt < kAcceptRetriesMax) continue;
      result = kErrConnectionAborted;
    }
    TIGERIO_ASSERT(result != kPending && result != kRetry);
    // The last touch of op here: the core may issue the fd's next op, or
    // free this one, inside complete().
    loop_->complete(op, result);
    return;
  }
}

int32_t IocpBackend::associate(int32_t fd, FdState& state) {
  TIGERIO_ASSERT(state.kind != Kind::unknown);
  if (state.associated != 0) return 0;
  const HANDLE handle = as_handle(fd);
  if (::CreateIoCompletionPort(handle, port_, kIoKey, 0) == nullptr) {
    // ERROR_INVALID_PARAMETER: bound to another IO's port already.
    return win32::last_error();
  }
  state.associated = 1;
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
  state.skip_on_success = ::SetFileCompletionNotificationModes(handle, modes) && skip ? 1 : 0;
  TIGERIO_ASSERT(state.associated != 0);
  return 0;
}

// One overlapped call for op: kPending (a packet will come), or its result
// now (a failure, or a success that posts no packet).
int32_t IocpBackend::start(Op* op, FdState& state) {
  TIGERIO_ASSERT(state.associated != 0 && (op->backend_flags & kInFlight) == 0);
  int32_t result = kErrInvalid;
  switch (op->kind) {
    case OpKind::accept:
      result = start_accept(op, state);
      break;
    case OpKind::connect:
      result = start_connect(op, state);
      break;
    case OpKind::recv:
    case OpKind::send:
      result = start_transfer(op, state);
      break;
    case OpKind::read:
    case OpKind::write:
      result = start_file(op, state);
      break;
    case OpKind::send_to:
    case OpKind::recv_from:
      result = start_datagram(op, state);
      break;
    case OpKind::send_file:
      result = start_send_file(op, state);
      break;
    case OpKind::connect_unix:
      result = start_connect_unix(op, state);
      break;
    case OpKind::recv_pooled:
      result = start_pooled(op, state);
      break;
    default:
      TIGERIO_ASSERT(false && "not an fd operation");
  }
  TIGERIO_ASSERT((result == kPending) == ((op->backend_flags & kInFlight) != 0));
  return result;
}

// What an overlapped socket call (WSARecv, WSASend, WSASendTo, WSARecvFrom)
// that returned rc means: done at once with `bytes` (only where completions
// of success are skipped: else a packet comes for it too), in flight, or failed.
int32_t IocpBackend::socket_started(Op* op, const FdState& state, int rc, DWORD bytes, ULONG length) {
  TIGERIO_ASSERT((op->backend_flags & kInFlight) == 0);
  if (rc == 0) {
    if (state.skip_on_success == 0) return in_flight(op);
    TIGERIO_ASSERT(bytes <= length);
    return static_cast<int32_t>(bytes);
  }
  const int error = ::WSAGetLastError();
  if (error == WSA_IO_PENDING) return in_flight(op);
  return socket_call_error(error);
}

int32_t IocpBackend::start_transfer(Op* op, FdState& state) {
  TransferArgs& transfer = op->transfer();
  TIGERIO_ASSERT(transfer.length == 0 || transfer.buffer != nullptr);
  // A listening socket has no peer to send to or receive from: Windows
  // answers WSAENOTCONN at once; Wine queues the call and never completes
  // it (measured), and the listener's accepts would wait behind it.
  if (state.listening != 0) return kErrNotConnected;
  Scratch* scratch = prepare(op);
  // Winsock copies the WSABUF array before returning: a local is fine.
  WSABUF buffer;
  buffer.len = op->kind == OpKind::send ? std::min(transfer.length, kSendChunkMax) : transfer.length;
  buffer.buf = reinterpret_cast<char*>(transfer.buffer);
  DWORD bytes = 0;
  DWORD flags = 0;
  const int rc = op->kind == OpKind::recv
                     ? ::WSARecv(as_socket(op->fd), &buffer, 1, &bytes, &flags, &scratch->overlapped, nullptr)
                     : ::WSASend(as_socket(op->fd), &buffer, 1, &bytes, 0, &scratch->overlapped, nullptr);
  return socket_started(op, state, rc, bytes, buffer.len);
}

// A pooled receive waits with a zero-byte overlapped WSARecv, which holds
// no buffer and completes once the socket has data (or its end, or an
// error); conclude() then takes a buffer and receives without blocking.
int32_t IocpBackend::start_pooled(Op* op, FdState& state) {
  if (state.listening != 0) return kErrNotConnected;  // as start_transfer
  Scratch* scratch = prepare(op);
  WSABUF buffer;
  buffer.len = 0;
  buffer.buf = nullptr;
  DWORD bytes = 0;
  DWORD flags = 0;
  const int rc = ::WSARecv(as_socket(op->fd), &buffer, 1, &bytes, &flags, &scratch->overlapped, nullptr);
  return socket_started(op, state, rc, bytes, 0);
}

// The zero-byte receive came back: a buffer of the pool, then a receive
// that cannot block. kParked when the pool is empty (the data waits in the
// socket), kRetry when there was nothing after all (wait again). The socket
// stays blocking (Wine fails overlapped calls on a non-blocking socket with
// WSAEWOULDBLOCK): with bytes waiting (FIONREAD) a recv returns at once;
// without, the completion meant the end of stream or an error, and the recv
// runs non-blocking for that one call, in case it meant nothing.
int32_t IocpBackend::receive_pooled(Op* op) {
  const SOCKET socket = as_socket(op->fd);
  u_long available = 0;
  if (::ioctlsocket(socket, FIONREAD, &available) != 0) return socket_call_error(::WSAGetLastError());
  if (!loop_->pool_take(op)) return kParked;
  const BufferPool& pool = loop_->pool(op->args.recv_pooled.pool);
  char* data = reinterpret_cast<char*>(pool.data(op->args.recv_pooled.buffer));
  int received = 0;
  int error = 0;
  if (available > 0) {
    received = ::recv(socket, data, static_cast<int>(pool.size), 0);
    if (received < 0) error = ::WSAGetLastError();
  } else {
    u_long on = 1;
    u_long off = 0;
    ::ioctlsocket(socket, FIONBIO, &on);
    received = ::recv(socket, data, static_cast<int>(pool.size), 0);
    if (received < 0) error = ::WSAGetLastError();
    ::ioctlsocket(socket, FIONBIO, &off);
  }
  if (received >= 0) return received;
  if (error == WSAEWOULDBLOCK) {
    loop_->pool_untake(op);
    return kRetry;
  }
  const int32_t result = socket_call_error(error);
  return result == kErrPipe ? 0 : result;  // after shutdown(receive): end of stream, as POSIX reads
}

// Connect() of a UDP socket (ConnectEx is for connection-oriented
// sockets only). It only sets the peer, at once. A connected UDP socket then
// reports an ICMP "port unreachable" to its next operation, as Linux does
// (udp_socket() turned that off for the unconnected socket).
int32_t IocpBackend::connect_datagram(Op* op, const AddressStorage& address) {
  TIGERIO_ASSERT(op->kind == OpKind::connect && address.length > 0);
  const SOCKET socket = as_socket(op->fd);
  if (::connect(socket, reinterpret_cast<const sockaddr*>(address.bytes), static_cast<int>(address.length)) != 0) {
    return socket_call_error(::WSAGetLastError());
  }
  BOOL report = TRUE;
  DWORD bytes = 0;
  ::WSAIoctl(socket, SIO_UDP_CONNRESET, &report, sizeof(report), nullptr, 0, &bytes, nullptr, nullptr);
  TIGERIO_ASSERT((op->backend_flags & kInFlight) == 0);
  return 0;
}

// One datagram (WSASendTo, WSARecvFrom).
int32_t IocpBackend::start_datagram(Op* op, FdState& state) {
  TIGERIO_ASSERT(op->kind == OpKind::send_to || op->kind == OpKind::recv_from);
  Scratch* scratch = prepare(op);
  WSABUF buffer;  // copied by Winsock before the call returns
  DWORD bytes = 0;
  int rc = 0;
  if (op->kind == OpKind::send_to) {
    const SendToArgs& args = op->args.send_to;
    buffer.len = args.length;
    buffer.buf = reinterpret_cast<char*>(args.buffer);
    const auto* to = reinterpret_cast<const sockaddr*>(args.address);
    const int to_length = to->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    rc = ::WSASendTo(as_socket(op->fd), &buffer, 1, &bytes, 0, to, to_length, &scratch->overlapped, nullptr);
  } else {
    const RecvFromArgs& args = op->args.recv_from;
    buffer.len = args.length;
    buffer.buf = reinterpret_cast<char*>(args.buffer);
    DatagramFrom* from = datagram_from(scratch);
    std::memset(from, 0, sizeof(*from));
    from->length = sizeof(from->from);
    DWORD flags = 0;
    // The sender and its length are written when the datagram comes: they live in the op.
    rc = ::WSARecvFrom(as_socket(op->fd), &buffer, 1, &bytes, &flags, reinterpret_cast<sockaddr*>(&from->from),
                       &from->length, &scratch->overlapped, nullptr);
  }
  return socket_started(op, state, rc, bytes, buffer.len);
}

// SendFile with TransmitFile, from the op's offset (the
// OVERLAPPED's), at most kSendChunkMax bytes per call for the reason
// WSASend is bounded (see there): a partial result, as sendfile(2) may give.
int32_t IocpBackend::start_send_file(Op* op, FdState& state) {
  TIGERIO_ASSERT(op->kind == OpKind::send_file);
  const SendFileArgs& args = op->args.send_file;
  // Only a file an IO of this process opened: any other number may be any handle of node.exe.
  if (!file_known(args.file_fd)) return kErrBadFd;
  const LPFN_TRANSMITFILE transmit_file = transmit_file_of(as_socket(op->fd), family_of(op->fd, state));
  if (transmit_file == nullptr) return kErrNotSupported;
  Scratch* scratch = prepare(op);
  const uint64_t offset = static_cast<uint64_t>(args.offset);
  scratch->overlapped.Offset = static_cast<DWORD>(offset);
  scratch->overlapped.OffsetHigh = static_cast<DWORD>(offset >> 32);
  const DWORD length = std::min(args.length, kSendChunkMax);
  if (transmit_file(as_socket(op->fd), as_handle(args.file_fd), length, 0, &scratch->overlapped, nullptr, 0)) {
    if (state.skip_on_success == 0) return in_flight(op);
    // Done at once: TransmitFile says how much only through the OVERLAPPED.
    DWORD bytes = 0;
    DWORD flags = 0;
    if (!::WSAGetOverlappedResult(as_socket(op->fd), &scratch->overlapped, &bytes, FALSE, &flags)) {
      return socket_call_error(::WSAGetLastError());
    }
    TIGERIO_ASSERT(bytes <= length);
    return static_cast<int32_t>(bytes);
  }
  const int error = ::WSAGetLastError();
  if (error == WSA_IO_PENDING || error == ERROR_IO_PENDING) return in_flight(op);
  return socket_call_error(error);
}

int32_t IocpBackend::start_accept(Op* op, FdState& state) {
  TIGERIO_ASSERT(op->kind == OpKind::accept && state.kind == Kind::socket);
  // First: conclude() reads `accepted` whatever this returns.
  Scratch* scratch = prepare(op);
  if (state.listening == 0) {
    // A datagram socket never listens: EOPNOTSUPP, as Linux and Windows say
    // (Wine says WSAEINVAL). Asked first: Windows answers SO_ACCEPTCONN for
    // connection-oriented sockets only.
    if (win32::is_datagram(op->fd)) return kErrNotSupported;
    // AcceptEx on a socket that does not listen may wait instead of failing
    // (it does under Wine): ask first, as POSIX accept fails with EINVAL.
    BOOL listening = FALSE;
    int size = sizeof(listening);
    if (::getsockopt(as_socket(op->fd), SOL_SOCKET, SO_ACCEPTCONN, reinterpret_cast<char*>(&listening), &size) != 0) {
      return socket_call_error(::WSAGetLastError());
    }
    if (!listening) return kErrInvalid;
    state.listening = 1;
  }
  // The accepted socket must have the listener's family (TigerBeetle's IPv6 bug).
  if (state.family == 0) state.family = static_cast<uint16_t>(win32::socket_family(op->fd));
  if (state.family == 0) return kErrInvalid;  // not bound: not listening either
  const bool unix_domain = state.family == AF_UNIX;
  if (!unix_domain && state.family != AF_INET && state.family != AF_INET6) return kErrAddressFamily;
  // An AF_UNIX listener accepts with its own provider's AcceptEx.
  const LPFN_ACCEPTEX accept_ex = unix_domain ? unix_accept_ex_of(as_socket(op->fd)) : extensions_.accept_ex;
  if (accept_ex == nullptr) return kErrNotSupported;
  const SOCKET accepted = unix_domain ? win32::new_unix_socket() : win32::new_socket(state.family);
  if (accepted == INVALID_SOCKET) return win32::socket_error();
  scratch->accepted = accepted;
  uint8_t* addresses = scratch->accept_addresses;
  DWORD address_bytes = kAcceptAddressBytes;
  if (unix_domain) {
    // 2 x (SOCKADDR_UN + 16) bytes: more than the scratch has (a block of the pool).
    UnixBlock* block = take_unix_block(op);
    if (block == nullptr) {
      ::closesocket(accepted);
      scratch->accepted = INVALID_SOCKET;
      return kErrNoMemory;
    }
    addresses = block->accept_addresses;
    address_bytes = kUnixAcceptAddressBytes;
    static_assert(sizeof(block->accept_addresses) == 2 * kUnixAcceptAddressBytes, "room for both addresses");
  }
  static_assert(sizeof(scratch->accept_addresses) == 2 * kAcceptAddressBytes, "room for both addresses");
  DWORD bytes = 0;
  if (accept_ex(as_socket(op->fd), accepted, addresses, 0, address_bytes, address_bytes, &bytes,
                &scratch->overlapped)) {
    return state.skip_on_success != 0 ? 0 : in_flight(op);
  }
  const int error = ::WSAGetLastError();
  if (error == ERROR_IO_PENDING) return in_flight(op);
  ::closesocket(accepted);
  scratch->accepted = INVALID_SOCKET;
  return socket_call_error(error);
}

int32_t IocpBackend::start_connect(Op* op, FdState& state) {
  TIGERIO_ASSERT(op->kind == OpKind::connect && state.kind == Kind::socket);
  const AddressStorage& address = op->args.connect.address;
  TIGERIO_ASSERT(address.length > 0 && address.length <= sizeof(address.bytes));
  const auto* target = reinterpret_cast<const sockaddr*>(address.bytes);
  const int32_t mismatch = win32::family_mismatch(family_of(op->fd, state), target->sa_family);
  if (mismatch != 0) return mismatch;
  if (win32::is_datagram(op->fd)) return connect_datagram(op, address);
  // ConnectEx wants a bound socket: bind to the wildcard address and port 0.
  // WSAEINVAL: bound already (a second connect, or bound by its owner).
  sockaddr_storage any{};
  any.ss_family = target->sa_family;
  const int any_size = target->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::bind(as_socket(op->fd), reinterpret_cast<const sockaddr*>(&any), any_size) != 0) {
    const int error = ::WSAGetLastError();
    if (error != WSAEINVAL) return socket_call_error(error);
  }
  if (is_loopback(target)) refuse_loopback_at_once(as_socket(op->fd));
  Scratch* scratch = prepare(op);
  DWORD bytes = 0;
  if (extensions_.connect_ex(as_socket(op->fd), target, static_cast<int>(address.length), nullptr, 0, &bytes,
                             &scratch->overlapped)) {
    return state.skip_on_success != 0 ? 0 : in_flight(op);
  }
  const int error = ::WSAGetLastError();
  if (error == ERROR_IO_PENDING) return in_flight(op);
  return socket_call_error(error);
}

// The address family of a socket fd (noted at its making, or asked of its provider once).
uint16_t IocpBackend::family_of(int32_t fd, FdState& state) {
  TIGERIO_ASSERT(state.kind == Kind::socket);
  if (state.family == 0) state.family = static_cast<uint16_t>(win32::protocol_family(fd));
  return state.family;
}

// ConnectUnix with the AF_UNIX provider's ConnectEx. A local
// connect does not wait on a network, but it still goes through the port as
// any connect (a full backlog makes it wait, as on Linux a blocking connect).
int32_t IocpBackend::start_connect_unix(Op* op, FdState& state) {
  TIGERIO_ASSERT(op->kind == OpKind::connect_unix && state.kind == Kind::socket);
  const ConnectUnixArgs& args = op->args.connect_unix;
  TIGERIO_ASSERT(args.path != nullptr && args.path_length >= 1 && args.path_length <= unix_path_max());
  // Only an AF_UNIX socket connects to a path; any other (a TCP socket, or
  // any socket where this Windows has no AF_UNIX) is EAFNOSUPPORT, as
  // Linux's connect(2) says for it.
  if (family_of(op->fd, state) != AF_UNIX) return kErrAddressFamily;
  const SOCKET socket = as_socket(op->fd);
  const LPFN_CONNECTEX connect_ex = unix_connect_ex_of(socket);
  if (connect_ex == nullptr) return kErrNotSupported;
  // ConnectEx wants a bound socket. An AF_UNIX socket binds to the unnamed
  // address (the family alone), which names no file, so nothing is left to
  // remove. WSAEINVAL: bound already (a second connect: ConnectEx then says
  // WSAEISCONN) or, should a Windows want the unnamed address spelled as the
  // whole structure with an empty path, not bound yet: then that form.
  win32::UnixAddress unnamed;
  std::memset(&unnamed, 0, sizeof(unnamed));
  unnamed.family = AF_UNIX;
  const auto* unnamed_address = reinterpret_cast<const sockaddr*>(&unnamed);
  if (::bind(socket, unnamed_address, static_cast<int>(sizeof(unnamed.family))) != 0) {
    const int error = ::WSAGetLastError();
    if (error != WSAEINVAL) return socket_call_error(error);
    sockaddr_storage bound{};
    int bound_size = sizeof(bound);
    if (::getsockname(socket, reinterpret_cast<sockaddr*>(&bound), &bound_size) != 0 &&
        ::bind(socket, unnamed_address, static_cast<int>(sizeof(unnamed))) != 0) {
      const int again = ::WSAGetLastError();
      if (again != WSAEINVAL) return socket_call_error(again);
    }
  }
  Scratch* scratch = prepare(op);
  // The target lives in a block until the packet, not on this stack.
  UnixBlock* block = take_unix_block(op);
  if (block == nullptr) return kErrNoMemory;
  if (!win32::unix_address(args.path, args.path_length, &block->target)) return kErrInvalid;  // a leading NUL
  DWORD bytes = 0;
  if (connect_ex(socket, reinterpret_cast<const sockaddr*>(&block->target), static_cast<int>(sizeof(block->target)),
                 nullptr, 0, &bytes, &scratch->overlapped)) {
    return state.skip_on_success != 0 ? 0 : in_flight(op);
  }
  const int error = ::WSAGetLastError();
  if (error == ERROR_IO_PENDING) return in_flight(op);
  return socket_call_error(error);
}

// A failed connectUnix's error as POSIX names it: where nothing is at the
// path, ENOENT, whatever Windows said (it does not say it the same way on
// every version); a socket file nobody listens on stays ECONNREFUSED.
// Only on failure: a path lookup is no cost on the success path.
int32_t IocpBackend::unix_connect_failed(Op* op, int32_t result) {
  TIGERIO_ASSERT(op->kind == OpKind::connect_unix && result < 0);
  if (result == kErrCanceled || result == kErrBadFd || result == kErrAddressFamily || result == kErrNoEntry) {
    return result;
  }
  const ConnectUnixArgs& args = op->args.connect_unix;
  // UTF-8 -> UTF-16 on the stack: at most one UTF-16 unit per byte, plus the NUL.
  wchar_t wide[win32::kUnixPathBytes];
  TIGERIO_ASSERT(args.path_length < win32::kUnixPathBytes);
  const int units = ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, args.path, static_cast<int>(args.path_length),
                                          wide, static_cast<int>(win32::kUnixPathBytes - 1));
  if (units <= 0) return result;
  TIGERIO_ASSERT(static_cast<size_t>(units) < win32::kUnixPathBytes);
  wide[units] = L'\0';
  if (::GetFileAttributesW(wide) != INVALID_FILE_ATTRIBUTES) return result;
  const DWORD error = ::GetLastError();
  return error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND ? kErrNoEntry : result;
}

int32_t IocpBackend::start_file(Op* op, FdState& state) {
  TIGERIO_ASSERT(state.kind == Kind::file);
  FileTransferArgs& transfer = op->file_transfer();
  TIGERIO_ASSERT(transfer.position >= -1 && state.file_position >= 0);
  Scratch* scratch = prepare(op);
  const uint64_t offset = static_cast<uint64_t>(transfer.position >= 0 ? transfer.position : state.file_position);
  scratch->overlapped.Offset = static_cast<DWORD>(offset);
  scratch->overlapped.OffsetHigh = static_cast<DWORD>(offset >> 32);
  const bool write = op->kind == OpKind::write;
  if (write && state.append != 0) {
    // "At the end of the file", as O_APPEND (a positioned write appends too, as on Linux).
    scratch->overlapped.Offset = 0xffffffff;
    scratch->overlapped.OffsetHigh = 0xffffffff;
  }
  DWORD bytes = 0;
  const HANDLE handle = as_handle(op->fd);
  const BOOL ok = write ? ::WriteFile(handle, transfer.buffer, transfer.length, &bytes, &scratch->overlapped)
                        : ::ReadFile(handle, transfer.buffer, transfer.length, &bytes, &scratch->overlapped);
  if (ok) {
    if (state.skip_on_success == 0) return in_flight(op);
    TIGERIO_ASSERT(bytes <= transfer.length);
    return static_cast<int32_t>(bytes);
  }
  const DWORD error = ::GetLastError();
  if (error == ERROR_IO_PENDING) return in_flight(op);
  if (!write && error == ERROR_HANDLE_EOF) return 0;
  // A handle without the access asked (a write to a file opened 'r'): POSIX says EBADF.
  if (error == ERROR_ACCESS_DENIED) return kErrBadFd;
  return win32::map_error(error);
}

// The kind-specific end of an op: its result as JS sees it. `state` is its fd's.
int32_t IocpBackend::conclude(Op* op, FdState& state, int32_t result) {
  TIGERIO_ASSERT(result != kPending && result != kRetry);
  TIGERIO_ASSERT((op->backend_flags & kInFlight) == 0 && (op->core_flags & kOpOrphaned) == 0);
  // The kernel is done with the op's block (AF_UNIX accept, connectUnix), if any.
  give_back_unix_block(op);
  const bool cancel_requested = (op->core_flags & kOpCancelRequested) != 0;
  if (cancel_requested && result < 0) result = kErrCanceled;
  // On a UDP socket WSAECONNRESET is an ICMP "port unreachable":
  // POSIX (and so the contract) calls that ECONNREFUSED.
  if (result == kErrConnectionReset && (op->kind == OpKind::recv || op->kind == OpKind::send ||
                                        op->kind == OpKind::recv_from || op->kind == OpKind::send_to) &&
      win32::is_datagram(op->fd)) {
    result = kErrConnectionRefused;
  }
  // A receive after this side's own shutdown(receive) is WSAESHUTDOWN
  // (mapped to EPIPE, as a send after shutdown); POSIX reads end of stream.
  if (result == kErrPipe && (op->kind == OpKind::recv || op->kind == OpKind::recv_from || op->kind == OpKind::recv_pooled)) {
    result = 0;
  }
  switch (op->kind) {
    case OpKind::accept: {
      Scratch* scratch = scratch_of(op);
      const SOCKET accepted = scratch->accepted;
      scratch->accepted = INVALID_SOCKET;
      if (result < 0) {
        if (accepted != INVALID_SOCKET) ::closesocket(accepted);
        // The peer gave up while in the backlog: POSIX accept skips those too.
        const bool died = result == kErrConnectionReset || result == kErrConnectionAborted;
        return died && !cancel_requested ? kRetry : result;
      }
      TIGERIO_ASSERT(accepted != INVALID_SOCKET);
      const SOCKET listener = as_socket(op->fd);
      ::setsockopt(accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, reinterpret_cast<const char*>(&listener),
                   sizeof(listener));
      if (state.family != AF_UNIX) win32::set_nodelay(accepted);  // TCP only
      int32_t fd = -1;
      if (!win32::to_fd(static_cast<uintptr_t>(accepted), &fd)) {
        ::closesocket(accepted);
        return kErrTooManyFiles;
      }
      // The core records the fd inside complete(), and fd_opened() takes this.
      note_opening(fd, Kind::socket, state.family, false, false);
      return fd;
    }
    case OpKind::connect:
      // Makes getpeername, shutdown and the rest work on the socket.
      if (result >= 0) {
        ::setsockopt(as_socket(op->fd), SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0);
        result = 0;
      }
      return result;
    case OpKind::connect_unix:
      if (result >= 0) {
        ::setsockopt(as_socket(op->fd), SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0);
        return 0;
      }
      return cancel_requested ? result : unix_connect_failed(op, result);
    case OpKind::read:
    case OpKind::write:
      // Serialized by the core (one FIFO for a file's reads and writes): no
      // other op of this fd moved the position since this one started.
      if (result > 0 && op->file_transfer().position < 0 && state.append == 0) state.file_position += result;
      return result;
    case OpKind::recv_from:
      // A datagram longer than the buffer (WSAEMSGSIZE) has its first bytes
      // and its sender filled in, as on POSIX.
      if (result >= 0 || result == kErrMessageSize) {
        const DatagramFrom* from = datagram_from(scratch_of(op));
        if (from->length > 0) {
          write_address_object(&from->from, op->args.recv_from.address);
        } else {
          std::memset(op->args.recv_from.address, 0, kAddressBytes);
        }
      }
      TIGERIO_ASSERT(result < 0 || static_cast<uint32_t>(result) <= op->args.recv_from.length);
      return result;
    case OpKind::send_to:
      return result;
    case OpKind::recv_pooled:
      if (result < 0) return result;
      if (cancel_requested) return kErrCanceled;  // only readiness came back: nothing was read
      return receive_pooled(op);
    case OpKind::send_file:
      // Wine's TransmitFile says WSAENOTCONN when the peer reset the
      // connection mid-transfer (measured); POSIX's sendfile says EPIPE.
      return result == kErrNotConnected ? kErrPipe : result;
    default:
      TIGERIO_ASSERT(result < 0 || static_cast<uint32_t>(result) <= op->transfer().length);
      return result;
  }
}

bool IocpBackend::pooled(OpKind kind) {
  switch (kind) {
    case OpKind::open:
    case OpKind::fsync:
    case OpKind::fdatasync:
    case OpKind::file_size:
    case OpKind::truncate:
    case OpKind::allocate:
    case OpKind::rename:
    case OpKind::unlink:
    case OpKind::mkdir:
    case OpKind::open_directory:
      return true;
    default:
      return false;
  }
}

int64_t IocpBackend::run_pooled(Op* op, void* context) {
  (void)context;
  switch (op->kind) {
    case OpKind::open:
      return open_file(op->args.open);
    case OpKind::fsync:
    case OpKind::fdatasync:
      // A directory's handle (openDirectory) takes its own sync (win32_files.h).
      return win32::is_directory(op->fd) ? win32::directory_sync(op->fd) : win32::file_sync(op->fd);
    case OpKind::file_size:
      return win32::file_size(op->fd);
    case OpKind::truncate:
      return win32::file_truncate(op->fd, op->args.truncate.length_bytes);
    case OpKind::allocate:
      return win32::file_allocate(op->fd, op->args.allocate.offset_bytes, op->args.allocate.length_bytes);
    case OpKind::rename:
      return win32::rename(op->args.path.path, op->args.path.target, op->args.path.flags);
    case OpKind::unlink:
      return win32::unlink(op->args.path.path);
    case OpKind::mkdir:
      return win32::mkdir(op->args.path.path);
    case OpKind::open_directory:
      return win32::open_directory(op->args.path.path);
    default:
      break;
  }
  TIGERIO_ASSERT(false && "not a pooled operation");
  return kErrInvalid;
}

void IocpBackend::finish_pooled(Op* op, int64_t result, void* data) {
  IocpBackend* backend = static_cast<IocpBackend*>(data);
  if (op->kind == OpKind::file_size) {
    backend->loop_->complete_size(op, result);
    return;
  }
  TIGERIO_ASSERT(result >= INT32_MIN && result <= INT32_MAX);
  const int32_t fd = static_cast<int32_t>(result);
  if ((op->kind == OpKind::open || op->kind == OpKind::open_directory) && fd >= 0) {
    file_registered(fd);
    const bool append = op->kind == OpKind::open && (op->args.open.flags & kOpenAppend) != 0;
    backend->note_opening(fd, Kind::file, 0, append, false);
  }
  backend->loop_->complete(op, fd);  // the core records a new fd, and fd_opened() takes the note
}

int64_t IocpBackend::open_file(const OpenArgs& open) {
  TIGERIO_ASSERT(open.path != nullptr);
  // UTF-8 -> UTF-16 for CreateFileW (open is not a hot path: it may allocate).
  std::vector<wchar_t> wide;
  if (!win32::wide_path(open.path, &wide)) return kErrInvalid;
  const uint32_t flags = open.flags;
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
  // Windows has no POSIX permission bits: the mode is not used. Sharing
  // everything is what POSIX files do (others may read, write, delete).
  // FILE_FLAG_BACKUP_SEMANTICS lets a directory open, as open(2) does (its
  // reads then fail with EISDIR), so code that opens and then checks works.
  const HANDLE handle =
      ::CreateFileW(wide.data(), access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, disposition,
                    FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED | FILE_FLAG_BACKUP_SEMANTICS |
                        win32::file_open_flags(open.flags),
                    nullptr);
  if (handle == INVALID_HANDLE_VALUE) return win32::last_error();
  int32_t fd = -1;
  if (!win32::to_fd(reinterpret_cast<uintptr_t>(handle), &fd) || (fd & 3) != 0) {
    ::CloseHandle(handle);
    return kErrTooManyFiles;
  }
  return fd;
}

// ---- cancelling ----------------------------------------------------------------

void IocpBackend::cancel(Op* op, FdEntry* entry) {
  TIGERIO_ASSERT(op->state == OpState::pending && (op->core_flags & kOpCancelRequested) != 0);
  if (pooled(op->kind)) {
    // Queued for the pool: it never ran. Running: it completes with its own result.
    if (pool_->cancel(op)) loop_->complete(op, kErrCanceled);
    return;
  }
  // issue() either completed the op or left it in the kernel: an op the
  // core can ask back is in flight, and its packet will complete it.
  TIGERIO_ASSERT((op->backend_flags & kInFlight) != 0 && inflight_ > 0);
  TIGERIO_ASSERT(op->kind != OpKind::open);  // completed inside issue()
  if (op->kind == OpKind::process_exit) {
    // No kernel I/O to wait for: once the wait is unregistered, its callback
    // never runs (or has run, and its packet will find the op gone).
    end_process_wait(process_wait_of(op));
    op->backend_flags &= static_cast<uint8_t>(~kInFlight);
    inflight_--;
    loop_->complete(op, kErrCanceled);
    return;
  }
  if ((op->core_flags & kOpOrphaned) != 0) {
    // Its handle was closed behind the IO's back, which aborted it (or it
    // finished): its packet is on the way. The number names another
    // handle now, which must not be touched for it.
    TIGERIO_ASSERT(entry == nullptr);
    return;
  }
  TIGERIO_ASSERT(entry != nullptr && state_of(*entry).associated != 0);
  // ERROR_NOT_FOUND: the kernel finished it first; its packet brings its own
  // result. Either way the packet comes, and finished() completes the op.
  // Or so Windows does: Wine 8 answers ERROR_NOT_FOUND and forgets the
  // cancel when it meets the op between two of its own steps (a
  // TransmitFile or WSASend resuming as room opens in the socket buffer:
  // its wineserver skips an async it has "alerted"), and the op then waits
  // for room that never comes (a peer that does not read). The core asks
  // again every round until the packet comes (core/loop.h), which is why
  // this may run more than once for one op; the next CancelIoEx is honoured.
  ::CancelIoEx(as_handle(op->fd), &scratch_of(op)->overlapped);
}

// ---- completions ---------------------------------------------------------------

// An op's result from its dequeued packet: bytes, or a negative errno.
int32_t IocpBackend::packet_result(Op* op, const OVERLAPPED_ENTRY& entry) {
  OVERLAPPED* overlapped = entry.lpOverlapped;
  TIGERIO_ASSERT(overlapped == &scratch_of(op)->overlapped);
  // Internal is the NTSTATUS: success and warnings are >= 0.
  if (static_cast<LONG>(overlapped->Internal) >= 0) return static_cast<int32_t>(entry.dwNumberOfBytesTransferred);
  DWORD bytes = 0;
  int32_t result = 0;
  if (op_is_socket_op(op->kind)) {
    DWORD flags = 0;
    // Translates the NTSTATUS into the Winsock error a synchronous call
    // would give, through the socket's provider. WSAENOTSOCK: the socket
    // was closed behind the IO's back, which is what aborted the op (EBADF).
    if (::WSAGetOverlappedResult(as_socket(op->fd), overlapped, &bytes, FALSE, &flags)) {
      return static_cast<int32_t>(bytes);
    }
    result = socket_call_error(::WSAGetLastError());
  } else {
    if (::GetOverlappedResult(as_handle(op->fd), overlapped, &bytes, FALSE)) return static_cast<int32_t>(bytes);
    const DWORD error = ::GetLastError();
    if (op->kind == OpKind::read && (error == ERROR_HANDLE_EOF || error == ERROR_BROKEN_PIPE)) return 0;
    // A handle without the access asked: POSIX says EBADF (as in start_file()).
    result = error == ERROR_ACCESS_DENIED ? kErrBadFd : win32::map_error(error);
  }
  TIGERIO_ASSERT(result < 0);
  return result;
}

void IocpBackend::process(const OVERLAPPED_ENTRY* entries, ULONG count) {
  TIGERIO_ASSERT(count == 0 || entries != nullptr);
  for (ULONG i = 0; i < count; i++) {
    const OVERLAPPED_ENTRY& entry = entries[i];
    if (entry.lpCompletionKey == kWakeKey) {
      wake_posted_.store(false);
      continue;
    }
    if (entry.lpCompletionKey == kRearmKey) continue;  // meant for a waiter that has stopped
    if (entry.lpCompletionKey == kProcessKey) {
      process_exited(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(entry.lpOverlapped)) - 1);
      continue;
    }
    TIGERIO_ASSERT(entry.lpCompletionKey == kIoKey && entry.lpOverlapped != nullptr);
    Op* op = op_of(entry.lpOverlapped);
    if (op->state == OpState::abandoned) {
      finished_abandoned(op);
      continue;
    }
    finished(op, packet_result(op, entry));
  }
}

// The packet of an op in flight came back: the kernel is done with its
// OVERLAPPED and buffer.
void IocpBackend::finished(Op* op, int32_t result) {
  TIGERIO_ASSERT(op->state == OpState::pending && (op->core_flags & kOpIssued) != 0);
  TIGERIO_ASSERT((op->backend_flags & kInFlight) != 0 && inflight_ > 0);
  op->backend_flags &= static_cast<uint8_t>(~kInFlight);
  inflight_--;
  if ((op->core_flags & kOpOrphaned) != 0) {
    // Its fd number names another handle now: nothing of the fd's state is
    // this op's. An accept the kernel finished anyway made a socket nobody has.
    if (op->kind == OpKind::accept && scratch_of(op)->accepted != INVALID_SOCKET) {
      ::closesocket(scratch_of(op)->accepted);
      scratch_of(op)->accepted = INVALID_SOCKET;
    }
    give_back_unix_block(op);
    loop_->complete(op, kErrBadFd);  // the core says EBADF for an orphan whatever the kernel said
    return;
  }
  FdEntry& entry = loop_->fds().at(op->fd);
  TIGERIO_ASSERT(entry.queue(op_direction(op->kind)).head() == op);
  result = conclude(op, state_of(entry), result);
  if (result == kParked) {
    loop_->pool_park(op);
    return;
  }
  if (result == kRetry) {
    run(op, entry);  // still its fd's head: issued again
    return;
  }
  loop_->complete(op, result);
}

// The late packet of an op the core abandoned (core/loop.h): the kernel is
// done with its OVERLAPPED at last. Nothing of its fd is touched (closed or
// reused by now), nor its buffer (the caller had ECANCELED long ago).
void IocpBackend::finished_abandoned(Op* op) {
  TIGERIO_ASSERT(op->state == OpState::abandoned);
  TIGERIO_ASSERT((op->backend_flags & kInFlight) != 0 && inflight_ > 0);
  op->backend_flags &= static_cast<uint8_t>(~kInFlight);
  inflight_--;
  Scratch* scratch = scratch_of(op);
  if (op->kind == OpKind::accept && scratch->accepted != INVALID_SOCKET) {
    ::closesocket(scratch->accepted);  // a connection the kernel accepted for no one
    scratch->accepted = INVALID_SOCKET;
  }
  give_back_unix_block(op);
  loop_->complete(op, kErrCanceled);  // frees its storage
}

void IocpBackend::wait(int64_t timeout_ns) {
  TIGERIO_ASSERT(timeout_ns >= -1);
  // Finished file work first; then no wait may sleep with more of it ready.
  if (pool_->harvest(&IocpBackend::finish_pooled, this) > 0) timeout_ns = 0;
  wait_port(timeout_ns);
  pool_->harvest(&IocpBackend::finish_pooled, this);
}

void IocpBackend::wait_port(int64_t timeout_ns) {
  if (waiter_running_) {
    // The waiter is the port's reader now: take what it hands over, waiting
    // for it as long as asked (a deinit drains cancelled ops this way). An
    // empty hand-over (a deadline passed) ends the wait too: the waiter is
    // parked until released, so nothing else would come.
    if (!take_handoff() && timeout_ns != 0) {
      std::unique_lock<std::mutex> lock(waiter_mutex_);
      const auto ready = [this] { return handoff_pending_; };
      if (timeout_ns < 0) {
        waiter_cv_.wait(lock, ready);
      } else {
        waiter_cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns), ready);
      }
      lock.unlock();
      take_handoff();
    }
    // The waiter may have handed over after the take above (it was in its
    // wait, not parked, when take_handoff() found nothing): take that too.
    // It is parked after handing over, so the second release cannot fail.
    if (!release_waiter()) {
      const bool taken = take_handoff();
      const bool released = release_waiter();
      TIGERIO_ASSERT(taken && released);
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(waiter_mutex_);
    TIGERIO_ASSERT(!handoff_pending_);  // waiter_stop() took what was handed over
  }
  const ULONG count = dequeue(port_, entries_.data(), static_cast<ULONG>(entries_.size()), wait_ms(timeout_ns));
  process(entries_.data(), count);
}

IocpBackend::~IocpBackend() {
  pool_.reset();  // idle (the core drained it), joined while the port it wakes is open
  waiter_stop();
  // The core has waited for every issued op to come back before it lets
  // the backend go (Loop::~Loop cancels and drains): the kernel writes into
  // no op's OVERLAPPED or buffer any more.
  TIGERIO_ASSERT(inflight_ == 0);
  TIGERIO_ASSERT(unix_blocks_held_ == 0);  // given back by every op that concluded
  uint32_t freed = 0;
  while (unix_made_ != nullptr) {
    UnixBlock* block = unix_made_;
    unix_made_ = block->next_made;
    delete block;
    freed++;
  }
  TIGERIO_ASSERT(freed == unix_blocks_made_);
  ::CloseHandle(port_);
}

// ---- attach(): the waiter thread ---------------------------------------------

bool IocpBackend::waiter_start(Notify notify, void* context) {
  TIGERIO_ASSERT(!waiter_running_ && notify != nullptr);
  notify_ = notify;
  notify_context_ = context;
  {
    std::lock_guard<std::mutex> lock(waiter_mutex_);
    TIGERIO_ASSERT(!handoff_pending_ && handoff_count_ == 0);  // see waiter_stop()
    waiter_stopping_ = false;
    rearm_posted_ = false;
    waiter_sleep_ns_ = kAwake;
    waiter_deadline_ns_ = loop_->next_deadline_ns();
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
  const BOOL posted = ::PostQueuedCompletionStatus(port_, 0, kRearmKey, nullptr);
  TIGERIO_ASSERT(posted);
  waiter_thread_.join();
  waiter_running_ = false;
  // What it had handed over completes now (JS sees it at the next poll), and
  // the port is the loop thread's again: a hand-over left pending would make
  // every later wait() think work had come, and spin.
  take_handoff();
  {
    std::lock_guard<std::mutex> lock(waiter_mutex_);
    handoff_pending_ = false;
    TIGERIO_ASSERT(handoff_count_ == 0);
  }
  TIGERIO_ASSERT(!waiter_thread_.joinable());
}

void IocpBackend::waiter_consume() {
  TIGERIO_ASSERT(waiter_running_);
  // The waiter stays parked: the round's dispatch fires the timers that
  // made it hand over, and waiter_rearm() after it lets it wait again for
  // the deadline that is nearest then (not for the one just due).
  take_handoff();
}

void IocpBackend::waiter_rearm() {
  if (!waiter_running_) return;
  const int64_t deadline_ns = loop_->next_deadline_ns();
  TIGERIO_ASSERT(deadline_ns >= -1);
  bool post = false;
  bool release = false;
  {
    std::lock_guard<std::mutex> lock(waiter_mutex_);
    waiter_deadline_ns_ = deadline_ns;
    if (handoff_pending_) {
      // Parked: released once its entries have been taken (else the next
      // round takes them and releases it).
      release = handoff_count_ == 0;
      if (release) handoff_pending_ = false;
    } else {
      const bool sleeping = waiter_sleep_ns_ != kAwake;
      const bool sooner = deadline_ns >= 0 && (waiter_sleep_ns_ < 0 || deadline_ns < waiter_sleep_ns_);
      if (sleeping && sooner && !rearm_posted_) {
        rearm_posted_ = true;
        post = true;
      }
    }
  }
  if (release) waiter_cv_.notify_all();
  if (post) {
    const BOOL posted = ::PostQueuedCompletionStatus(port_, 0, kRearmKey, nullptr);
    TIGERIO_ASSERT(posted);
  }
}

// Loop thread: completes what the waiter handed over (if anything); true if
// it had handed over. The waiter stays parked until release_waiter().
bool IocpBackend::take_handoff() {
  ULONG count = 0;
  {
    std::lock_guard<std::mutex> lock(waiter_mutex_);
    if (!handoff_pending_) return false;
    count = handoff_count_;
    handoff_count_ = 0;
  }
  TIGERIO_ASSERT(count <= handoff_.size());
  // The waiter does not touch handoff_ while handoff_pending_.
  process(handoff_.data(), count);
  return true;
}

// Loop thread: lets a parked waiter wait again, for the nearest deadline now.
// False, leaving it parked, if it handed over entries not yet taken: it may
// do so at any moment while it is not parked, so also just after the loop
// thread's last take_handoff() found nothing.
bool IocpBackend::release_waiter() {
  TIGERIO_ASSERT(waiter_running_);
  const int64_t deadline_ns = loop_->next_deadline_ns();
  {
    std::lock_guard<std::mutex> lock(waiter_mutex_);
    if (!handoff_pending_) return true;
    if (handoff_count_ != 0) return false;
    handoff_pending_ = false;
    waiter_deadline_ns_ = deadline_ns;
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
    const ULONG count =
        dequeue(port_, waiter_entries_.data(), static_cast<ULONG>(waiter_entries_.size()), timeout_ms);
    ULONG kept = 0;
    bool rearmed = false;
    for (ULONG i = 0; i < count; i++) {
      if (waiter_entries_[i].lpCompletionKey == kRearmKey) {
        rearmed = true;
      } else {
        waiter_entries_[kept++] = waiter_entries_[i];
      }
    }
    TIGERIO_ASSERT(kept <= count);
    const bool due = deadline_ns >= 0 && monotonic_ns() >= deadline_ns;
    {
      std::lock_guard<std::mutex> lock(waiter_mutex_);
      waiter_sleep_ns_ = kAwake;
      if (rearmed) rearm_posted_ = false;
      if (kept == 0 && !due) continue;  // a re-arm, or woken early: wait again
      TIGERIO_ASSERT(!handoff_pending_ && handoff_count_ == 0);
      std::copy(waiter_entries_.begin(), waiter_entries_.begin() + kept, handoff_.begin());
      handoff_count_ = kept;
      handoff_pending_ = true;
    }
    waiter_cv_.notify_all();  // a loop thread waiting in wait() for a hand-over
    notify_(notify_context_);
  }
}

}  // namespace

std::unique_ptr<Backend> create_iocp_backend(Loop* loop, const LoopConfig& config, int* error) {
  TIGERIO_ASSERT(loop != nullptr && error != nullptr);
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
  return std::unique_ptr<Backend>(new IocpBackend(loop, port, config.entries, extensions, config.file_threads));
}

IocpWaiter* iocp_waiter(Backend& backend) {
  // No RTTI in node-gyp's MSVC builds: the name says which backend it is.
  if (std::strcmp(backend.name(), "iocp") != 0) return nullptr;
  return static_cast<IocpBackend*>(&backend);
}

}  // namespace tigerio
