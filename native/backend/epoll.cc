// The epoll poller (Linux). Every fd is added once, edge-triggered, for both
// directions (see readiness.h); an eventfd carries cross-thread wake-ups.
// Waits take nanoseconds through epoll_pwait2 where the kernel has it
// (5.11+), else milliseconds rounded up so that no timer fires early.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <vector>

#include "../core/assert.h"
#include "../core/loop.h"
#include "epoll.h"
#include "readiness.h"

namespace tigerio {

namespace {

constexpr uint64_t kWakeTag = uint64_t{1} << 32;
// A pidfd's event carries its processExit's op id (30 bits) under this tag;
// an fd's event carries the fd (below 2^32).
constexpr uint64_t kProcessTag = uint64_t{1} << 33;

class EpollPoller final : public Poller {
 public:
  EpollPoller(int epoll_fd, int wake_fd, uint32_t events_max)
      : epoll_fd_(epoll_fd), wake_fd_(wake_fd), raw_(events_max) {
    TIGERIO_ASSERT(epoll_fd >= 0 && wake_fd >= 0 && epoll_fd != wake_fd);
    TIGERIO_ASSERT(events_max >= 1);
  }

  ~EpollPoller() override {
    ::close(wake_fd_);
    ::close(epoll_fd_);
  }

  int fd() const override { return epoll_fd_; }

  int add(int fd, uint8_t directions) override {
    TIGERIO_ASSERT(fd >= 0 && fd != epoll_fd_ && fd != wake_fd_);
    TIGERIO_ASSERT(directions != 0 && (directions & ~(kReadable | kWritable)) == 0);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.u64 = static_cast<uint32_t>(fd);
    // Both directions at once, whatever was asked: one epoll_ctl per fd lifetime.
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0) return kReadable | kWritable;
    if (errno == EEXIST && ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) == 0) return kReadable | kWritable;
    return -errno;
  }

  void remove(int fd) override {
    TIGERIO_ASSERT(fd >= 0 && fd != epoll_fd_ && fd != wake_fd_);
    // ENOENT/EBADF: already gone with a close behind our back. Nothing to undo.
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  }

  int watch_process(int32_t pid, uint64_t op_id, int64_t* handle) override {
    TIGERIO_ASSERT(op_id < kProcessTag);
    const int32_t pidfd = posix::pidfd_open(pid);
    if (pidfd < 0) return pidfd;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLONESHOT;  // readable once the process has exited
    event.data.u64 = kProcessTag | op_id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, pidfd, &event) < 0) {
      const int error = -errno;
      ::close(pidfd);
      return error;
    }
    *handle = pidfd;
    return 0;
  }

  void unwatch_process(int32_t pid, int64_t handle) override {
    (void)pid;
    TIGERIO_ASSERT(handle >= 0);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, static_cast<int>(handle), nullptr);
    ::close(static_cast<int>(handle));
  }

  int wait(Event* events, uint32_t events_max, int64_t timeout_ns) override {
    TIGERIO_ASSERT(events_max >= 1 && events_max <= raw_.size());
    const int count = wait_raw(static_cast<int>(events_max), timeout_ns);
    if (count < 0) return count;
    int written = 0;
    for (int i = 0; i < count; i++) {
      const epoll_event& raw = raw_[static_cast<size_t>(i)];
      if (raw.data.u64 == kWakeTag) {
        uint64_t value = 0;
        // Edge-triggered: draining is not needed for correctness, but keeps the counter small.
        while (::read(wake_fd_, &value, sizeof(value)) < 0 && errno == EINTR) {
        }
        continue;
      }
      if ((raw.data.u64 & kProcessTag) != 0) {
        events[written] = Event{};
        events[written].fd = -1;
        events[written].process = true;
        events[written].process_op_id = raw.data.u64 & ~kProcessTag;
        events[written].exit_result = -1;  // the backend asks the pidfd
        written++;
        continue;
      }
      const bool failed = (raw.events & (EPOLLERR | EPOLLHUP)) != 0;
      events[written].process = false;
      events[written].fd = static_cast<int>(raw.data.u64);
      events[written].readable = failed || (raw.events & (EPOLLIN | EPOLLRDHUP)) != 0;
      events[written].writable = failed || (raw.events & EPOLLOUT) != 0;
      // The mask is read when epoll_wait collects the event: data and a FIN
      // that came before then are one event with EPOLLIN | EPOLLRDHUP.
      events[written].read_ended = failed || (raw.events & EPOLLRDHUP) != 0;
      events[written].error = 0;  // epoll leaves SO_ERROR for connect_finish to read
      written++;
    }
    TIGERIO_ASSERT(written <= count);
    return written;
  }

  void wake() override {
    const uint64_t one = 1;
    // EAGAIN means the counter is saturated: a wake-up is pending anyway.
    while (::write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
  }

 private:
  // epoll_pwait2 takes its timeout as a timespec, which the kernel copies
  // in and checks on every call (about 40 ns here, for each of a ping-pong's
  // two waits per round trip); epoll_wait takes whole milliseconds in a
  // register. So epoll_pwait2 serves only a wait with a part of a
  // millisecond to it. A longer one waits its whole milliseconds with
  // epoll_wait and may return early, with no events, by less than one:
  // every caller waits again for what is left (Loop::poll's timers,
  // runForNs's deadline), and that last part goes to epoll_pwait2. A wait
  // is never late by more than the kernel's own timer slack.
  int wait_raw(int events_max, int64_t timeout_ns) {
    TIGERIO_ASSERT(events_max >= 1 && static_cast<size_t>(events_max) <= raw_.size());
    TIGERIO_ASSERT(timeout_ns >= -1);
    constexpr int64_t kNsPerMs = 1000000;
    const int64_t whole_ms = timeout_ns / kNsPerMs;
#ifdef SYS_epoll_pwait2
    if (have_pwait2_ && timeout_ns > 0 && whole_ms == 0) {
      timespec timeout{};
      timeout.tv_nsec = static_cast<long>(timeout_ns);
      const long rc = ::syscall(SYS_epoll_pwait2, epoll_fd_, raw_.data(), events_max, &timeout, nullptr, 0);
      TIGERIO_ASSERT(rc <= events_max);
      if (rc >= 0) return static_cast<int>(rc);
      if (errno != ENOSYS && errno != EPERM) return -errno;  // EINTR: the caller waits again
      have_pwait2_ = false;  // an older kernel, or a seccomp filter: fall back for good
    }
#endif
    int timeout_ms = -1;
    if (timeout_ns >= 0) {
      // Without epoll_pwait2, a part of a millisecond rounds up: never early by a whole wait.
      const int64_t ms = whole_ms == 0 && timeout_ns > 0 ? 1 : whole_ms;
      timeout_ms = ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
    }
    const int rc = ::epoll_wait(epoll_fd_, raw_.data(), events_max, timeout_ms);
    TIGERIO_ASSERT(rc <= events_max);
    return rc < 0 ? -errno : rc;
  }

  const int epoll_fd_;
  const int wake_fd_;
  std::vector<epoll_event> raw_;
  bool have_pwait2_ = true;
};

}  // namespace

std::unique_ptr<Backend> create_epoll_backend(Loop* loop, const LoopConfig& config, int* error) {
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    *error = -errno;
    return nullptr;
  }
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    *error = -errno;
    ::close(epoll_fd);
    return nullptr;
  }
  epoll_event event{};
  event.events = EPOLLIN | EPOLLET;
  event.data.u64 = kWakeTag;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event) < 0) {
    *error = -errno;
    ::close(wake_fd);
    ::close(epoll_fd);
    return nullptr;
  }
  const uint32_t events_max = config.entries;
  return std::unique_ptr<Backend>(new ReadinessBackend(
      loop, std::unique_ptr<Poller>(new EpollPoller(epoll_fd, wake_fd, events_max)), "epoll", events_max,
      config.file_threads));
}

}  // namespace tigerio
