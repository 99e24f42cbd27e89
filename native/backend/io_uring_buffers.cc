#include "io_uring_buffers.h"

#if defined(__linux__)
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../core/layout.h"

namespace tigerio {

namespace {

// The kernel's ABI (include/uapi/linux/io_uring.h, 5.19): spelled out here so
// that the build does not need headers that new.
constexpr unsigned kRegisterPbufRing = 22;
constexpr unsigned kUnregisterPbufRing = 23;
struct RingEntry {  // struct io_uring_buf; entry 0's last 2 bytes are the ring's tail
  uint64_t addr;
  uint32_t len;
  uint16_t bid;
  uint16_t resv;
};
static_assert(sizeof(RingEntry) == 16, "io_uring_buf is 16 bytes");
constexpr size_t kTailOffset = 14;  // struct io_uring_buf_ring: the tail overlays bufs[0].resv
struct RingRegistration {  // struct io_uring_buf_reg
  uint64_t ring_addr;
  uint32_t ring_entries;
  uint16_t bgid;
  uint16_t flags;
  uint64_t resv[3];
};
static_assert(sizeof(RingRegistration) == 40, "io_uring_buf_reg is 40 bytes");

int register_call(int ring_fd, unsigned opcode, void* arg) {
#if defined(SYS_io_uring_register)
  return static_cast<int>(::syscall(SYS_io_uring_register, ring_fd, opcode, arg, 1));
#else
  (void)ring_fd;
  (void)opcode;
  (void)arg;
  errno = ENOSYS;
  return -1;
#endif
}

uint32_t ring_entries_for(uint32_t count) {
  uint32_t entries = 1;
  while (entries < count) entries <<= 1;
  return entries;
}

}  // namespace

BufferRings::~BufferRings() {
  // destroy_all() unregistered them; the memory goes now.
  for (Ring& ring : rings_) {
    TIGERIO_ASSERT(!ring.registered);
    if (ring.memory != nullptr) ::munmap(ring.memory, ring.bytes);
  }
}

bool BufferRings::create(int ring_fd, uint32_t id, const BufferPool& pool) {
  TIGERIO_ASSERT(id == rings_.size() && id < kPoolsPerIOMax);
  TIGERIO_ASSERT(pool.count >= 1 && pool.count <= kPoolBuffersMax);
  if (rings_.capacity() == 0) rings_.reserve(kPoolsPerIOMax);  // once: no allocation per pool after
  rings_.emplace_back();
  if (unsupported_) return false;
  Ring& ring = rings_.back();
  ring.entries = ring_entries_for(pool.count);
  ring.bytes = static_cast<size_t>(ring.entries) * sizeof(RingEntry);
  void* memory = ::mmap(nullptr, ring.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return false;
  ring.memory = memory;
  RingRegistration registration;
  std::memset(&registration, 0, sizeof(registration));
  registration.ring_addr = reinterpret_cast<uintptr_t>(memory);
  registration.ring_entries = ring.entries;
  registration.bgid = static_cast<uint16_t>(id);
  if (register_call(ring_fd, kRegisterPbufRing, &registration) < 0) {
    // EINVAL: a kernel before 5.19 (or one that refuses the flags); the core keeps this pool.
    if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) unsupported_ = true;
    ::munmap(ring.memory, ring.bytes);
    ring = Ring{};
    return false;
  }
  ring.registered = true;
  for (uint32_t index = 0; index < pool.count; index++) add(ring, pool, index);
  publish(ring);
  return true;
}

void BufferRings::recycle(uint32_t id, const BufferPool& pool, uint32_t index) {
  TIGERIO_ASSERT(id < rings_.size());
  Ring& ring = rings_[id];
  TIGERIO_ASSERT(ring.registered);
  add(ring, pool, index);
  publish(ring);
}

void BufferRings::add(Ring& ring, const BufferPool& pool, uint32_t index) {
  TIGERIO_ASSERT(index < pool.count && index <= 0xffff);
  auto* entries = static_cast<RingEntry*>(ring.memory);
  RingEntry& entry = entries[ring.tail & (ring.entries - 1)];
  entry.addr = reinterpret_cast<uintptr_t>(pool.data(index));
  entry.len = pool.size;
  entry.bid = static_cast<uint16_t>(index);
  ring.tail++;
}

void BufferRings::publish(Ring& ring) {
  auto* tail = reinterpret_cast<uint16_t*>(static_cast<uint8_t*>(ring.memory) + kTailOffset);
  __atomic_store_n(tail, ring.tail, __ATOMIC_RELEASE);
}

void BufferRings::destroy_all(int ring_fd) {
  for (uint32_t id = 0; id < rings_.size(); id++) {
    Ring& ring = rings_[id];
    if (!ring.registered) continue;
    RingRegistration registration;
    std::memset(&registration, 0, sizeof(registration));
    registration.bgid = static_cast<uint16_t>(id);
    register_call(ring_fd, kUnregisterPbufRing, &registration);  // closing the ring would drop it too
    ring.registered = false;
  }
}

}  // namespace tigerio

#endif  // __linux__
