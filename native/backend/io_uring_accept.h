// io_uring's multishot accepts (IORING_OP_ACCEPT with IORING_ACCEPT_MULTISHOT,
// Linux 5.19): one SQE per listener accepts connection after connection,
// where a single-shot accept needs an SQE, a submission and a new attempt
// per connection. The contract is one callback per accept operation, so a
// connection the kernel accepted while no accept of its listener waited is
// kept here, in arrival order, until the next accept asks for it (which
// then completes at once), and is closed when the listener is closed or
// the IO goes away. This file keeps the listeners' records and their
// queues; io_uring.cc writes the SQEs and reads the CQEs.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "../core/operation.h"

namespace tigerio {

struct AcceptListener {
  // Connections kept at most per listener. The multishot is cancelled once
  // kQueueHighWater wait (the rest of the backlog then waits in the kernel,
  // as it would for a single-shot accept), so the queue passes that only by
  // the connections the kernel accepts before the cancel reaches it: one
  // pass over the listen backlog (511 by default) at most. A connection
  // past kQueueMax is closed, as a full backlog drops one.
  static constexpr uint32_t kQueueMax = 1024;
  static constexpr uint32_t kQueueHighWater = 64;

  enum class State : uint8_t {
    free,     // reusable
    open,     // the listener fd is open; accepts use it
    closing,  // the listener was closed: its multishot's last CQE has yet to come
  };

  int32_t fd = -1;
  uint32_t index = 0;       // in its table, for good
  uint32_t generation = 0;  // changes when the record is freed: a late CQE of an older life names another
  State state = State::free;
  bool armed = false;          // a multishot SQE is in the SQ or the kernel: its last CQE (no F_MORE) has not come
  bool cancel_wanted = false;  // its ASYNC_CANCEL waits for a free SQE
  bool cancel_sent = false;    // its ASYNC_CANCEL is in the SQ or the kernel
  uint32_t sq_index = 0;       // where the multishot SQE went: unread by the kernel until its head passes it
  Op* waiting = nullptr;       // the accept that takes the next connection
  uint32_t head = 0;           // the queue: `count` fds from fds[head], in arrival order
  uint32_t count = 0;
  int32_t fds[kQueueMax];
};

class AcceptListeners {
 public:
  AcceptListeners() = default;
  AcceptListeners(const AcceptListeners&) = delete;
  AcceptListeners& operator=(const AcceptListeners&) = delete;
  ~AcceptListeners();  // closes the fds still queued

  // A new open record for listener `fd`; its handle (>= 1, for the fd's
  // backend state) in *handle. nullptr when every handle is taken.
  AcceptListener* open(int32_t fd, uint16_t* handle);
  // The open record behind `handle` for `fd`, or nullptr.
  AcceptListener* find(uint16_t handle, int32_t fd);
  // The open record of `fd`, by a scan (only when an fd number starts a new life).
  AcceptListener* find_open_fd(int32_t fd);
  // The record a CQE's payload names (any state but free, same life), or nullptr.
  AcceptListener* from_payload(uint64_t payload);
  // What a multishot SQE's user_data carries for `listener` (48 bits).
  static uint64_t payload(const AcceptListener& listener);

  // Queues an accepted fd: false when the queue is full.
  static bool push(AcceptListener& listener, int32_t fd);
  // The oldest queued fd, or false.
  static bool pop(AcceptListener& listener, int32_t* fd);
  // The listener is closed: its queued fds are closed, and it is closing.
  static void close_queue(AcceptListener& listener);

  // Frees a closing record whose multishot is done.
  void release(AcceptListener& listener);

  // True while some record is not free (a listener open, or closing).
  bool any() const { return in_use_ > 0; }
  uint32_t size() const { return static_cast<uint32_t>(records_.size()); }
  AcceptListener& at(uint32_t index) { return *records_[index]; }

 private:
  std::vector<std::unique_ptr<AcceptListener>> records_;  // a record's address never moves
  std::vector<uint32_t> free_;                            // indexes of free records
  uint32_t in_use_ = 0;
};

}  // namespace tigerio
