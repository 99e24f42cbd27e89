#include "readiness.h"

#include <algorithm>

#include "../core/errors.h"
#include "../core/loop.h"

namespace tigerio {

namespace {

// Op::flags bit: connect() was issued and returned EINPROGRESS.
constexpr uint8_t kConnectStarted = 1;

bool is_reader(OpKind kind) { return kind == OpKind::accept || kind == OpKind::recv; }

}  // namespace

ReadinessBackend::ReadinessBackend(Loop* loop, std::unique_ptr<Poller> poller, const char* name,
                                   uint32_t events_max)
    : PosixBackend(loop), name_(name), poller_(std::move(poller)), timers_(loop), events_(events_max) {
  TIGERIO_ASSERT(events_max >= 1);
}

ReadinessBackend::FdState& ReadinessBackend::state_of(int fd) {
  TIGERIO_ASSERT(fd >= 0);
  const size_t index = static_cast<size_t>(fd);
  if (index >= fds_.size()) fds_.resize(std::max<size_t>(index + 1, fds_.size() * 2));
  return fds_[index];
}

void ReadinessBackend::on_fd_opened(int fd) {
  PosixBackend::on_fd_opened(fd);
  // The number may have been used before, by an fd closed behind our back:
  // start clean (a stale `registered` would leave the new fd unwatched).
  // Ops still waiting on the old fd can never become ready (the kernel
  // dropped it from the poller with its last close) and must not run on the
  // new one: they fail with EBADF, as a syscall on the old fd would now.
  FdState& state = state_of(fd);
  while (Op* op = state.readers.pop()) loop_->complete(op, kErrBadFd);
  while (Op* op = state.writers.pop()) loop_->complete(op, kErrBadFd);
  state = FdState{};
  state.known = true;
}

void ReadinessBackend::submit(Op* op) {
  switch (op->kind) {
    case OpKind::accept:
    case OpKind::connect:
    case OpKind::recv:
    case OpKind::send:
      submit_socket_op(op);
      return;
    case OpKind::timeout:
      timers_.start(op);
      return;
    case OpKind::close:
      submit_close(op);
      return;
    case OpKind::open: {
      const int32_t fd = posix::open(op->path.get(), op->open_flags, op->open_mode);
      if (fd >= 0) on_fd_opened(fd);
      loop_->complete(op, fd);
      return;
    }
    case OpKind::read:
      loop_->complete(op, posix::read(op->fd, op->buffer, op->length, op->position));
      return;
    case OpKind::write:
      loop_->complete(op, posix::write(op->fd, op->buffer, op->length, op->position));
      return;
    case OpKind::event_listen:
    case OpKind::count:
      break;
  }
  TIGERIO_ASSERT(false && "operation kind the loop keeps");
}

void ReadinessBackend::submit_socket_op(Op* op) {
  const int fd = op->fd;
  const bool reader = is_reader(op->kind);
  const bool known = static_cast<size_t>(fd) < fds_.size() && fds_[static_cast<size_t>(fd)].known;
  if (!known) {
    // An fd from elsewhere: check it is open (before growing the table for
    // it) and make it non-blocking, or a recv on it would block the thread.
    const int32_t result = posix::ensure_nonblocking(fd);
    if (result < 0) {
      loop_->complete(op, result);
      return;
    }
    state_of(fd).known = true;
  }
  {
    FdState& state = state_of(fd);
    OpQueue& queue = reader ? state.readers : state.writers;
    if (!queue.empty()) {
      queue.push(op);  // after the ops already waiting: per-direction order
      return;
    }
    if (op->kind == OpKind::recv && state.read_drained) {
      // The last recv emptied the receive queue: trying now would only
      // return EAGAIN. The fd is registered; its next readable event drains this.
      queue.push(op);
      return;
    }
  }
  const int32_t result = attempt(op);
  if (result != kErrAgain) {
    if (op->kind == OpKind::recv) note_recv(fd, op, result);
    loop_->complete(op, result);
    return;
  }
  FdState& state = state_of(fd);  // again: an accept may have grown the table
  (reader ? state.readers : state.writers).push(op);
  const uint8_t direction = reader ? Poller::kReadable : Poller::kWritable;
  if ((state.registered & direction) == 0) {
    const int added = poller_->add(fd, direction);
    if (added < 0) {
      (reader ? state.readers : state.writers).remove(op);
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
      if (result >= 0) on_fd_opened(result);
      break;
    case OpKind::recv:
      result = posix::recv(op->fd, op->buffer, op->length);
      break;
    case OpKind::send:
      result = posix::send(op->fd, op->buffer, op->length);
      break;
    case OpKind::connect:
      if ((op->flags & kConnectStarted) == 0) {
        result = posix::connect_start(op->fd, op->address);
        if (result == -EINPROGRESS) {
          op->flags |= kConnectStarted;
          return kErrAgain;
        }
      } else {
        result = posix::connect_finish(op->fd);
      }
      break;
    default:
      TIGERIO_ASSERT(false && "not a socket operation");
  }
  if (result == -EAGAIN || result == -EWOULDBLOCK) return kErrAgain;
  return result;
}

void ReadinessBackend::drain(int fd, bool readers, int error) {
  for (;;) {
    // Re-index every time: an accept grows fds_ and moves its elements.
    FdState& state = fds_[static_cast<size_t>(fd)];
    OpQueue& queue = readers ? state.readers : state.writers;
    Op* op = queue.head();
    if (op == nullptr) return;
    int32_t result = attempt(op);
    // A socket error the poller already took (kqueue's fflags): a connect
    // still "in progress", or a recv that now reads end of stream, fails with it.
    if (error != 0 && ((result == kErrAgain && op->kind == OpKind::connect) ||
                       (result == 0 && op->kind == OpKind::recv))) {
      result = -error;
    }
    if (result == kErrAgain) return;
    FdState& after = fds_[static_cast<size_t>(fd)];
    Op* done = (readers ? after.readers : after.writers).pop();
    TIGERIO_ASSERT(done == op);
    const bool recv = op->kind == OpKind::recv;
    if (recv) note_recv(fd, op, result);
    loop_->complete(op, result);
    // The receive queue is empty: the recvs still waiting wait for the next event.
    if (recv && fds_[static_cast<size_t>(fd)].read_drained) return;
  }
}

void ReadinessBackend::note_recv(int fd, const Op* op, int32_t result) {
  if (result <= 0 || static_cast<uint32_t>(result) >= op->length) return;  // full, end of stream, or error
  FdState& state = fds_[static_cast<size_t>(fd)];
  // Only a registered fd gets the event that clears the mark.
  if ((state.registered & Poller::kReadable) == 0) return;
  // A short read proves an empty queue only on a byte stream (a datagram
  // socket returns one message per call, however many wait).
  if (state.stream == 0) state.stream = posix::is_stream_socket(fd) ? 1 : 2;
  if (state.stream == 1) state.read_drained = true;
}

void ReadinessBackend::submit_close(Op* op) {
  const int fd = op->fd;
  forget(fd);
  const int32_t result = posix::close(fd);
  loop_->fd_closed(fd);
  loop_->complete(op, result);
}

// Completes every op waiting on `fd` with ECANCELED, readers first, and
// drops the fd from the poller.
void ReadinessBackend::forget(int fd) {
  if (static_cast<size_t>(fd) >= fds_.size()) return;
  FdState& state = fds_[static_cast<size_t>(fd)];
  while (Op* op = state.readers.pop()) loop_->complete(op, kErrCanceled);
  while (Op* op = state.writers.pop()) loop_->complete(op, kErrCanceled);
  if (state.registered != 0) poller_->remove(fd);
  state = FdState{};
}

bool ReadinessBackend::cancel(Op* op) {
  if (op->kind == OpKind::timeout) return timers_.cancel(op);
  if (static_cast<size_t>(op->fd) >= fds_.size()) return false;
  FdState& state = fds_[static_cast<size_t>(op->fd)];
  if (!(is_reader(op->kind) ? state.readers : state.writers).remove(op)) return false;
  loop_->complete(op, kErrCanceled);
  return true;
}

void ReadinessBackend::cancel_all() {
  for (FdState& state : fds_) {
    while (Op* op = state.readers.pop()) loop_->complete(op, kErrCanceled);
    while (Op* op = state.writers.pop()) loop_->complete(op, kErrCanceled);
  }
  timers_.cancel_all();
}

int64_t ReadinessBackend::next_deadline_ns() const {
  return timers_.next_deadline_ns();
}

void ReadinessBackend::wait(int64_t timeout_ns) {
  timeout_ns = timers_.bound_wait_ns(timeout_ns);
  const uint32_t count = poller_->wait(events_.data(), static_cast<uint32_t>(events_.size()), timeout_ns);
  for (uint32_t i = 0; i < count; i++) {
    const Poller::Event& event = events_[i];
    if (static_cast<size_t>(event.fd) >= fds_.size()) continue;
    if (event.readable) fds_[static_cast<size_t>(event.fd)].read_drained = false;
    if (event.readable && !fds_[static_cast<size_t>(event.fd)].readers.empty()) drain(event.fd, true, event.error);
    if (event.writable && !fds_[static_cast<size_t>(event.fd)].writers.empty()) drain(event.fd, false, event.error);
  }
  timers_.fire();
}

void ReadinessBackend::close_now(int fd) {
  forget(fd);
  posix::close(fd);
}

}  // namespace tigerio
