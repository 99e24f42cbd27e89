#include "readiness.h"

#include <cerrno>
#include <climits>
#include <cstdio>

#include "../core/errors.h"
#include "../core/layout.h"
#include "../core/loop.h"

namespace tigerio {

namespace {

// Op::backend_flags bit: connect() was issued and returned EINPROGRESS.
constexpr uint8_t kConnectStarted = 1;

// attempt()'s answer for a recvPooled whose pool is empty: it parks in the core.
constexpr int32_t kPoolEmpty = INT32_MIN;

bool is_recv(OpKind kind) { return kind == OpKind::recv || kind == OpKind::recv_pooled; }

}  // namespace

ReadinessBackend::ReadinessBackend(Loop* loop, std::unique_ptr<Poller> poller, const char* name,
                                   uint32_t events_max, uint32_t file_threads)
    : PosixBackend(loop),
      name_(name),
      poller_(std::move(poller)),
      events_(events_max),
      pool_(file_threads, &ReadinessBackend::run_pooled, &ReadinessBackend::wake_from_pool, this) {
  TIGERIO_ASSERT(events_max >= 1 && events_max <= kEntriesMax);
  TIGERIO_ASSERT(poller_ != nullptr && name != nullptr);
}

void ReadinessBackend::fd_opened(int32_t fd, FdEntry& entry) {
  TIGERIO_ASSERT(fd >= 0);
  FdState& state = entry.backend_state<FdState>();
  TIGERIO_ASSERT(state.registered == 0);
  state.known = 1;  // the IO made it non-blocking
}

void ReadinessBackend::issue(Op* op, FdEntry* entry) {
  TIGERIO_ASSERT(op->state == OpState::pending);
  if (op_is_socket_op(op->kind)) {
    TIGERIO_ASSERT(entry != nullptr);
    issue_socket_op(op, *entry);
    return;
  }
  // No readiness API waits on a regular file, and a file syscall may block
  // for as long as the disk takes: it runs on the pool, and the fd's next
  // op waits in the core until it is back.
  if (op->kind == OpKind::process_exit) {
    ProcessExitArgs& process = op->args.process_exit;
    const int result = poller_->watch_process(process.pid, op->id(), &process.handle);
    if (result < 0) loop_->complete(op, result);
    return;
  }
  TIGERIO_ASSERT(op_is_file_op(op->kind) || op_is_path_op(op->kind));
  TIGERIO_ASSERT((entry == nullptr) == op_is_path_op(op->kind));
  pool_.submit(op);
}

int64_t ReadinessBackend::run_pooled(Op* op, void* context) {
  (void)context;
  return posix::run_file_op(*op);
}

void ReadinessBackend::wake_from_pool(void* context) { static_cast<ReadinessBackend*>(context)->poller_->wake(); }

void ReadinessBackend::finish_pooled(Op* op, int64_t result, void* data) {
  Loop* loop = static_cast<Loop*>(data);
  if (op->kind == OpKind::file_size) {
    loop->complete_size(op, result);
    return;
  }
  TIGERIO_ASSERT(result >= INT32_MIN && result <= INT32_MAX);
  loop->complete(op, static_cast<int32_t>(result));
}

void ReadinessBackend::issue_socket_op(Op* op, FdEntry& entry) {
  const int fd = op->fd;
  FdState& state = entry.backend_state<FdState>();
  if (state.known == 0) {
    // An fd from elsewhere: check it is open and make it non-blocking, or a
    // recv on it would block the thread.
    const int32_t result = posix::ensure_nonblocking(fd);
    if (result < 0) {
      loop_->complete(op, result);
      return;
    }
    state.known = 1;
  }
  if (op->kind == OpKind::connect_unix) {
    // A Unix connect completes at once or fails, never waits: EAGAIN (the
    // listener's backlog is full) is its error, as in libuv.
    loop_->complete(op, posix::connect_unix(fd, op->args.connect_unix.path, op->args.connect_unix.path_length));
    return;
  }
  const bool in = op_direction(op->kind) == Direction::in;
  // The last recv emptied the receive queue: trying now would only return
  // EAGAIN. The fd is registered; its next readable event retries this one.
  if (is_recv(op->kind) && state.read_drained != 0) return;
  const int32_t result = attempt(op);
  if (result == kPoolEmpty) {
    // Data may wait already: the fd is tried again once a buffer comes back.
    loop_->pool_park(op);
    return;
  }
  if (result != kErrAgain) {
    if (is_recv(op->kind)) note_recv(op, state, result);
    loop_->complete(op, result);
    return;
  }
  const uint8_t direction = in ? Poller::kReadable : Poller::kWritable;
  if ((state.registered & direction) == 0) {
    const int added = poller_->add(fd, direction);
    if (added < 0) {
      loop_->complete(op, added);
      return;
    }
    TIGERIO_ASSERT((added & direction) != 0);
    state.registered |= static_cast<uint8_t>(added);
  }
}

int32_t ReadinessBackend::attempt(Op* op) {
  int32_t result = 0;
  switch (op->kind) {
    case OpKind::accept:
      result = posix::accept(op->fd);
      break;
    case OpKind::recv:
      result = posix::recv(op->fd, op->args.recv.buffer, op->args.recv.length);
      break;
    case OpKind::send:
      result = posix::send(op->fd, op->args.send.buffer, op->args.send.length);
      break;
    case OpKind::connect:
      if ((op->backend_flags & kConnectStarted) == 0) {
        result = posix::connect_start(op->fd, op->args.connect.address);
        if (result == -EINPROGRESS) {
          op->backend_flags |= kConnectStarted;
          return kErrAgain;
        }
      } else {
        result = posix::connect_finish(op->fd, op->args.connect.address);
      }
      break;
    case OpKind::send_to:
      result = posix::send_to(op->fd, op->args.send_to.buffer, op->args.send_to.length, op->args.send_to.address);
      break;
    case OpKind::recv_from:
      result = posix::recv_from(op->fd, op->args.recv_from.buffer, op->args.recv_from.length,
                                op->args.recv_from.address);
      break;
    case OpKind::send_file: {
      const SendFileArgs& file = op->args.send_file;
      result = posix::send_file(op->fd, file.file_fd, file.offset, file.length);
      break;
    }
    case OpKind::recv_pooled: {
      // The buffer is taken only now that the socket may have data, and
      // given back at once if it had none: a waiting receive holds none.
      if (!loop_->pool_take(op)) return kPoolEmpty;
      const BufferPool& pool = loop_->pool(op->args.recv_pooled.pool);
      result = posix::recv(op->fd, pool.data(op->args.recv_pooled.buffer), pool.size);
      if (result == -EAGAIN || result == -EWOULDBLOCK) {
        loop_->pool_untake(op);
        return kErrAgain;
      }
      return result;
    }
    default:
      TIGERIO_ASSERT(false && "not a socket operation");
  }
  if (result == -EAGAIN || result == -EWOULDBLOCK) return kErrAgain;
  return result;
}

void ReadinessBackend::retry(FdEntry& entry, Direction direction, int error) {
  Op* op = entry.queue(direction).head();
  if (op == nullptr) return;
  // Every head is issued (the core issues a head as soon as it is one), and
  // here nothing else is in flight: a readiness op waits only for its event.
  TIGERIO_ASSERT((op->core_flags & kOpIssued) != 0 && op->state == OpState::pending);
  // A file op on this fd (an fsync of a socket, say) runs on the thread pool
  // and completes from there; the fd's event is not for it.
  if (op_is_file_op(op->kind)) return;
  // Parked for a buffer (its pool was empty): the pool issues it again when
  // one comes back. An edge-triggered event still reports the socket
  // readable meanwhile (its data waits; another event, an EPOLLOUT, brings
  // the whole mask), and trying now would only park it a second time.
  if ((op->core_flags & kOpParked) != 0) return;
  // A connect the poller saw fail (kqueue's EV_EOF, with the socket's error
  // in fflags, on macOS and the BSDs as in libkqueue) failed with that error:
  // no syscall needs to ask again. Asking again could not even tell, where
  // the kqueue took SO_ERROR to fill fflags (libkqueue does): Linux's
  // connect() then answers ECONNABORTED for any failure.
  int32_t result = error != 0 && op->kind == OpKind::connect ? -error : attempt(op);
  if (result == kPoolEmpty) {
    // Readable, and no buffer: the data stays in the socket until one comes back.
    loop_->pool_park(op);
    return;
  }
  // A recv that reads end of stream after the poller took the socket's error fails with it.
  if (error != 0 && result == 0 && is_recv(op->kind)) result = -error;
  if (result == kErrAgain) return;
  if (is_recv(op->kind)) note_recv(op, entry.backend_state<FdState>(), result);
  // The core issues the fd's next op at once, which tries its syscall: the
  // queue drains until one has to wait (or a recv finds the queue empty).
  loop_->complete(op, result);
}

void ReadinessBackend::note_recv(const Op* op, FdState& state, int32_t result) {
  TIGERIO_ASSERT(is_recv(op->kind));
  // The recv ran: the fd was not marked drained (issue skips the syscall then), or an event cleared it.
  TIGERIO_ASSERT(state.read_drained == 0);
  const uint32_t length =
      op->kind == OpKind::recv ? op->args.recv.length : loop_->pool(op->args.recv_pooled.pool).size;
  if (result <= 0 || static_cast<uint32_t>(result) >= length) return;  // full, end of stream, error
  // Only a registered fd gets the event that clears the mark.
  if ((state.registered & Poller::kReadable) == 0) return;
  // The end of stream may wait behind the data just read: no event will say so again.
  if (state.read_ended != 0) return;
  // A short read proves an empty queue only on a byte stream (a datagram
  // socket returns one message per call, however many wait).
  if (state.stream == 0) state.stream = posix::is_stream_socket(op->fd) ? 1 : 2;
  if (state.stream == 1) state.read_drained = 1;
}

void ReadinessBackend::cancel(Op* op, FdEntry* entry) {
  TIGERIO_ASSERT(op->state == OpState::pending);
  TIGERIO_ASSERT((op->core_flags & kOpIssued) != 0);
  (void)entry;
  if (op->kind == OpKind::process_exit) {
    poller_->unwatch_process(op->args.process_exit.pid, op->args.process_exit.handle);
    loop_->complete(op, kErrCanceled);
    return;
  }
  if (op_is_file_op(op->kind) || op_is_path_op(op->kind)) {
    // Still queued for the pool: it never ran. Running: its syscall is in
    // the kernel and the op completes with its own result when it returns.
    if (pool_.cancel(op)) loop_->complete(op, kErrCanceled);
    return;
  }
  // A waiting socket op is nowhere in the kernel: it is given back at once.
  TIGERIO_ASSERT(op->kind == OpKind::accept || op->kind == OpKind::connect || op->kind == OpKind::recv ||
                 op->kind == OpKind::send || op->kind == OpKind::send_to || op->kind == OpKind::recv_from ||
                 op->kind == OpKind::send_file || op->kind == OpKind::recv_pooled);
  TIGERIO_ASSERT(!op_is_file_op(op->kind));
  loop_->complete(op, kErrCanceled);
}

int32_t ReadinessBackend::close(int32_t fd, FdEntry* entry) {
  TIGERIO_ASSERT(entry == nullptr || (entry->queues[0].empty() && entry->queues[1].empty()));
  if (entry != nullptr && entry->backend_state<FdState>().registered != 0) poller_->remove(fd);
  return posix::close(fd);
}

// A watched process exited: its processExit completes with how.
void ReadinessBackend::finish_process_exit(const Poller::Event& event) {
  Op* op = loop_->find_pending(event.process_op_id);
  if (op == nullptr || op->kind != OpKind::process_exit) return;  // cancelled since the kernel reported it
  const ProcessExitArgs& process = op->args.process_exit;
  int32_t result = event.exit_result;
#if defined(__linux__)
  if (result < 0) result = posix::pidfd_exit_result(static_cast<int>(process.handle));
#endif
  if (result < 0) result = kExitUnknown;
  poller_->unwatch_process(process.pid, process.handle);
  loop_->complete(op, result);
}

void ReadinessBackend::wait(int64_t timeout_ns) {
  TIGERIO_ASSERT(timeout_ns >= -1);
  // Finished file work first; then the poller must not sleep with more of it ready.
  if (pool_.harvest(&ReadinessBackend::finish_pooled, loop_) > 0) timeout_ns = 0;
  int count = poller_->wait(events_.data(), static_cast<uint32_t>(events_.size()), timeout_ns);
  pool_.harvest(&ReadinessBackend::finish_pooled, loop_);
  if (count < 0) {
    // A signal ends the wait early with nothing, as a wait may always end
    // (epoll.cc): every caller waits again for what is left of its own
    // time, so no clock is read here for it. Anything else is a bug in how
    // the poller is driven (libuv aborts there too).
    if (count != -EINTR) {
      std::fprintf(stderr, "tigerio: %s wait failed with errno %d\n", name_, -count);
      TIGERIO_ASSERT(count == -EINTR);
    }
    return;
  }
  TIGERIO_ASSERT(static_cast<size_t>(count) <= events_.size());
  FdTable& fds = loop_->fds();
  for (int i = 0; i < count; i++) {
    const Poller::Event& event = events_[static_cast<size_t>(i)];
    if (event.process) {
      finish_process_exit(event);
      continue;
    }
    FdEntry* entry = fds.find(event.fd);
    if (entry == nullptr) continue;
    // Each poller reports an ended read side as readable too: its recv then returns at once.
    TIGERIO_ASSERT(!event.read_ended || event.readable);
    if (event.readable) {
      FdState& state = entry->backend_state<FdState>();
      state.read_drained = 0;
      if (event.read_ended) state.read_ended = 1;
      retry(*entry, Direction::in, event.error);
      TIGERIO_ASSERT(state.read_ended == 0 || state.read_drained == 0);
    }
    if (event.writable) retry(*entry, Direction::out, event.error);
  }
}

}  // namespace tigerio
