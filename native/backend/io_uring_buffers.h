// io_uring's provided-buffer rings (IORING_REGISTER_PBUF_RING, Linux 5.19):
// one ring per buffer pool, registered as buffer group `pool id`, so that a
// recvPooled's SQE (IOSQE_BUFFER_SELECT) lets the kernel pick the buffer
// when the data arrives, and its CQE names the buffer (IORING_CQE_F_BUFFER).
// A kernel without them refuses the registration (EINVAL): the pool then
// stays with the core and the backend polls, then receives (io_uring.cc).
// Used only by io_uring.cc, with its ring's fd; the layouts are the kernel's ABI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/buffer_pools.h"

namespace tigerio {

class BufferRings {
 public:
  BufferRings() = default;
  BufferRings(const BufferRings&) = delete;
  BufferRings& operator=(const BufferRings&) = delete;
  ~BufferRings();

  // Registers a ring holding every buffer of `pool` as group `id` of the
  // io_uring `ring_fd`: true, or false when the kernel has no such rings
  // (or no memory for one); then nothing is registered.
  bool create(int ring_fd, uint32_t id, const BufferPool& pool);
  // Buffer `index` of pool `id` is free again: back into its ring.
  void recycle(uint32_t id, const BufferPool& pool, uint32_t index);
  // Unregisters every ring (before the io_uring closes).
  void destroy_all(int ring_fd);

  // True once the kernel refused a ring: later pools do not ask again.
  bool unsupported() const { return unsupported_; }

 private:
  struct Ring {
    void* memory = nullptr;  // entries * 16 bytes, page-aligned (mmap), shared with the kernel
    size_t bytes = 0;
    uint32_t entries = 0;
    uint16_t tail = 0;  // ours; published to the kernel with a release store
    bool registered = false;
  };
  void add(Ring& ring, const BufferPool& pool, uint32_t index);
  void publish(Ring& ring);

  std::vector<Ring> rings_;  // by pool id (a pool the core keeps has an empty one)
  bool unsupported_ = false;
};

}  // namespace tigerio
