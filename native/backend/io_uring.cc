// The io_uring backend (Linux 5.6+), TigerBeetle's own Linux model: every
// operation is a submission queue entry (SQE) the kernel performs, and its
// completion queue entry (CQE) carries the result. Raw syscalls and our own
// mmap of the rings, no liburing: the build needs only <linux/io_uring.h>
// (and compiles to a stub without it), and the kernel is probed at run time
// (io_uring_setup may be missing, disabled by sysctl, or blocked by seccomp).
//
// What this file keeps (the core keeps the rest: per-fd order, close after
// drain, timers, the reused-fd rule):
// - Batching: issue() only writes an SQE into the shared ring (no
//   syscall); wait() hands the whole batch to the kernel with the same
//   io_uring_enter that waits for completions. A tick with nothing to submit
//   reads the CQ ring without any syscall.
// - SQ full (entries: 1): ops that find no free SQE wait in `overflow_`, a
//   FIFO through UringOp::overflow_next, and go into the ring as slots free
//   (each io_uring_enter consumes the whole SQ).
// - CQ overflow: the CQ ring is larger than the SQ (IORING_SETUP_CQSIZE), and
//   the probe requires IORING_FEAT_NODROP, under which the kernel keeps CQEs
//   that do not fit and sets IORING_SQ_CQ_OVERFLOW; reap() then enters with
//   GETEVENTS to flush them.
// - user_data is Op::id() (generation << 20 | slot), so a cancel, which names
//   its target by user_data, can never hit a newer op that reuses the slot
//   (libxev's bug). Internal SQEs (cancels, the wake-up read, fallback wait
//   timeouts) carry kInternal, so their CQEs are never taken for user ops.
// - Cancellation: an op whose SQE the kernel has not read (in the overflow,
//   or still unread in the SQ, which then becomes a NOP) completes with
//   ECANCELED at once; an op in the kernel gets an IORING_OP_ASYNC_CANCEL.
//   If the kernel finishes the op first, the op keeps its own result (an
//   accepted fd, bytes received): that result is real and must not be lost.
// - Timeouts are the core's (a user-space heap); the kernel only bounds the
//   wait (IORING_ENTER_EXT_ARG, or an internal IORING_OP_TIMEOUT before 5.11).
// - Files for databases run in the kernel too: IORING_OP_FSYNC (with
//   IORING_FSYNC_DATASYNC for fdatasync), IORING_OP_FALLOCATE (falling back
//   to posix_fallocate where the file system answers EOPNOTSUPP, as glibc
//   does), IORING_OP_STATX for fileSize (its 256-byte struct statx comes from
//   a pool, grown in chunks and kept: nothing is allocated per op once warm),
//   and IORING_OP_FTRUNCATE where the kernel has it (6.9+; probed, not
//   required), else a synchronous ftruncate at issue.
#include "io_uring.h"

#if defined(__linux__) && defined(__has_include)
#if __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
#endif
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#endif

// Everything this file uses from the header is from Linux 5.6 (RECV, SEND,
// OPENAT, the probe, RW_CUR_POS); EXT_ARG (5.11) is optional.
#if defined(__linux__) && defined(IORING_FEAT_RW_CUR_POS) && defined(IO_URING_OP_SUPPORTED) && \
    defined(IORING_SETUP_CLAMP) && defined(SYS_io_uring_setup) && defined(SYS_io_uring_enter) &&  \
    defined(SYS_io_uring_register)
#define TIGERIO_HAVE_IO_URING 1
#else
#define TIGERIO_HAVE_IO_URING 0
#endif

#if TIGERIO_HAVE_IO_URING

#include <fcntl.h>
#include <sys/stat.h>
#if !defined(STATX_SIZE)
#include <linux/stat.h>  // struct statx, before glibc 2.28 declared it
#endif
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "../core/assert.h"
#include "../core/errors.h"
#include "../core/fd_table.h"
#include "../core/loop.h"
#include "io_uring_accept.h"
#include "io_uring_buffers.h"
#include "posix.h"

namespace tigerio {

namespace {

// user_data of internal SQEs: bit 63, a tag, and (for cancels) the target's id.
constexpr uint64_t kInternal = uint64_t{1} << 63;
constexpr uint32_t kTagShift = 56;
constexpr uint64_t kTagMask = uint64_t{0x7f} << kTagShift;
constexpr uint64_t kTagWake = uint64_t{1} << kTagShift;         // the eventfd read
constexpr uint64_t kTagCancel = uint64_t{2} << kTagShift;       // ASYNC_CANCEL / TIMEOUT_REMOVE of a user op
constexpr uint64_t kTagWaitTimeout = uint64_t{3} << kTagShift;  // fallback wait timeout; low bits: its sequence
constexpr uint64_t kTagIgnore = uint64_t{4} << kTagShift;       // removal of a stale wait timeout
constexpr uint64_t kTagAccept = uint64_t{5} << kTagShift;       // a listener's multishot accept; low bits: its record
constexpr uint64_t kPayloadMask = (uint64_t{1} << kTagShift) - 1;
// An id is generation (32 bits) << kSlotBits | slot: it fits under the tags.
static_assert(32 + kSlotBits <= kTagShift, "op ids fit below the internal tag bits");

// The CQ ring is sized for ops in flight (each may have a cancel beside it),
// between twice the SQ and this many entries (16 bytes each).
constexpr uint32_t kCompletionEntriesMax = 8192;

// Completions that need this thread (a socket recv the kernel retries once
// data came) run as task work. By default the kernel interrupts the thread
// with an IPI to run it at once; under load that costs more than the work
// (perf, HTTP hello: 17% of the server's time in the interrupt's return,
// 11% in socket-lock contention it causes). COOP_TASKRUN (5.19) lets the
// work wait for the thread's next entry to the kernel, which every tick
// makes; TASKRUN_FLAG tells us in the SQ flags when work is waiting, so a
// tick that would not enter the kernel enters it for that work.
#if defined(IORING_SETUP_COOP_TASKRUN) && defined(IORING_SETUP_TASKRUN_FLAG) && defined(IORING_SQ_TASKRUN)
constexpr uint32_t kTaskrunFlags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
constexpr uint32_t kSqTaskrun = IORING_SQ_TASKRUN;
#else
constexpr uint32_t kTaskrunFlags = 0;
constexpr uint32_t kSqTaskrun = 0;
#endif

// Not DEFER_TASKRUN (6.1, with SINGLE_ISSUER), measured and left out.
// Under it the task work waits until this thread enters the ring with
// GETEVENTS, and the ring fd does not become readable for it (an eventfd
// registered with the ring does), so an attached IO, which Node's loop
// wakes, pays one more wake-up and io_uring_enter per batch: the attached
// HTTP hello server answered 4x fewer requests (19,600 against 81,800-99,100
// in 4 s, interleaved) at 1.3-1.7x the CPU per request. COOP_TASKRUN's work
// runs at the thread's next entry to the kernel, which libuv's own epoll_wait
// is, so the completions are in the CQ ring when the round starts. With
// run()/runForNs() the two were level within this machine's noise.
// Measured again with each contender pinned to the same CPU: the C
// ping-pong loop (test/bench/pingpong_uring.c) made 113,000 round trips/s
// under DEFER_TASKRUN and 116,000 under COOP_TASKRUN; tigerio under
// DEFER_TASKRUN made about 1.05x its round trips under runForNs (6 pairs,
// 1.01-1.10x), but attached, with Node's loop polling an eventfd
// registered with the ring (IORING_REGISTER_EVENTFD) in place of the ring
// fd, each keep-alive request waited 15-16 ms for a wake-up (wrk -c1: 127
// requests in 2 s), so it stays out.

// A registered ring fd (5.18): io_uring_enter then names the ring by its
// index in this thread's table, and the kernel skips taking a reference on
// the ring's file for each call (fdget/fput), which a multi-threaded
// process such as Node pays on every syscall that names an fd. The table is
// the thread's: another thread (an IO is its maker's, but nothing stops a
// native destructor elsewhere) names the ring by its fd.
#if defined(IORING_ENTER_REGISTERED_RING)
constexpr uint32_t kEnterRegisteredRing = IORING_ENTER_REGISTERED_RING;
#else
constexpr uint32_t kEnterRegisteredRing = 0;  // headers before 5.18: never registered
#endif
// The entries of a thread's table (the kernel's IO_RINGFD_REG_MAX, not in
// the uapi header): a 17th ring on one thread is named by its fd.
constexpr uint32_t kRingFdsPerThread = 16;

// Which thread this is, without a system call: pthread_self() reads the
// thread pointer. (The address of a thread_local would cost a
// __tls_get_addr call in a shared object, at every io_uring_enter.)
pthread_t this_thread() { return ::pthread_self(); }

int sys_io_uring_setup(uint32_t entries, io_uring_params* params) {
  return static_cast<int>(::syscall(SYS_io_uring_setup, entries, params));
}

int sys_io_uring_enter(int fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags, const void* arg,
                       size_t arg_size) {
  return static_cast<int>(::syscall(SYS_io_uring_enter, fd, to_submit, min_complete, flags, arg, arg_size));
}

int sys_io_uring_register(int fd, uint32_t opcode, void* arg, uint32_t count) {
  return static_cast<int>(::syscall(SYS_io_uring_register, fd, opcode, arg, count));
}

uint32_t load_acquire(const uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
void store_release(uint32_t* p, uint32_t value) { __atomic_store_n(p, value, __ATOMIC_RELEASE); }

uint32_t next_power_of_two(uint64_t value) {
  uint64_t power = 1;
  while (power < value && power < (uint64_t{1} << 31)) power <<= 1;
  return static_cast<uint32_t>(power);
}

// The opcodes the backend issues: a kernel without one of them is not offered.
// FSYNC (5.1), FALLOCATE and STATX (5.6) are within the 5.6 floor OPENAT sets.
constexpr uint8_t kOpcodesNeeded[] = {
    IORING_OP_ACCEPT, IORING_OP_CONNECT,       IORING_OP_RECV,         IORING_OP_SEND,
    IORING_OP_READ,   IORING_OP_WRITE,         IORING_OP_OPENAT,       IORING_OP_TIMEOUT,
    IORING_OP_TIMEOUT_REMOVE, IORING_OP_ASYNC_CANCEL, IORING_OP_FSYNC, IORING_OP_FALLOCATE,
    IORING_OP_STATX,
    // Datagrams (sendTo, recvFrom) and sendFile's wait for a writable socket.
    IORING_OP_SENDMSG, IORING_OP_RECVMSG, IORING_OP_POLL_ADD,
};
// IORING_OP_FTRUNCATE (Linux 6.9): the kernel ABI's number, since headers
// older than 6.9 do not name it. Used where the probe finds it; without it
// truncate is a synchronous ftruncate(2) at issue.
constexpr uint8_t kOpFtruncate = 55;
// The namespace opcodes, by the kernel ABI's numbers: RENAMEAT and UNLINKAT
// (5.11), MKDIRAT (5.15). Used where the probe finds them; without one, its
// operation is a synchronous call at issue (they are rare and short on a
// local disk; the readiness backends run them on their pool).
constexpr uint8_t kOpRenameat = 35;
constexpr uint8_t kOpUnlinkat = 36;
constexpr uint8_t kOpMkdirat = 37;
// Multishot accept came in 5.19 with IORING_OP_SOCKET, which the probe can
// see (an accept flag it cannot: the kernel before refuses the SQE, with the
// EINVAL an accept on a socket that is not listening gives too). By the
// ABI's numbers, for headers older than 5.19; IORING_CQE_F_MORE is 5.13's.
constexpr uint8_t kOpSocket = 45;
constexpr uint16_t kAcceptMultishot = 1u << 0;  // IORING_ACCEPT_MULTISHOT, in the SQE's ioprio
constexpr uint32_t kCqeMore = 1u << 1;          // IORING_CQE_F_MORE: more CQEs will follow for this SQE

// What the probe found: usable at all, and the optional opcodes.
struct UringSupport {
  bool usable = false;
  bool ftruncate = false;
  bool renameat = false;
  bool unlinkat = false;
  bool mkdirat = false;
  bool multishot_accept = false;
  const char* unusable_reason = nullptr;  // nullptr when usable
};

UringSupport unusable(const char* reason) {
  TIGERIO_ASSERT(reason != nullptr);
  UringSupport support;
  support.unusable_reason = reason;
  return support;
}

// What the kernel reads or writes for some ops beyond what fits in
// Op::scratch (24 bytes on POSIX, platform.h): fileSize's statx buffer (256
// bytes), a datagram's msghdr (UringMessage). Chunks are allocated when
// every buffer is in use and kept for the backend's life, so a warm backend
// allocates nothing per op, and an op that needs none (a receive on an idle
// connection) carries no room for one.
template <typename T>
class SidePool {
 public:
  T* acquire() {
    if (free_.empty()) grow();
    T* buffer = free_.back();
    free_.pop_back();
    TIGERIO_ASSERT(buffer != nullptr);
    return buffer;
  }
  void release(T* buffer) {
    TIGERIO_ASSERT(buffer != nullptr);
    TIGERIO_ASSERT(free_.size() < free_.capacity());  // reserved by grow(): no allocation here
    free_.push_back(buffer);
  }

 private:
  static constexpr size_t kChunk = 16;
  void grow() {
    chunks_.emplace_back(new T[kChunk]);
    free_.reserve(chunks_.size() * kChunk);
    for (size_t i = 0; i < kChunk; i++) free_.push_back(&chunks_.back()[i]);
  }
  std::vector<std::unique_ptr<T[]>> chunks_;
  std::vector<T*> free_;
};

// A datagram op's msghdr, which the kernel reads (and for recvFrom writes
// the sender into) until its CQE.
struct UringMessage {
  msghdr message;
  iovec vector;
  sockaddr_in6 from;  // recvFrom's sender, copied into the caller's address object at the CQE
};

// What the backend keeps in Op::scratch while it owns an op.
enum class Stage : uint8_t {
  idle,            // no SQE written yet
  waiting,         // in overflow_: its SQE waits for a free SQ slot
  submitted,       // its SQE is in the SQ or the kernel: a CQE will come
  cancel_waiting,  // submitted, and its cancel SQE waits in overflow_
  accept_waiting,  // an accept waiting for its listener's multishot (AcceptListener::waiting)
};

struct UringOp {
  Op* overflow_next;
  // From a SidePool, from issue to finish: what the kernel reads or writes.
  union {
    struct statx* statx;    // fileSize: the kernel's output
    UringMessage* message;  // sendTo, recvFrom
  };
  uint32_t sq_index;  // where its SQE went (our SQ tail at the time): still ours until the kernel's head passes it
  Stage stage;
  uint16_t listener;  // accept_waiting: its listener's handle (io_uring_accept.h)
};
static_assert(sizeof(UringOp) <= sizeof(Op::scratch), "UringOp fits in Op::scratch (platform.h kOpScratchBytes)");
static_assert(alignof(UringOp) <= kOpScratchAlignment, "Op::scratch is aligned for UringOp");

UringOp& uring(Op* op) { return *reinterpret_cast<UringOp*>(op->scratch); }

bool is_datagram(OpKind kind) { return kind == OpKind::send_to || kind == OpKind::recv_from; }

UringMessage& uring_message(Op* op) {
  TIGERIO_ASSERT(is_datagram(op->kind) && uring(op).message != nullptr);
  return *uring(op).message;
}

// The mapped rings of one io_uring instance.
struct Ring {
  int fd = -1;
  uint32_t features = 0;
  void* sq_map = MAP_FAILED;
  size_t sq_map_size = 0;
  void* cq_map = MAP_FAILED;  // == sq_map with IORING_FEAT_SINGLE_MMAP
  size_t cq_map_size = 0;
  io_uring_sqe* sqes = static_cast<io_uring_sqe*>(MAP_FAILED);
  size_t sqes_size = 0;
  uint32_t* sq_head = nullptr;
  uint32_t* sq_tail = nullptr;
  uint32_t* sq_flags = nullptr;
  uint32_t sq_mask = 0;
  uint32_t sq_entries = 0;
  uint32_t* cq_head = nullptr;
  uint32_t* cq_tail = nullptr;
  io_uring_cqe* cqes = nullptr;
  uint32_t cq_mask = 0;
  uint32_t cq_entries = 0;
  // The ring's index in its registering thread's table, or -1 (not
  // registered: io_uring_enter names it by fd).
  int registered_index = -1;
  pthread_t registered_thread{};

  ~Ring() {
    unregister_fd();
    if (sqes != MAP_FAILED) ::munmap(sqes, sqes_size);
    if (cq_map != MAP_FAILED && cq_map != sq_map) ::munmap(cq_map, cq_map_size);
    if (sq_map != MAP_FAILED) ::munmap(sq_map, sq_map_size);
    if (fd >= 0) ::close(fd);
  }

  // Sets up the ring: 0 or a negative errno.
  int init(uint32_t entries, uint32_t cq_entries_wanted) {
    io_uring_params params;
    uint32_t taskrun_flags = kTaskrunFlags;
    for (;;) {
      std::memset(&params, 0, sizeof(params));
      params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | taskrun_flags;
      params.cq_entries = cq_entries_wanted;
      fd = sys_io_uring_setup(entries, &params);
      if (fd >= 0) break;
      // Before 5.19 the kernel does not know the task-run flags: go without.
      if (errno == EINVAL && taskrun_flags != 0) {
        taskrun_flags = 0;
        continue;
      }
      // Before 5.12 ring memory counts against RLIMIT_MEMLOCK: ask for less.
      if (errno == ENOMEM && cq_entries_wanted > 2 * entries) {
        cq_entries_wanted /= 2;
        continue;
      }
      return -errno;
    }
    features = params.features;
    sq_map_size = params.sq_off.array + params.sq_entries * sizeof(uint32_t);
    cq_map_size = params.cq_off.cqes + params.cq_entries * sizeof(io_uring_cqe);
    if (features & IORING_FEAT_SINGLE_MMAP) sq_map_size = cq_map_size = std::max(sq_map_size, cq_map_size);
    sq_map = ::mmap(nullptr, sq_map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    if (sq_map == MAP_FAILED) return -errno;
    if (features & IORING_FEAT_SINGLE_MMAP) {
      cq_map = sq_map;
    } else {
      cq_map = ::mmap(nullptr, cq_map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
      if (cq_map == MAP_FAILED) return -errno;
    }
    sqes_size = params.sq_entries * sizeof(io_uring_sqe);
    void* sqes_map = ::mmap(nullptr, sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (sqes_map == MAP_FAILED) return -errno;
    sqes = static_cast<io_uring_sqe*>(sqes_map);

    auto* sq = static_cast<uint8_t*>(sq_map);
    auto* cq = static_cast<uint8_t*>(cq_map);
    sq_head = reinterpret_cast<uint32_t*>(sq + params.sq_off.head);
    sq_tail = reinterpret_cast<uint32_t*>(sq + params.sq_off.tail);
    sq_flags = reinterpret_cast<uint32_t*>(sq + params.sq_off.flags);
    sq_mask = *reinterpret_cast<uint32_t*>(sq + params.sq_off.ring_mask);
    sq_entries = *reinterpret_cast<uint32_t*>(sq + params.sq_off.ring_entries);
    cq_head = reinterpret_cast<uint32_t*>(cq + params.cq_off.head);
    cq_tail = reinterpret_cast<uint32_t*>(cq + params.cq_off.tail);
    cqes = reinterpret_cast<io_uring_cqe*>(cq + params.cq_off.cqes);
    cq_mask = *reinterpret_cast<uint32_t*>(cq + params.cq_off.ring_mask);
    cq_entries = *reinterpret_cast<uint32_t*>(cq + params.cq_off.ring_entries);
    register_fd();
    TIGERIO_ASSERT(sq_entries >= 1 && sq_mask == sq_entries - 1);
    TIGERIO_ASSERT(cq_entries >= sq_entries && cq_mask == cq_entries - 1);
    // SQE i always sits at SQ index i: the indirection array is set once.
    auto* array = reinterpret_cast<uint32_t*>(sq + params.sq_off.array);
    for (uint32_t i = 0; i < sq_entries; i++) array[i] = i;
    return 0;
  }

  // Registers the ring fd in this thread's table of rings: where it is
  // full, or the kernel is older than 5.18, enter uses the fd.
  void register_fd() {
    TIGERIO_ASSERT(fd >= 0 && registered_index == -1);
#if defined(IORING_ENTER_REGISTERED_RING)
    io_uring_rsrc_update update;
    std::memset(&update, 0, sizeof(update));
    update.offset = UINT32_MAX;  // the kernel picks a free index
    update.data = static_cast<uint64_t>(fd);
    if (sys_io_uring_register(fd, IORING_REGISTER_RING_FDS, &update, 1) != 1) return;
    TIGERIO_ASSERT(update.offset < kRingFdsPerThread);
    registered_index = static_cast<int>(update.offset);
    registered_thread = this_thread();
#endif
  }

  // True on the thread whose table holds the ring.
  bool registered_here() const { return registered_index >= 0 && ::pthread_equal(registered_thread, this_thread()) != 0; }

  // The index holds a reference on the ring until its thread exits: give it
  // back. Only that thread can (another one's table has other rings).
  void unregister_fd() {
#if defined(IORING_ENTER_REGISTERED_RING)
    if (!registered_here()) return;
    io_uring_rsrc_update update;
    std::memset(&update, 0, sizeof(update));
    update.offset = static_cast<uint32_t>(registered_index);
    const int rc = sys_io_uring_register(fd, IORING_UNREGISTER_RING_FDS, &update, 1);
    TIGERIO_ASSERT(rc == 1);
    registered_index = -1;
#endif
  }

  // io_uring_enter's fd argument, with the flag that says it is an index.
  int enter_fd(uint32_t* flags) const {
    if (!registered_here()) return fd;
    TIGERIO_ASSERT(kEnterRegisteredRing != 0);
    *flags |= kEnterRegisteredRing;
    return registered_index;
  }
};

UringSupport probe_io_uring() {
  io_uring_params params;
  std::memset(&params, 0, sizeof(params));
  const int fd = sys_io_uring_setup(2, &params);
  if (fd < 0) {
    // EPERM: the kernel.io_uring_disabled sysctl, or a seccomp filter (a
    // container's default profile); ENOSYS: no io_uring in this kernel, or
    // a filter that answers so.
    if (errno == EPERM) return unusable("io_uring_setup: EPERM (the kernel.io_uring_disabled sysctl or a seccomp filter)");
    if (errno == ENOSYS) return unusable("io_uring_setup: ENOSYS (a kernel without io_uring, or a seccomp filter)");
    return unusable("io_uring_setup failed");
  }
  bool usable = (params.features & IORING_FEAT_NODROP) != 0 && (params.features & IORING_FEAT_RW_CUR_POS) != 0;
  constexpr uint32_t kProbeOps = 256;
  alignas(io_uring_probe) uint8_t storage[sizeof(io_uring_probe) + kProbeOps * sizeof(io_uring_probe_op)];
  std::memset(storage, 0, sizeof(storage));
  auto* probe = reinterpret_cast<io_uring_probe*>(storage);
  if (usable && sys_io_uring_register(fd, IORING_REGISTER_PROBE, probe, kProbeOps) < 0) usable = false;
  ::close(fd);
  auto has = [&](uint8_t opcode) {
    return opcode <= probe->last_op && (probe->ops[opcode].flags & IO_URING_OP_SUPPORTED) != 0;
  };
  for (uint8_t opcode : kOpcodesNeeded) usable = usable && has(opcode);
  if (!usable) return unusable("a kernel older than 5.6: an opcode or feature the backend needs is missing");
  UringSupport support;
  support.usable = true;
  support.ftruncate = has(kOpFtruncate);
  support.renameat = has(kOpRenameat);
  support.unlinkat = has(kOpUnlinkat);
  support.mkdirat = has(kOpMkdirat);
  support.multishot_accept = has(kOpSocket);
  return support;
}

const UringSupport& uring_support() {
  static const UringSupport support = probe_io_uring();
  return support;
}

// False for a namespace op whose opcode this kernel lacks.
bool path_op_in_ring(OpKind kind) {
  switch (kind) {
    case OpKind::rename:
      return uring_support().renameat;
    case OpKind::unlink:
      return uring_support().unlinkat;
    case OpKind::mkdir:
      return uring_support().mkdirat;
    default:
      return true;
  }
}

// statx(fd, "", AT_EMPTY_PATH): the fd itself.
const char kEmptyPath[] = "";

class IoUringBackend final : public PosixBackend {
 public:
  IoUringBackend(Loop* loop, int wake_fd) : PosixBackend(loop), wake_fd_(wake_fd) { TIGERIO_ASSERT(wake_fd >= 0); }

  ~IoUringBackend() override {
    // The core has given back every op (Loop::~Loop cancels and drains):
    // only the wake-up read is left in the kernel. Stop it before the ring
    // closes, so the kernel never writes into wake_value_ after we are gone.
    TIGERIO_ASSERT(issued_ == 0 && overflow_head_ == nullptr);
    if (ring_.fd >= 0) buffer_rings_.destroy_all(ring_.fd);
    if (ring_.fd >= 0) stop_accepts();
    if (ring_.fd >= 0 && wake_armed_) {
      if (sq_space() == 0) enter(0, 0, nullptr, 0);
      io_uring_sqe* sqe = next_sqe();
      if (sqe != nullptr) {
        sqe->opcode = IORING_OP_ASYNC_CANCEL;
        sqe->fd = -1;
        sqe->addr = kInternal | kTagWake;
        sqe->user_data = kInternal | kTagIgnore;
        // Not fill_sq(): that would arm the read again.
        for (uint32_t round = 0; round < kDrainRoundsMax && wake_armed_; round++) {
          enter(1, IORING_ENTER_GETEVENTS, nullptr, 0);
          reap();
        }
      }
    }
    ::close(wake_fd_);
  }

  int init(const LoopConfig& config) {
    TIGERIO_ASSERT(config.entries >= 1 && config.entries <= kEntriesMax);
    const uint64_t wanted = std::max<uint64_t>(2 * uint64_t{config.operations_max} + 8, 2 * uint64_t{config.entries});
    const uint32_t cq_entries = std::max(next_power_of_two(std::min<uint64_t>(wanted, kCompletionEntriesMax)),
                                         next_power_of_two(2 * uint64_t{config.entries}));
    const int result = ring_.init(config.entries, cq_entries);
    if (result < 0) return result;
#ifdef IORING_FEAT_EXT_ARG
    ext_arg_ = (ring_.features & IORING_FEAT_EXT_ARG) != 0;
#endif
    const int slack = ::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    if (slack > 0) timer_slack_ns_ = slack;
    arm_wake();
    submit_all();
    TIGERIO_ASSERT(ring_.fd >= 0);
    return 0;
  }

  const char* name() const override { return "io_uring"; }

  void issue(Op* op, FdEntry* entry) override {
    TIGERIO_ASSERT(op->state == OpState::pending);
    TIGERIO_ASSERT((entry == nullptr) == op_is_loose(op->kind));
    new (op->scratch) UringOp{};
    if (op->kind == OpKind::process_exit) {
      // A pidfd, polled in the ring: readable once the process has exited.
      const int32_t pidfd = posix::pidfd_open(op->args.process_exit.pid);
      if (pidfd < 0) {
        loop_->complete(op, pidfd);
        return;
      }
      op->args.process_exit.handle = pidfd;
    }
    if (entry != nullptr) {
      FdState& state = entry->backend_state<FdState>();
      if (state.known == 0) {
        // An fd from elsewhere: the kernel would take any number, check it is open.
        if (::fcntl(op->fd, F_GETFD) < 0) {
          loop_->complete(op, -errno);
          return;
        }
        state.known = 1;
      }
    }
    if (op->kind == OpKind::truncate && !uring_support().ftruncate) {
      // Before 6.9: no ftruncate in the ring. It is its fd's head, so the
      // ops before it are done: running it now keeps their order.
      loop_->complete(op, posix::truncate(op->fd, op->args.truncate.length_bytes));
      return;
    }
    if (!path_op_in_ring(op->kind)) {
      // A kernel without this namespace opcode: the call runs here.
      loop_->complete(op, static_cast<int32_t>(posix::run_file_op(*op)));
      return;
    }
    if (op->kind == OpKind::file_size) uring(op).statx = statx_pool_.acquire();
    if (is_datagram(op->kind)) uring(op).message = message_pool_.acquire();
    if (op->kind == OpKind::accept && accept_from_listener(op, *entry)) return;
    if (issue_now(op)) return;
    issued_++;
    enqueue(op);
  }

  void cancel(Op* op, FdEntry*) override {
    TIGERIO_ASSERT(op->state == OpState::pending && (op->core_flags & kOpCancelRequested) != 0);
    UringOp& u = uring(op);
    switch (u.stage) {
      case Stage::waiting:
        overflow_remove(op);
        finish(op, kErrCanceled);
        return;
      case Stage::submitted:
        if (sqe_unread(u.sq_index)) {
          // The kernel has not read the SQE yet (it reads only inside
          // io_uring_enter): make it a NOP whose CQE is ignored, and cancel
          // for sure, at once, with no race against the kernel.
          io_uring_sqe* sqe = &ring_.sqes[u.sq_index & ring_.sq_mask];
          std::memset(sqe, 0, sizeof(*sqe));
          sqe->opcode = IORING_OP_NOP;
          sqe->user_data = kInternal | kTagIgnore;
          finish(op, kErrCanceled);
        } else if (overflow_head_ == nullptr && sq_space() > 0) {
          write_cancel_sqe(op);
        } else {
          u.stage = Stage::cancel_waiting;
          overflow_push(op);
        }
        return;
      case Stage::cancel_waiting:
        return;  // asked again (Backend::cancel): its cancel SQE is on its way already
      case Stage::accept_waiting: {
        // Nothing of it is in the kernel: the multishot stays, for the next accept.
        AcceptListener& listener = listeners_.at(u.listener - 1u);
        TIGERIO_ASSERT(listener.waiting == op);
        listener.waiting = nullptr;
        finish(op, kErrCanceled);
        return;
      }
      case Stage::idle:
        break;
    }
    TIGERIO_ASSERT(false && "cancel of an op in no cancellable stage");
  }

  void fd_opened(int32_t fd, FdEntry& entry) override {
    TIGERIO_ASSERT(fd >= 0);
    entry.backend_state<FdState>().known = 1;
    // A listener of ours had this number: it was closed behind the IO's
    // back (the core has just given back its accept, if it had one).
    AcceptListener* stale = listeners_.find_open_fd(fd);
    if (stale != nullptr) retire_listener(*stale);
  }

  int32_t close(int32_t fd, FdEntry* entry) override {
    TIGERIO_ASSERT(entry == nullptr || (entry->queues[0].empty() && entry->queues[1].empty()));
    if (entry != nullptr) {
      AcceptListener* listener = listeners_.find(entry->backend_state<FdState>().listener, fd);
      if (listener != nullptr) retire_listener(*listener);
    }
    return posix::close(fd);
  }

  void wait(int64_t timeout_ns) override {
    TIGERIO_ASSERT(timeout_ns >= -1);
    // CQEs that came since the last tick cost no syscall. A wake-up among
    // them is this wait's reason to return (the loop checks its events after).
    woken_ = false;
    reap();
    if (loop_->has_ready() || woken_) timeout_ns = 0;
    // Full SQ batches go now; the last rides on the waiting io_uring_enter.
    fill_sq();
    while (overflow_head_ != nullptr && sq_space() == 0) {
      const uint32_t before = sq_pending();
      const int rc = enter(0, 0, nullptr, 0);
      if (rc < 0 && rc != -EINTR) break;
      if (sq_pending() == before) break;
      fill_sq();
    }
    if (timeout_ns == 0) {
      if (task_work_waiting()) {
        enter(0, IORING_ENTER_GETEVENTS, nullptr, 0);
      } else if (sq_pending() > 0) {
        enter(0, 0, nullptr, 0);
      }
    } else {
      wait_for_completions(timeout_ns);
    }
    reap();
    if (!ext_arg_ && wait_timeout_armed_) remove_wait_timeout();
    // What the completions queued (a socket's next op, the wake-up read, the
    // overflow that now fits) goes out now, not a tick later.
    if (sq_pending() > 0 || overflow_head_ != nullptr || !wake_armed_ || accept_cancels_wanted_ > 0) submit_all();
  }

  void submit() override {
    if (sq_pending() > 0 || overflow_head_ != nullptr) submit_all();
  }

  void wake() override {
    const uint64_t one = 1;
    // The counter cannot realistically saturate: each wake CQE drains it.
    while (::write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
  }

  // A pool's buffers go into a provided-buffer ring where the kernel has them.
  bool pool_created(uint32_t id, BufferPool& pool) override { return buffer_rings_.create(ring_.fd, id, pool); }
  void pool_recycle(uint32_t id, BufferPool& pool, uint32_t index) override { buffer_rings_.recycle(id, pool, index); }

  // The ring fd is readable while CQEs wait in the CQ ring (and, under
  // COOP_TASKRUN, while task work waits for this thread: libuv's epoll_wait
  // returning runs it).
  int poll_fd() const override { return ring_.fd; }

  bool has_unsubmitted() const override {
    return sq_pending() > 0 ||
           ((overflow_head_ != nullptr || !wake_armed_ || accept_cancels_wanted_ > 0) && sq_space() > 0);
  }

 private:
  // What the backend keeps in FdEntry::backend.
  struct FdState {
    uint8_t known;  // made by this IO, or checked to be open
    uint16_t listener;  // a listener's multishot accept record (AcceptListeners handle), or 0
  };

  // Bound on io_uring_enter rounds when waiting for the wake-up read to be
  // cancelled at destruction; each round takes at least one CQE.
  static constexpr uint32_t kDrainRoundsMax = 1u << 20;

  // ---- The overflow FIFO ----

  void overflow_push(Op* op) {
    TIGERIO_ASSERT(uring(op).overflow_next == nullptr && op != overflow_tail_);
    uring(op).overflow_next = nullptr;
    if (overflow_tail_ == nullptr) {
      overflow_head_ = op;
    } else {
      uring(overflow_tail_).overflow_next = op;
    }
    overflow_tail_ = op;
  }

  Op* overflow_pop() {
    Op* op = overflow_head_;
    if (op == nullptr) return nullptr;
    overflow_head_ = uring(op).overflow_next;
    if (overflow_head_ == nullptr) overflow_tail_ = nullptr;
    uring(op).overflow_next = nullptr;
    return op;
  }

  // O(overflow): only when an op leaves the overflow out of order (a cancel).
  void overflow_remove(Op* op) {
    Op* previous = nullptr;
    for (Op* it = overflow_head_; it != nullptr; previous = it, it = uring(it).overflow_next) {
      if (it != op) continue;
      if (previous == nullptr) {
        overflow_head_ = uring(it).overflow_next;
      } else {
        uring(previous).overflow_next = uring(it).overflow_next;
      }
      if (overflow_tail_ == it) overflow_tail_ = previous;
      uring(it).overflow_next = nullptr;
      return;
    }
    TIGERIO_ASSERT(false && "op not in the overflow");
  }

  // ---- SQEs ----

  // Completions wait as task work until this thread enters the kernel (COOP_TASKRUN).
  bool task_work_waiting() const { return (load_acquire(ring_.sq_flags) & kSqTaskrun) != 0; }

  uint32_t sq_pending() const { return sq_tail_ - load_acquire(ring_.sq_head); }
  // True if the SQE written at `sq_index` is still in the SQ, unread by the
  // kernel: between its head and our tail. Not "at or after the head" as a
  // signed difference, which 2^31 SQEs later reads an SQE the kernel took
  // long ago as unread (a multishot lives for hours; an idle recv too).
  bool sqe_unread(uint32_t sq_index) const {
    const uint32_t head = load_acquire(ring_.sq_head);
    return sq_index - head < sq_tail_ - head;
  }
  uint32_t sq_space() const { return ring_.sq_entries - sq_pending(); }

  // A zeroed SQE, or nullptr if the SQ is full.
  io_uring_sqe* next_sqe() {
    if (sq_space() == 0) return nullptr;
    io_uring_sqe* sqe = &ring_.sqes[sq_tail_ & ring_.sq_mask];
    std::memset(sqe, 0, sizeof(*sqe));
    sq_tail_++;
    TIGERIO_ASSERT(sq_pending() <= ring_.sq_entries);
    return sqe;
  }

  // Gives op its SQE now if the SQ has room and nothing waits before it.
  void enqueue(Op* op) {
    TIGERIO_ASSERT(uring(op).stage == Stage::idle);
    if (overflow_head_ == nullptr && sq_space() > 0) {
      write_sqe(op);
    } else {
      uring(op).stage = Stage::waiting;
      overflow_push(op);
    }
  }

  void write_sqe(Op* op) {
    TIGERIO_ASSERT(op->state == OpState::pending);
    uring(op).sq_index = sq_tail_;
    io_uring_sqe* sqe = next_sqe();
    TIGERIO_ASSERT(sqe != nullptr);
    sqe->fd = op->fd;
    sqe->user_data = op->id();
    switch (op->kind) {
      case OpKind::accept:
        sqe->opcode = IORING_OP_ACCEPT;
        sqe->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
        break;
      case OpKind::connect:
        sqe->opcode = IORING_OP_CONNECT;
        sqe->addr = reinterpret_cast<uintptr_t>(op->args.connect.address.bytes);
        sqe->off = op->args.connect.address.length;
        break;
      case OpKind::recv:
        sqe->opcode = IORING_OP_RECV;
        sqe->addr = reinterpret_cast<uintptr_t>(op->args.recv.buffer);
        sqe->len = op->args.recv.length;
        break;
      case OpKind::send:
        sqe->opcode = IORING_OP_SEND;
        sqe->addr = reinterpret_cast<uintptr_t>(op->args.send.buffer);
        sqe->len = op->args.send.length;
        sqe->msg_flags = MSG_NOSIGNAL;
        break;
      case OpKind::open:
        write_path_sqe(sqe, IORING_OP_OPENAT, op->args.open.path);
        sqe->len = op->args.open.mode;
        sqe->open_flags = static_cast<uint32_t>(posix::open_os_flags(op->args.open.flags));
        break;
      case OpKind::open_directory:
        write_path_sqe(sqe, IORING_OP_OPENAT, op->args.path.path);
        sqe->open_flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
        break;
      case OpKind::rename:
        // renameat2(AT_FDCWD, path, AT_FDCWD, target, flags): len and addr2 carry the second pair.
        write_path_sqe(sqe, kOpRenameat, op->args.path.path);
        sqe->len = static_cast<uint32_t>(AT_FDCWD);
        sqe->off = reinterpret_cast<uintptr_t>(op->args.path.target);
        sqe->rename_flags = (op->args.path.flags & kRenameNoReplace) != 0 ? 1u /* RENAME_NOREPLACE */ : 0u;
        break;
      case OpKind::unlink:
        write_path_sqe(sqe, kOpUnlinkat, op->args.path.path);
        sqe->unlink_flags = 0;
        break;
      case OpKind::mkdir:
        write_path_sqe(sqe, kOpMkdirat, op->args.path.path);
        sqe->len = op->args.path.mode;
        break;
      case OpKind::read:
      case OpKind::write: {
        const FileTransferArgs& file = op->file_transfer();
        sqe->opcode = op->kind == OpKind::read ? IORING_OP_READ : IORING_OP_WRITE;
        sqe->addr = reinterpret_cast<uintptr_t>(file.buffer);
        sqe->len = file.length;
        // -1: the file's current position, advanced as read(2) does (IORING_FEAT_RW_CUR_POS).
        sqe->off = file.position < 0 ? ~uint64_t{0} : static_cast<uint64_t>(file.position);
        break;
      }
      case OpKind::fsync:
      case OpKind::fdatasync:
        // off 0, len 0: the whole file.
        sqe->opcode = IORING_OP_FSYNC;
        sqe->fsync_flags = op->kind == OpKind::fdatasync ? IORING_FSYNC_DATASYNC : 0;
        break;
      case OpKind::file_size:
        sqe->opcode = IORING_OP_STATX;
        sqe->addr = reinterpret_cast<uintptr_t>(kEmptyPath);
        sqe->len = STATX_SIZE;
        sqe->statx_flags = AT_EMPTY_PATH;
        sqe->off = reinterpret_cast<uintptr_t>(uring(op).statx);  // addr2: the output
        break;
      case OpKind::truncate:
        TIGERIO_ASSERT(uring_support().ftruncate);
        sqe->opcode = kOpFtruncate;
        sqe->off = static_cast<uint64_t>(op->args.truncate.length_bytes);
        break;
      case OpKind::allocate:
        // mode 0: allocate and extend the size, as posix_fallocate.
        sqe->opcode = IORING_OP_FALLOCATE;
        sqe->off = static_cast<uint64_t>(op->args.allocate.offset_bytes);
        sqe->addr = static_cast<uint64_t>(op->args.allocate.length_bytes);
        sqe->len = 0;
        break;
      case OpKind::send_to:
      case OpKind::recv_from:
      case OpKind::send_file:
        write_datagram_unix_file_sqe(op, sqe);
        break;
      case OpKind::process_exit:
        sqe->opcode = IORING_OP_POLL_ADD;
        sqe->fd = static_cast<int32_t>(op->args.process_exit.handle);
        sqe->poll32_events = POLLIN;
        break;
      case OpKind::recv_pooled:
        write_pooled_sqe(op, sqe);
        break;
      default:
        TIGERIO_ASSERT(false && "no SQE for this kind");
    }
    uring(op).stage = Stage::submitted;
  }

  // The part every path operation's SQE shares: the opcode, and its path
  // taken relative to the working directory, as the *at(2) calls take it.
  static void write_path_sqe(io_uring_sqe* sqe, uint8_t opcode, const char* path) {
    TIGERIO_ASSERT(opcode == IORING_OP_OPENAT || opcode == kOpRenameat || opcode == kOpUnlinkat || opcode == kOpMkdirat);
    TIGERIO_ASSERT(path != nullptr);
    sqe->opcode = opcode;
    sqe->fd = AT_FDCWD;
    sqe->addr = reinterpret_cast<uintptr_t>(path);
  }

  // ---- Datagrams, Unix connect, sendfile ----

  // Ops that complete inside issue(): true if `op` is done. A Unix connect
  // completes at once or fails (as on the readiness backends); a sendFile
  // tries sendfile(2) first and waits in the ring (a POLL_ADD) only when
  // the socket is full.
  bool issue_now(Op* op) {
    TIGERIO_ASSERT(op->state == OpState::pending && uring(op).stage == Stage::idle);
    if (op->kind == OpKind::connect_unix) {
      const ConnectUnixArgs& args = op->args.connect_unix;
      loop_->complete(op, posix::connect_unix(op->fd, args.path, args.path_length));
      return true;
    }
    if (op->kind == OpKind::send_file) {
      const SendFileArgs& args = op->args.send_file;
      const int32_t result = posix::send_file(op->fd, args.file_fd, args.offset, args.length);
      if (result == -EAGAIN) return false;
      loop_->complete(op, result);
      return true;
    }
    return false;
  }

  void write_datagram_unix_file_sqe(Op* op, io_uring_sqe* sqe) {
    TIGERIO_ASSERT(sqe->user_data == op->id());
    if (op->kind == OpKind::send_file) {
      // Waits for room in the socket; the CQE retries sendfile(2).
      sqe->opcode = IORING_OP_POLL_ADD;
      sqe->poll32_events = POLLOUT;
      return;
    }
    UringMessage& m = uring_message(op);
    std::memset(&m, 0, sizeof(m));
    m.message.msg_iov = &m.vector;
    m.message.msg_iovlen = 1;
    if (op->kind == OpKind::send_to) {
      const SendToArgs& args = op->args.send_to;
      m.vector = iovec{args.buffer, args.length};
      m.message.msg_name = const_cast<uint8_t*>(args.address);
      m.message.msg_namelen = posix::datagram_address_length(args.address);
      sqe->opcode = IORING_OP_SENDMSG;
      sqe->msg_flags = MSG_NOSIGNAL;
    } else {
      TIGERIO_ASSERT(op->kind == OpKind::recv_from);
      const RecvFromArgs& args = op->args.recv_from;
      m.vector = iovec{args.buffer, args.length};
      m.message.msg_name = &m.from;
      m.message.msg_namelen = sizeof(m.from);
      sqe->opcode = IORING_OP_RECVMSG;
      // MSG_TRUNC: the result is the datagram's real length, so a longer one shows.
      sqe->msg_flags = MSG_TRUNC;
    }
    sqe->addr = reinterpret_cast<uintptr_t>(&m.message);
    sqe->len = 1;
  }

  // A CQE of a recvFrom or sendFile: true if the op goes on (sendFile
  // waits again), false to finish it with `*result`.
  bool handle_datagram_file_cqe(Op* op, int32_t* result, bool cancel_requested) {
    TIGERIO_ASSERT(op->kind == OpKind::recv_from || op->kind == OpKind::send_file);
    TIGERIO_ASSERT(uring(op).stage == Stage::idle);
    if (op->kind == OpKind::recv_from && *result >= 0) {
      UringMessage& m = uring_message(op);
      const RecvFromArgs& args = op->args.recv_from;
      if (m.message.msg_namelen > 0) {
        write_address_object(reinterpret_cast<const sockaddr*>(&m.from), args.address);
      } else {
        std::memset(args.address, 0, kAddressBytes);
      }
      if (static_cast<uint32_t>(*result) > args.length) *result = -EMSGSIZE;
      return false;
    }
    if (op->kind == OpKind::send_file && *result >= 0) {
      if (cancel_requested) {
        *result = kErrCanceled;  // only readiness came back: nothing was sent
        return false;
      }
      const SendFileArgs& args = op->args.send_file;
      *result = posix::send_file(op->fd, args.file_fd, args.offset, args.length);
      if (*result != -EAGAIN) return false;
      enqueue(op);
      return true;
    }
    return false;
  }

  // ---- Multishot accepts (io_uring_accept.h) ----

  // An accept goes to its listener's multishot: true if it is done (a
  // connection was waiting) or waits for the next one; false to give it an
  // SQE of its own, single-shot (a kernel before 5.19, or no free SQE to
  // arm the multishot with).
  bool accept_from_listener(Op* op, FdEntry& entry) {
    TIGERIO_ASSERT(op->kind == OpKind::accept && uring(op).stage == Stage::idle);
    if (!uring_support().multishot_accept) return false;
    FdState& state = entry.backend_state<FdState>();
    AcceptListener* listener = listeners_.find(state.listener, op->fd);
    if (listener == nullptr) {
      if (sq_space() == 0) return false;
      listener = listeners_.open(op->fd, &state.listener);
      if (listener == nullptr) return false;
    }
    TIGERIO_ASSERT(listener->waiting == nullptr);  // the core issues one accept per fd at a time
    int32_t fd = -1;
    if (AcceptListeners::pop(*listener, &fd)) {
      loop_->complete(op, fd);
      return true;
    }
    if (!listener->armed && !arm_accept(*listener)) return false;
    listener->waiting = op;
    uring(op).stage = Stage::accept_waiting;
    uring(op).listener = state.listener;
    issued_++;
    return true;
  }

  // Writes the listener's multishot SQE: false if the SQ is full.
  bool arm_accept(AcceptListener& listener) {
    TIGERIO_ASSERT(listener.state == AcceptListener::State::open && !listener.armed);
    const uint32_t sq_index = sq_tail_;
    io_uring_sqe* sqe = next_sqe();
    if (sqe == nullptr) return false;
    sqe->opcode = IORING_OP_ACCEPT;
    sqe->fd = listener.fd;
    sqe->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    sqe->ioprio = kAcceptMultishot;
    sqe->user_data = kInternal | kTagAccept | AcceptListeners::payload(listener);
    listener.sq_index = sq_index;
    listener.armed = true;
    listener.cancel_sent = false;
    return true;
  }

  // A CQE of a listener's multishot: a connection (or an error) for the
  // accept that waits, else for the queue; without IORING_CQE_F_MORE the
  // kernel is done with the SQE (cancelled, an error, a full CQ ring).
  void handle_accept_cqe(uint64_t payload, int32_t result, uint32_t cqe_flags) {
    AcceptListener* listener = listeners_.from_payload(payload);
    TIGERIO_ASSERT(listener != nullptr && listener->armed);  // a record is freed only after its last CQE
    if ((cqe_flags & kCqeMore) == 0) accept_done(*listener);
    if (listener->state == AcceptListener::State::closing) {
      if (result >= 0) ::close(result);
      if (!listener->armed) listeners_.release(*listener);
      return;
    }
    if (result >= 0) set_nodelay(result);
    Op* op = listener->waiting;
    if (op != nullptr && (result >= 0 || (result != -ECANCELED && result != -ECONNABORTED))) {
      // The accept's own result, an error included (EMFILE, EINVAL on a socket that does not listen).
      listener->waiting = nullptr;
      finish(op, result);
      // Its completion may have issued the listener's next accept, or closed the listener.
      listener = listeners_.from_payload(payload);
    } else if (result >= 0) {
      if (!AcceptListeners::push(*listener, result)) {
        ::close(result);  // past the bound, dropped as a full backlog drops it (io_uring_accept.h)
      } else if (listener->count >= AcceptListener::kQueueHighWater) {
        want_accept_cancel(*listener);  // the rest waits in the kernel's backlog
      }
    }
    // Cancelled while the queue was full, or a connection aborted in the backlog: an accept waits again.
    if (listener == nullptr || listener->state != AcceptListener::State::open) return;
    if (listener->armed || listener->waiting == nullptr) return;
    op = listener->waiting;
    if (arm_accept(*listener)) return;
    listener->waiting = nullptr;  // no free SQE: this accept goes single-shot, through the overflow
    uring(op).stage = Stage::idle;
    enqueue(op);
  }

  // The listener's multishot has had its last CQE.
  void accept_done(AcceptListener& listener) {
    TIGERIO_ASSERT(listener.armed);
    listener.armed = false;
    listener.cancel_sent = false;
    if (listener.cancel_wanted) {
      listener.cancel_wanted = false;
      TIGERIO_ASSERT(accept_cancels_wanted_ > 0);
      accept_cancels_wanted_--;
    }
  }

  void want_accept_cancel(AcceptListener& listener) {
    if (!listener.armed || listener.cancel_sent || listener.cancel_wanted) return;
    listener.cancel_wanted = true;
    accept_cancels_wanted_++;
    write_accept_cancels();
  }

  // The cancels of multishots that wait for an SQE, as far as the SQ has room.
  void write_accept_cancels() {
    for (uint32_t index = 0; accept_cancels_wanted_ > 0 && index < listeners_.size(); index++) {
      AcceptListener& listener = listeners_.at(index);
      if (!listener.cancel_wanted) continue;
      io_uring_sqe* sqe = next_sqe();
      if (sqe == nullptr) return;
      sqe->opcode = IORING_OP_ASYNC_CANCEL;
      sqe->fd = -1;
      sqe->addr = kInternal | kTagAccept | AcceptListeners::payload(listener);
      sqe->user_data = kInternal | kTagIgnore;  // the multishot's last CQE says it is gone
      listener.cancel_wanted = false;
      listener.cancel_sent = true;
      accept_cancels_wanted_--;
    }
  }

  // The listener is closed, or its number names another file now: the
  // connections it queued are closed, and its multishot is cancelled, at
  // once, so that the kernel lets go of the socket before close(2) (the
  // port then listens no more). Connections the multishot accepted whose
  // CQEs wait in the CQ ring are closed now too. The record is freed at the
  // multishot's last CQE.
  void retire_listener(AcceptListener& listener) {
    TIGERIO_ASSERT(listener.state == AcceptListener::State::open && listener.waiting == nullptr);
    AcceptListeners::close_queue(listener);
    if (listener.armed && sqe_unread(listener.sq_index)) {
      // The kernel has not read the SQE (the tick that armed it has not
      // entered yet): a NOP instead, and nothing to wait for.
      TIGERIO_ASSERT(!listener.cancel_sent);
      io_uring_sqe* sqe = &ring_.sqes[listener.sq_index & ring_.sq_mask];
      std::memset(sqe, 0, sizeof(*sqe));
      sqe->opcode = IORING_OP_NOP;
      sqe->user_data = kInternal | kTagIgnore;
      accept_done(listener);
    }
    if (!listener.armed) {
      listeners_.release(listener);
      return;
    }
    if (sq_space() == 0) enter(0, 0, nullptr, 0);
    want_accept_cancel(listener);
    // The cancel is done inside this call, and the multishot's last CQE
    // posted as task work before the call returns to user space. Not
    // submit_all(): we may be inside reap(), which must not run again.
    enter(0, IORING_ENTER_GETEVENTS, nullptr, 0);
    drop_accept_cqes(listener);
  }

  // CQEs of a closing listener's multishot that wait in the CQ ring, not
  // yet handled: their connections are closed, and the CQEs ignored.
  void drop_accept_cqes(AcceptListener& listener) {
    TIGERIO_ASSERT(listener.state == AcceptListener::State::closing);
    const uint64_t user_data = kInternal | kTagAccept | AcceptListeners::payload(listener);
    const uint32_t tail = load_acquire(ring_.cq_tail);
    for (uint32_t index = reaping_ ? reap_head_ : *ring_.cq_head; index != tail && listener.armed; index++) {
      io_uring_cqe& cqe = ring_.cqes[index & ring_.cq_mask];
      if (cqe.user_data != user_data) continue;
      cqe.user_data = kInternal | kTagIgnore;  // ours until we move the head past it
      if (cqe.res >= 0) ::close(cqe.res);
      if ((cqe.flags & kCqeMore) == 0) accept_done(listener);
    }
    if (!listener.armed) listeners_.release(listener);
  }

  // At destruction: the listeners still open (the IO did not make them, so
  // did not close them) are retired, and every multishot's last CQE is
  // awaited, each one's connection closed.
  void stop_accepts() {
    for (uint32_t index = 0; index < listeners_.size(); index++) {
      AcceptListener& listener = listeners_.at(index);
      if (listener.state == AcceptListener::State::open) retire_listener(listener);
    }
    for (uint32_t round = 0; round < kDrainRoundsMax && listeners_.any(); round++) {
      write_accept_cancels();  // those that found the SQ full
      enter(1, IORING_ENTER_GETEVENTS, nullptr, 0);
      reap();
    }
    TIGERIO_ASSERT(!listeners_.any());
  }

  static void set_nodelay(int32_t fd) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // a Unix socket says EOPNOTSUPP: no matter
  }

  // ---- Pooled receives ----

  // With a provided-buffer ring, a RECV whose buffer the kernel selects from
  // the pool's group when data arrives. Without one (a kernel before 5.19),
  // a POLL_ADD for readable, after which the buffer is taken from the core
  // and the receive made at once (handle_pooled_cqe).
  void write_pooled_sqe(Op* op, io_uring_sqe* sqe) {
    const RecvPooledArgs& args = op->args.recv_pooled;
    const BufferPool& pool = loop_->pool(args.pool);
    TIGERIO_ASSERT(args.buffer == kNoBuffer);
    if (pool.kernel_selects) {
      sqe->opcode = IORING_OP_RECV;
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = static_cast<uint16_t>(args.pool);
      sqe->len = pool.size;
    } else {
      sqe->opcode = IORING_OP_POLL_ADD;
      sqe->poll32_events = POLLIN;
    }
  }

  // A pooled receive's CQE: true if the op goes on (it waits again, or is
  // parked in the core for a buffer), false to finish it with `*result`.
  bool handle_pooled_cqe(Op* op, int32_t* result, uint32_t cqe_flags, bool cancel_requested) {
    RecvPooledArgs& args = op->args.recv_pooled;
    TIGERIO_ASSERT(op->kind == OpKind::recv_pooled && args.buffer == kNoBuffer);
    if (loop_->pool(args.pool).kernel_selects) {
      // The buffer the kernel used; one that holds nothing the core gives back (Loop::complete).
      if ((cqe_flags & IORING_CQE_F_BUFFER) != 0) args.buffer = cqe_flags >> IORING_CQE_BUFFER_SHIFT;
      if (*result != -ENOBUFS) return false;
      // Every buffer is lent: the data waits in the socket until one comes back.
      park(op);
      return true;
    }
    if (*result < 0) return false;
    if (cancel_requested) {
      *result = kErrCanceled;  // only readiness came back: nothing was read
      return false;
    }
    if (!loop_->pool_take(op)) {
      park(op);
      return true;
    }
    const BufferPool& pool = loop_->pool(args.pool);
    *result = posix::recv(op->fd, pool.data(args.buffer), pool.size);
    if (*result != -EAGAIN && *result != -EWOULDBLOCK) return false;
    loop_->pool_untake(op);
    enqueue(op);
    return true;
  }

  // The backend lets go of `op`, which waits in the core for a buffer.
  void park(Op* op) {
    TIGERIO_ASSERT(issued_ > 0 && uring(op).stage == Stage::idle);
    issued_--;
    loop_->pool_park(op);
  }

  void write_cancel_sqe(Op* op) {
    io_uring_sqe* sqe = next_sqe();
    TIGERIO_ASSERT(sqe != nullptr);
    // The target is named by its full id: a newer op in the same slot has another.
    sqe->opcode = IORING_OP_ASYNC_CANCEL;
    sqe->fd = -1;
    sqe->addr = op->id();
    sqe->user_data = kInternal | kTagCancel | op->id();
    uring(op).stage = Stage::submitted;
  }

  void arm_wake() {
    if (wake_armed_) return;
    io_uring_sqe* sqe = next_sqe();
    if (sqe == nullptr) return;  // the next fill_sq() tries again
    // The eventfd is blocking on purpose: io_uring answers a read of an
    // O_NONBLOCK file with EAGAIN instead of waiting.
    sqe->opcode = IORING_OP_READ;
    sqe->fd = wake_fd_;
    sqe->addr = reinterpret_cast<uintptr_t>(&wake_value_);
    sqe->len = sizeof(wake_value_);
    sqe->off = ~uint64_t{0};
    sqe->user_data = kInternal | kTagWake;
    wake_armed_ = true;
  }

  // Moves the wake-up read and the overflow into the SQ while it has room.
  void fill_sq() {
    arm_wake();
    write_accept_cancels();
    while (overflow_head_ != nullptr && sq_space() > 0) {
      Op* op = overflow_pop();
      UringOp& u = uring(op);
      if (u.stage == Stage::waiting) {
        write_sqe(op);
      } else {
        TIGERIO_ASSERT(u.stage == Stage::cancel_waiting);
        write_cancel_sqe(op);
      }
    }
  }

  // Publishes the SQ tail and calls io_uring_enter: its result or -errno.
  int enter(uint32_t min_complete, uint32_t flags, const void* arg, size_t arg_size) {
    store_release(ring_.sq_tail, sq_tail_);
    const uint32_t to_submit = sq_pending();
    const int enter_fd = ring_.enter_fd(&flags);
    const int rc = sys_io_uring_enter(enter_fd, to_submit, min_complete, flags, arg, arg_size);
    if (rc >= 0) return rc;
    const int error = errno;
    // EINTR: a signal (the caller goes round again); ETIME: the wait timed
    // out; EAGAIN/EBUSY: the kernel wants CQEs reaped (or memory) before it
    // takes more. Anything else is a bug in how the ring is driven.
    if (error != EINTR && error != ETIME && error != EAGAIN && error != EBUSY) {
      std::fprintf(stderr, "tigerio: io_uring_enter failed with errno %d\n", error);
      TIGERIO_ASSERT(false && "io_uring_enter failed");
    }
    return -error;
  }

  // Submits the SQ and the overflow without waiting, as far as the kernel takes them.
  void submit_all() {
    for (;;) {
      fill_sq();
      const uint32_t before = sq_pending();
      if (before == 0) return;
      const int rc = enter(0, 0, nullptr, 0);
      if (rc == -EINTR) continue;
      if (rc == -EAGAIN || rc == -EBUSY) {
        // Make room: flush the kernel's CQ backlog into the ring and reap it.
        enter(0, IORING_ENTER_GETEVENTS, nullptr, 0);
        if (reap() == 0) return;  // no progress possible now: wait() retries
        continue;
      }
      if (sq_pending() == before) return;
    }
  }

  // The kernel gives a timed epoll_wait or poll a slack (select_estimate_accuracy:
  // the thread's timer slack, 50 us by default, or 0.1% of the wait if more,
  // at most 100 ms), so that wake-ups close together merge into one; a timed
  // io_uring wait has none (io_cqring_schedule_timeout: a range of 0). With
  // many timers due close together (the bench's 1,000,000 in one second) that
  // made a wake-up, an enter and a harvest per few timers, where epoll makes
  // one per tens: the same slack here makes the two backends wake alike.
  // Like epoll's, it only ever makes a wait end later, never earlier.
  int64_t with_slack(int64_t timeout_ns) const {
    TIGERIO_ASSERT(timeout_ns > 0);
    constexpr int64_t kSlackMaxNs = 100'000'000;
    const int64_t slack_ns = std::min(std::max(timer_slack_ns_, timeout_ns / 1000), kSlackMaxNs);
    return timeout_ns > INT64_MAX - slack_ns ? timeout_ns : timeout_ns + slack_ns;
  }

  void wait_for_completions(int64_t timeout_ns) {
    TIGERIO_ASSERT(timeout_ns != 0);
    if (timeout_ns > 0) timeout_ns = with_slack(timeout_ns);
    uint32_t flags = IORING_ENTER_GETEVENTS;
#ifdef IORING_FEAT_EXT_ARG
    // Without a limit (run()), no argument at all: the kernel then copies nothing in.
    if (ext_arg_ && timeout_ns > 0) {
      __kernel_timespec timeout{};
      io_uring_getevents_arg arg;
      std::memset(&arg, 0, sizeof(arg));
      timeout.tv_sec = timeout_ns / 1000000000;
      timeout.tv_nsec = timeout_ns % 1000000000;
      arg.ts = reinterpret_cast<uintptr_t>(&timeout);
      flags |= IORING_ENTER_EXT_ARG;
      // EINTR: the loop's poll returns and the caller waits again; ETIME: done.
      enter(1, flags, &arg, sizeof(arg));
      return;
    }
#endif
    if (timeout_ns > 0 && !arm_wait_timeout(timeout_ns)) {
      // No SQE for the timer (SQ full): do not block past the deadline.
      enter(0, 0, nullptr, 0);
      return;
    }
    enter(1, flags, nullptr, 0);
  }

  // Before 5.11 (no EXT_ARG) a wait is bounded by an internal IORING_OP_TIMEOUT.
  bool arm_wait_timeout(int64_t timeout_ns) {
    TIGERIO_ASSERT(timeout_ns > 0);
    io_uring_sqe* sqe = next_sqe();
    if (sqe == nullptr) return false;
    wait_timeout_.tv_sec = timeout_ns / 1000000000;
    wait_timeout_.tv_nsec = timeout_ns % 1000000000;
    wait_timeout_sequence_ = (wait_timeout_sequence_ + 1) & kPayloadMask;
    sqe->opcode = IORING_OP_TIMEOUT;
    sqe->fd = -1;
    sqe->addr = reinterpret_cast<uintptr_t>(&wait_timeout_);
    sqe->len = 1;
    sqe->user_data = kInternal | kTagWaitTimeout | wait_timeout_sequence_;
    wait_timeout_armed_ = true;
    return true;
  }

  void remove_wait_timeout() {
    TIGERIO_ASSERT(wait_timeout_armed_);
    io_uring_sqe* sqe = next_sqe();
    if (sqe == nullptr) return;  // it fires later: a harmless early return of some wait
    sqe->opcode = IORING_OP_TIMEOUT_REMOVE;
    sqe->fd = -1;
    sqe->addr = kInternal | kTagWaitTimeout | wait_timeout_sequence_;
    sqe->user_data = kInternal | kTagIgnore;
    wait_timeout_armed_ = false;  // its CQE (-ECANCELED) no longer matters
  }

  // ---- CQEs ----

  // Handles every CQE in the ring; returns the count.
  uint32_t reap() {
    TIGERIO_ASSERT(!reaping_);
    reaping_ = true;
    uint32_t count = 0;
    for (uint32_t round = 0; round < 2; round++) {
      uint32_t head = *ring_.cq_head;  // only this thread writes it
      const uint32_t tail = load_acquire(ring_.cq_tail);
      TIGERIO_ASSERT(tail - head <= ring_.cq_entries);
      while (head != tail) {
        const io_uring_cqe& cqe = ring_.cqes[head & ring_.cq_mask];
        const uint64_t user_data = cqe.user_data;
        const int32_t result = cqe.res;
        const uint32_t flags = cqe.flags;
        head++;
        reap_head_ = head;
        count++;
        handle(user_data, result, flags);
      }
      store_release(ring_.cq_head, head);
      // CQEs the kernel kept aside for want of room (IORING_FEAT_NODROP):
      // entering with GETEVENTS moves them into the ring we just emptied.
      if ((load_acquire(ring_.sq_flags) & IORING_SQ_CQ_OVERFLOW) == 0) break;
      enter(0, IORING_ENTER_GETEVENTS, nullptr, 0);
    }
    reaping_ = false;
    return count;
  }

  void handle(uint64_t user_data, int32_t result, uint32_t cqe_flags) {
    if (user_data & kInternal) {
      const uint64_t tag = user_data & kTagMask;
      if (tag == kTagWake) {
        wake_armed_ = false;  // re-armed by the next fill_sq(); the read drained the counter
        woken_ = true;
      } else if (tag == kTagWaitTimeout) {
        if ((user_data & kPayloadMask) == wait_timeout_sequence_) wait_timeout_armed_ = false;
      } else if (tag == kTagAccept) {
        handle_accept_cqe(user_data & kPayloadMask, result, cqe_flags);
      }
      // kTagCancel, kTagIgnore: the target's own CQE carries the outcome.
      return;
    }
    Op* op = loop_->find_issued(user_data);
    TIGERIO_ASSERT(op != nullptr && op->id() == user_data);
    UringOp& u = uring(op);
    if (u.stage == Stage::cancel_waiting) overflow_remove(op);  // too late to cancel
    TIGERIO_ASSERT(u.stage == Stage::submitted || u.stage == Stage::cancel_waiting);
    if (op->state == OpState::abandoned) {
      // The core gave up on its cancel (core/loop.h): the kernel is done
      // with it at last. Nothing is concluded: its buffers are no one's
      // (the core closes an fd it made, an accept's or an open's, and
      // gives a pooled receive's ring buffer back to its pool).
      if (op->kind == OpKind::recv_pooled && (cqe_flags & IORING_CQE_F_BUFFER) != 0) {
        TIGERIO_ASSERT(op->args.recv_pooled.buffer == kNoBuffer);
        op->args.recv_pooled.buffer = cqe_flags >> IORING_CQE_BUFFER_SHIFT;
      }
      finish(op, result);
      return;
    }
    u.stage = Stage::idle;
    const bool cancel_requested = (op->core_flags & kOpCancelRequested) != 0;
    if (op->kind == OpKind::accept) {
      if (result == -ECONNABORTED && !cancel_requested) {
        // The connection died in the accept queue: wait for the next one.
        enqueue(op);
        return;
      }
      if (result >= 0) set_nodelay(result);
    }
    // An op a cancel interrupted in an io-wq worker (a blocking read) says EINTR.
    if (result == -EINTR && cancel_requested) result = kErrCanceled;
    if (op->kind == OpKind::allocate && result == -EOPNOTSUPP && !cancel_requested) {
      // The file system has no fallocate: allocate by writing, as glibc's
      // posix_fallocate (what epoll runs) does. Its fd's head: order holds.
      result = posix::allocate(op->fd, op->args.allocate.offset_bytes, op->args.allocate.length_bytes);
    }
    if ((op->kind == OpKind::recv_from || op->kind == OpKind::send_file) && handle_datagram_file_cqe(op, &result, cancel_requested)) return;
    if (op->kind == OpKind::recv_pooled && handle_pooled_cqe(op, &result, cqe_flags, cancel_requested)) return;
    finish(op, result);
  }

  // The op is done: its result to the core, which issues its fd's next op.
  void finish(Op* op, int32_t result) {
    TIGERIO_ASSERT(issued_ > 0);
    TIGERIO_ASSERT(uring(op).overflow_next == nullptr);
    issued_--;
    UringOp& u = uring(op);
    u.stage = Stage::idle;
    if (op->kind == OpKind::file_size) {
      // The kernel is done with the buffer (its CQE came, or it never read the SQE).
      struct statx* status = u.statx;
      u.statx = nullptr;
      TIGERIO_ASSERT(status != nullptr);
      int64_t size_or_error = result;
      if (result >= 0) {
        size_or_error = (status->stx_mask & STATX_SIZE) != 0 ? static_cast<int64_t>(status->stx_size) : kErrNotSupported;
      }
      statx_pool_.release(status);
      loop_->complete_size(op, size_or_error);
      return;
    }
    if (is_datagram(op->kind)) {
      // The kernel is done with the msghdr (its CQE came, or it never read the SQE).
      TIGERIO_ASSERT(u.message != nullptr);
      message_pool_.release(u.message);
      u.message = nullptr;
    }
    if (op->kind == OpKind::process_exit) {
      // The kernel is done with the pidfd: its poll's CQE came, or it never read the SQE.
      const int pidfd = static_cast<int>(op->args.process_exit.handle);
      TIGERIO_ASSERT(pidfd >= 0);
      if (result >= 0) result = posix::pidfd_exit_result(pidfd);  // exited, even if a cancel came too late
      ::close(pidfd);
      op->args.process_exit.handle = -1;
    }
    loop_->complete(op, result);
  }

  Ring ring_;
  const int wake_fd_;
  uint64_t wake_value_ = 0;  // the wake-up read's buffer
  bool wake_armed_ = false;  // its SQE is written (in the SQ or the kernel)
  bool woken_ = false;       // a wake-up CQE was reaped during this wait()
  bool ext_arg_ = false;
  int64_t timer_slack_ns_ = 50'000;  // this thread's (PR_GET_TIMERSLACK), as epoll's waits get
  __kernel_timespec wait_timeout_{};
  uint64_t wait_timeout_sequence_ = 0;
  bool wait_timeout_armed_ = false;
  uint32_t sq_tail_ = 0;   // our tail; published to the kernel by enter()
  uint32_t issued_ = 0;    // ops given to issue() and not yet finished
  Op* overflow_head_ = nullptr;
  Op* overflow_tail_ = nullptr;
  SidePool<struct statx> statx_pool_;
  SidePool<UringMessage> message_pool_;
  AcceptListeners listeners_;         // listeners with a multishot accept, and what they accepted
  uint32_t accept_cancels_wanted_ = 0;  // listeners whose multishot's cancel waits for a free SQE
  bool reaping_ = false;              // reap() is handling CQEs...
  uint32_t reap_head_ = 0;            // ...and the next one it handles is at this CQ index
  BufferRings buffer_rings_;  // after ring_: its memory goes before the ring closes
};

}  // namespace

bool io_uring_available() { return uring_support().usable; }
const char* io_uring_unavailable_reason() { return uring_support().unusable_reason; }

std::unique_ptr<Backend> create_io_uring_backend(Loop* loop, const LoopConfig& config, int* error) {
  if (!io_uring_available()) {
    *error = kErrNotSupported;
    return nullptr;
  }
  const int wake_fd = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd < 0) {
    *error = -errno;
    return nullptr;
  }
  std::unique_ptr<IoUringBackend> backend(new IoUringBackend(loop, wake_fd));
  const int result = backend->init(config);
  if (result < 0) {
    *error = result;
    return nullptr;
  }
  return backend;
}

}  // namespace tigerio

#else  // !TIGERIO_HAVE_IO_URING

#include "../core/errors.h"

namespace tigerio {

bool io_uring_available() { return false; }
const char* io_uring_unavailable_reason() { return "built without <linux/io_uring.h> (Linux 5.6 headers)"; }

std::unique_ptr<Backend> create_io_uring_backend(Loop*, const LoopConfig&, int* error) {
  *error = kErrNotSupported;
  return nullptr;
}

}  // namespace tigerio

#endif
