// The kqueue poller (macOS, FreeBSD; on Linux only against libkqueue, for
// contributors: see .github/CONTRIBUTING.md). It only translates the readiness
// logic's interest changes into kevent changes: every fd is added once with
// EVFILT_READ and EVFILT_WRITE, EV_CLEAR (edge-triggered, as on epoll);
// EVFILT_USER carries cross-thread wake-ups. Timeouts stay in the shared
// timer heap, which bounds kevent's timespec (nanoseconds).
#include <sys/event.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <unordered_map>
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
// kqueue(2) says so. udata is this bit when data holds the status (the
// pid is the event's ident).
constexpr uintptr_t kStatusInData = uintptr_t{1};

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

  // A kevent is keyed by (ident, filter): a second EVFILT_PROC EV_ADD of the
  // same pid would replace the first watch's udata, and one EV_DELETE would
  // end both. So one kevent per pid, and the ops that wait for that pid's
  // exit are listed here; an op's handle is its id, which unwatch_process
  // takes off the list.
  int watch_process(int32_t pid, uint64_t op_id, int64_t* handle) override {
    TIGERIO_ASSERT(pid >= 1 && op_id <= static_cast<uint64_t>(INT64_MAX));
    *handle = static_cast<int64_t>(op_id);
    const auto watched = watches_.find(pid);
    if (watched != watches_.end()) {
      std::vector<uint64_t>& op_ids = watched->second;
      TIGERIO_ASSERT(!op_ids.empty());
      TIGERIO_ASSERT(std::find(op_ids.begin(), op_ids.end(), op_id) == op_ids.end());
      op_ids.push_back(op_id);
      return 0;
    }
    const int result = add_process(pid);
    if (result == 0) watches_.emplace(pid, std::vector<uint64_t>{op_id});
    return result;
  }

  // After the op's exit was handed out, or to cancel it.
  void unwatch_process(int32_t pid, int64_t handle) override {
    TIGERIO_ASSERT(handle >= 0);
    const uint64_t op_id = static_cast<uint64_t>(handle);
    // Reported by the kernel but not handed out yet (a cancel): it must not be now.
    exited_.erase(std::remove_if(exited_.begin(), exited_.end(),
                                 [op_id](const Exited& exited) { return exited.op_id == op_id; }),
                  exited_.end());
    const auto watched = watches_.find(pid);
    if (watched == watches_.end()) return;  // the one-shot event came: the kevent is gone
    std::vector<uint64_t>& op_ids = watched->second;
    op_ids.erase(std::remove(op_ids.begin(), op_ids.end(), op_id), op_ids.end());
    if (!op_ids.empty()) return;  // others still wait for this pid: its kevent stays
    watches_.erase(watched);
    struct kevent change_proc;
    EV_SET(&change_proc, static_cast<uintptr_t>(pid), EVFILT_PROC, EV_DELETE, 0, 0, nullptr);
    change(&change_proc, 1);
  }

  int wait(Event* events, uint32_t events_max, int64_t timeout_ns) override {
    TIGERIO_ASSERT(events_max >= 1 && events_max <= raw_.size());
    // Exits left over from the last wait (one kevent, many ops) go first,
    // and while any is in hand the kernel is asked without waiting.
    uint32_t written = hand_out_exited(events, 0, events_max);
    if (written == events_max) return static_cast<int>(written);
    if (written > 0) timeout_ns = 0;
    timespec timeout{};
    if (timeout_ns >= 0) {
      timeout.tv_sec = static_cast<time_t>(timeout_ns / 1000000000);
      timeout.tv_nsec = static_cast<long>(timeout_ns % 1000000000);
    }
    const int count = ::kevent(kqueue_fd_, nullptr, 0, raw_.data(), static_cast<int>(events_max - written),
                               timeout_ns < 0 ? nullptr : &timeout);
    // EINTR: the caller waits again; anything else is a bug it reports. The
    // exits handed out already are reported either way.
    if (count < 0) return written > 0 ? static_cast<int>(written) : -errno;
    for (int i = 0; i < count; i++) {
      const struct kevent& raw = raw_[static_cast<size_t>(i)];
      if (raw.filter == EVFILT_USER) continue;  // a wake-up: EV_CLEAR already reset it
      if (raw.filter == EVFILT_PROC) {
        collect_exit(raw);
        continue;
      }
      // EV_EOF / EV_ERROR: both directions try their syscall, which reports
      // the condition; a failed connect's error comes in fflags.
      const bool failed = (raw.flags & (EV_ERROR | EV_EOF)) != 0;
      Event& event = events[written++];
      event = Event{};
      event.process = false;
      event.fd = static_cast<int>(raw.ident);
      event.readable = failed || raw.filter == EVFILT_READ;
      event.writable = failed || raw.filter == EVFILT_WRITE;
      // Either filter's EOF may end the read side (a reset ends both); taking
      // it as ended only costs the drained shortcut on this fd, never an event.
      event.read_ended = failed;
      event.error = (raw.flags & EV_EOF) != 0 ? static_cast<int>(raw.fflags) : 0;
    }
    // Each EVFILT_PROC kevent took a slot and left it free here: at least one
    // of its exits goes out now, the rest at the next wait.
    written = hand_out_exited(events, written, events_max);
    TIGERIO_ASSERT(written <= events_max);
    return static_cast<int>(written);
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

  // Registers the one kevent of `pid`'s exit: 0, or a negative errno (ESRCH).
  int add_process(int32_t pid) {
    struct kevent change_proc;
#if defined(NOTE_EXITSTATUS)
    EV_SET(&change_proc, static_cast<uintptr_t>(pid), EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT | NOTE_EXITSTATUS, 0,
           reinterpret_cast<void*>(kStatusInData));
    if (change(&change_proc, 1) == 0) return 0;
    if (errno == ESRCH) return -errno;
    const uintptr_t udata = 0;  // not our child: the exit without its status
#else
    // No NOTE_EXITSTATUS: data holds the status with NOTE_EXIT (see above).
    // Keying this on __FreeBSD__ alone lost it on the other BSDs.
    const uintptr_t udata = kStatusInData;
#endif
    EV_SET(&change_proc, static_cast<uintptr_t>(pid), EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT, 0,
           reinterpret_cast<void*>(udata));
    if (change(&change_proc, 1) < 0) return -errno;  // ESRCH: gone already (reaped)
    return 0;
  }

  // A pid's one-shot exit event: every op that waits for it gets the exit.
  void collect_exit(const struct kevent& raw) {
    TIGERIO_ASSERT(raw.filter == EVFILT_PROC);
    const int32_t pid = static_cast<int32_t>(raw.ident);
    const auto watched = watches_.find(pid);
    // Every watch is on the list until its kevent is deleted, and a deleted
    // kevent reports nothing more (EV_DELETE takes a fired one off the
    // queue): an exit for a pid no op waits for is not ours to report.
    if (watched == watches_.end()) return;
    TIGERIO_ASSERT(!watched->second.empty());
    const bool status_in_data = (reinterpret_cast<uintptr_t>(raw.udata) & kStatusInData) != 0;
    // Never negative: the backend would take a negative one as "ask the pidfd", and a kqueue has none.
    const int32_t result = status_in_data ? posix::exit_result(static_cast<int>(raw.data)) : kExitUnknown;
    TIGERIO_ASSERT(result >= 0);
    for (const uint64_t op_id : watched->second) exited_.push_back(Exited{op_id, result});
    watches_.erase(watched);  // EV_ONESHOT: the kernel dropped the kevent
  }

  // Moves collected exits into events[written, events_max); returns the new count.
  uint32_t hand_out_exited(Event* events, uint32_t written, uint32_t events_max) {
    size_t taken = 0;
    while (taken < exited_.size() && written < events_max) {
      Event& event = events[written++];
      event = Event{};
      event.fd = -1;
      event.process = true;
      event.process_op_id = exited_[taken].op_id;
      event.exit_result = exited_[taken].result;
      taken++;
    }
    exited_.erase(exited_.begin(), exited_.begin() + static_cast<std::ptrdiff_t>(taken));
    return written;
  }

  struct Exited {
    uint64_t op_id;
    int32_t result;
  };

  const int kqueue_fd_;
  std::vector<struct kevent> raw_;
  // The ops that wait for each watched pid's exit, in the order they asked.
  std::unordered_map<int32_t, std::vector<uint64_t>> watches_;
  // Exits the kernel reported that did not fit in the last wait's events.
  std::vector<Exited> exited_;
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
