// The kqueue poller (macOS, FreeBSD; on Linux only against libkqueue, for
// contributors: see .github/CONTRIBUTING.md). It only translates the readiness
// logic's interest changes into kevent changes: every fd is added once with
// EVFILT_READ and EVFILT_WRITE, EV_CLEAR (edge-triggered, as on epoll);
// EVFILT_USER carries cross-thread wake-ups. Timeouts stay in the shared
// timer heap, which bounds kevent's timespec (nanoseconds).
#include <sys/event.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <vector>

#include "../core/assert.h"
#include "../core/layout.h"
#include "../core/loop.h"
#include "kqueue.h"
#include "readiness.h"

namespace tigerio {

namespace {

// The EVFILT_USER identifier of the wake-up; user events have their own
// identifier space, so it cannot collide with an fd.
constexpr uintptr_t kWakeIdent = 1;

// EVFILT_PROC: the exit's wait status is in the event's data on macOS with
// NOTE_EXITSTATUS, which macOS allows for a child only: for another process
// the watch falls back to NOTE_EXIT, and the status is unknown. A kqueue
// without NOTE_EXITSTATUS (FreeBSD, OpenBSD, NetBSD, DragonFly; libkqueue
// too) puts it in data with NOTE_EXIT alone, for any process: their
// kqueue(2) says so. udata carries the op id, and this bit when data holds
// the status.
constexpr uint64_t kStatusInData = uint64_t{1} << 62;

class KqueuePoller final : public Poller {
 public:
  KqueuePoller(int kqueue_fd, uint32_t events_max) : kqueue_fd_(kqueue_fd), raw_(events_max) {}
  ~KqueuePoller() override { ::close(kqueue_fd_); }

  int fd() const override { return kqueue_fd_; }

  int add(int fd, uint8_t directions) override {
    // Only the filters asked for: a socket that never waits to send never
    // gets EVFILT_WRITE, and so no write event per ACK.
    struct kevent changes[2];
    int count = 0;
    if (directions & kReadable) {
      EV_SET(&changes[count++], static_cast<uintptr_t>(fd), EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, nullptr);
    }
    if (directions & kWritable) {
      EV_SET(&changes[count++], static_cast<uintptr_t>(fd), EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, 0, nullptr);
    }
    TIGERIO_ASSERT(count > 0);
    if (change(changes, count) < 0) return -errno;
    return directions;
  }

  void remove(int fd) override {
    // Each filter separately: one that is already gone (a close behind our
    // back) must not keep the other registered.
    struct kevent change_read;
    struct kevent change_write;
    EV_SET(&change_read, static_cast<uintptr_t>(fd), EVFILT_READ, EV_DELETE, 0, 0, nullptr);
    EV_SET(&change_write, static_cast<uintptr_t>(fd), EVFILT_WRITE, EV_DELETE, 0, 0, nullptr);
    change(&change_read, 1);
    change(&change_write, 1);
  }

  int watch_process(int32_t pid, uint64_t op_id, int64_t* handle) override {
    TIGERIO_ASSERT(op_id < kStatusInData);
    struct kevent change_proc;
    *handle = -1;
#if defined(NOTE_EXITSTATUS)
    EV_SET(&change_proc, static_cast<uintptr_t>(pid), EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT | NOTE_EXITSTATUS, 0,
           reinterpret_cast<void*>(static_cast<uintptr_t>(op_id | kStatusInData)));
    if (change(&change_proc, 1) == 0) return 0;
    if (errno == ESRCH) return -errno;
    const uint64_t udata = op_id;  // not our child: the exit without its status
#else
    // No NOTE_EXITSTATUS: data holds the status with NOTE_EXIT (see above).
    // Keying this on __FreeBSD__ alone lost it on the other BSDs.
    const uint64_t udata = op_id | kStatusInData;
#endif
    EV_SET(&change_proc, static_cast<uintptr_t>(pid), EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT, 0,
           reinterpret_cast<void*>(static_cast<uintptr_t>(udata)));
    if (change(&change_proc, 1) < 0) return -errno;  // ESRCH: gone already (reaped)
    return 0;
  }

  void unwatch_process(int32_t pid, int64_t handle) override {
    (void)handle;
    struct kevent change_proc;
    EV_SET(&change_proc, static_cast<uintptr_t>(pid), EVFILT_PROC, EV_DELETE, 0, 0, nullptr);
    change(&change_proc, 1);  // ENOENT after the one-shot event fired: nothing to undo
  }

  int wait(Event* events, uint32_t events_max, int64_t timeout_ns) override {
    TIGERIO_ASSERT(events_max >= 1 && events_max <= raw_.size());
    timespec timeout{};
    if (timeout_ns >= 0) {
      timeout.tv_sec = static_cast<time_t>(timeout_ns / 1000000000);
      timeout.tv_nsec = static_cast<long>(timeout_ns % 1000000000);
    }
    const int count = ::kevent(kqueue_fd_, nullptr, 0, raw_.data(), static_cast<int>(events_max),
                               timeout_ns < 0 ? nullptr : &timeout);
    if (count < 0) return -errno;  // EINTR: the caller waits again; anything else is a bug it reports
    int written = 0;
    for (int i = 0; i < count; i++) {
      const struct kevent& raw = raw_[static_cast<size_t>(i)];
      if (raw.filter == EVFILT_USER) continue;  // a wake-up: EV_CLEAR already reset it
      if (raw.filter == EVFILT_PROC) {
        events[written] = Event{};
        events[written].fd = -1;
        events[written].process = true;
        const uint64_t udata = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(raw.udata));
        events[written].process_op_id = udata & ~kStatusInData;
        events[written].exit_result =
            (udata & kStatusInData) != 0 ? posix::exit_result(static_cast<int>(raw.data)) : kExitUnknown;
        written++;
        continue;
      }
      // EV_EOF / EV_ERROR: both directions try their syscall, which reports
      // the condition; a failed connect's error comes in fflags.
      const bool failed = (raw.flags & (EV_ERROR | EV_EOF)) != 0;
      events[written].process = false;
      events[written].fd = static_cast<int>(raw.ident);
      events[written].readable = failed || raw.filter == EVFILT_READ;
      events[written].writable = failed || raw.filter == EVFILT_WRITE;
      // Either filter's EOF may end the read side (a reset ends both); taking
      // it as ended only costs the drained shortcut on this fd, never an event.
      events[written].read_ended = failed;
      events[written].error = (raw.flags & EV_EOF) != 0 ? static_cast<int>(raw.fflags) : 0;
      written++;
    }
    TIGERIO_ASSERT(written <= count);
    return written;
  }

  void wake() override {
    struct kevent trigger;
    EV_SET(&trigger, kWakeIdent, EVFILT_USER, 0, NOTE_TRIGGER, 0, nullptr);
    change(&trigger, 1);
  }

 private:
  int change(const struct kevent* changes, int count) {
    for (;;) {
      const int rc = ::kevent(kqueue_fd_, changes, count, nullptr, 0, nullptr);
      if (rc >= 0 || errno != EINTR) return rc;
    }
  }

  const int kqueue_fd_;
  std::vector<struct kevent> raw_;
};

}  // namespace

std::unique_ptr<Backend> create_kqueue_backend(Loop* loop, const LoopConfig& config, int* error) {
  const int kqueue_fd = ::kqueue();
  if (kqueue_fd < 0) {
    *error = -errno;
    return nullptr;
  }
  struct kevent user;
  EV_SET(&user, kWakeIdent, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, nullptr);
  if (::kevent(kqueue_fd, &user, 1, nullptr, 0, nullptr) < 0) {
    *error = -errno;
    ::close(kqueue_fd);
    return nullptr;
  }
  const uint32_t events_max = config.entries;
  return std::unique_ptr<Backend>(new ReadinessBackend(
      loop, std::unique_ptr<Poller>(new KqueuePoller(kqueue_fd, events_max)), "kqueue", events_max,
      config.file_threads));
}

}  // namespace tigerio
