// The POSIX half of signals as completions (core/signals.h): one sigaction
// handler per signal for the whole process, chained in front of the one
// that was there (Node's libuv, the user's, SIG_DFL or SIG_IGN).
//
// The handler only does what is async-signal-safe: it marks the signal in
// a lock-free table, writes a byte to a pipe (the self-pipe trick, as libuv
// does), and runs the previous handler. A thread of ours reads the pipe and
// calls signal_deliver(), which takes the table's lock and wakes each
// subscribed IO. So an IO blocked in run() on any thread is woken within
// the round in which the signal arrives, whatever thread the kernel chose
// to run the handler on.
//
// The previous disposition, when no IO is subscribed any more:
//   - a function (libuv's, the user's): it runs, always, before or after;
//   - SIG_IGN: nothing happens;
//   - SIG_DFL: the default action happens, as if we had never been there:
//     the handler restores SIG_DFL and raises the signal again (delivered
//     once the handler returns), unless the default is to ignore it;
//   - a one-shot handler (SA_RESETHAND; Node installs one for SIGINT and
//     SIGTERM that restores the terminal and dies of the signal): SIG_DFL
//     is restored, as the kernel would, and it runs.
// While an IO is subscribed, the default action (SIG_DFL, or a one-shot
// handler) is replaced by the IO's wait: the process is not terminated by
// a SIGTERM the IO is there to handle.
//
// Node's libuv installs its handler when a process.on(signal) listener is
// added, and SIG_DFL when the last is removed, never chaining to what was
// there; io/signals.ts tells us of each change (signal_os_node_listeners)
// and ours goes back in front, now chaining to libuv's.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "../core/assert.h"
#include "../core/errors.h"
#include "../core/signals.h"

namespace tigerio {

namespace {

// The previous disposition of each signal, double-buffered: a writer (under
// the table's lock, never in a handler) fills the slot not in use and then
// publishes its index, so a handler never reads a half-written sigaction.
struct Previous {
  struct sigaction slots[2];
  std::atomic<int32_t> current{0};
};
Previous previous[kSignalNumberMax + 1];
std::atomic<bool> installed[kSignalNumberMax + 1];
std::atomic<bool> arrived[kSignalNumberMax + 1];
std::atomic<int> pipe_write_fd{-1};
int pipe_read_fd = -1;
// Taken by every writer of the tables above (a subscription on any thread,
// Node's listeners changing on the main thread); never by a handler.
std::mutex install_mutex;
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "read inside a signal handler");

// Signals whose default action is to do nothing: with no IO subscribed and
// SIG_DFL before us, the handler simply returns.
bool default_ignores(int number) {
  switch (number) {
    case SIGCHLD:
    case SIGURG:
    case SIGWINCH:
    case SIGCONT:
      return true;
    default:
      return false;
  }
}

// Puts SIG_DFL back for `number`, as the kernel does when it delivers to
// a handler with SA_RESETHAND: ours is no longer installed.
void reset_to_default(int number) {
  struct sigaction fallback;
  std::memset(&fallback, 0, sizeof(fallback));
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  installed[number].store(false, std::memory_order_release);
  ::sigaction(number, &fallback, nullptr);
}

void run_previous(int number, siginfo_t* info, void* context) {
  const Previous& p = previous[number];
  const struct sigaction& action = p.slots[p.current.load(std::memory_order_acquire)];
  const bool is_function = (action.sa_flags & SA_SIGINFO) != 0 ? action.sa_sigaction != nullptr
                                                                 : action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN;
  if (!is_function && action.sa_handler == SIG_IGN) return;
  // SIG_DFL, or a one-shot handler (SA_RESETHAND) that stands in for it:
  // Node's own for SIGINT and SIGTERM restores the terminal and raises the
  // signal again to die of it. Either is the default action, which an IO
  // waiting for the signal replaces.
  const bool is_default = !is_function || (action.sa_flags & SA_RESETHAND) != 0;
  if (is_default && (signal_subscribers(number) > 0 || default_ignores(number))) return;
  if (!is_function) {
    // No IO waits for it any more: the default action, as without us.
    reset_to_default(number);
    ::raise(number);  // blocked while this handler runs: delivered, with SIG_DFL, when it returns
    return;
  }
  if ((action.sa_flags & SA_RESETHAND) != 0) reset_to_default(number);  // as the kernel would have before calling it
  if ((action.sa_flags & SA_SIGINFO) != 0) {
    action.sa_sigaction(number, info, context);
  } else {
    action.sa_handler(number);
  }
}

void on_signal(int number, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (number >= 1 && number <= kSignalNumberMax) {
    arrived[number].store(true, std::memory_order_release);
    const int fd = pipe_write_fd.load(std::memory_order_acquire);
    if (fd >= 0) {
      const char byte = 1;
      // EAGAIN: the pipe is full, the thread has bytes to read and will see the mark.
      while (::write(fd, &byte, 1) < 0 && errno == EINTR) {
      }
    }
    run_previous(number, info, context);
  }
  errno = saved_errno;
}

// The thread that turns arrivals into deliveries. Started once, never
// joined: it lives as long as the process, blocked in read().
void deliver_arrivals() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);  // handlers run on the process's other threads
  for (;;) {
    char bytes[64];
    const ssize_t n = ::read(pipe_read_fd, bytes, sizeof(bytes));
    if (n < 0 && errno != EINTR && errno != EAGAIN) return;
    for (int32_t number = 1; number <= kSignalNumberMax; number++) {
      if (arrived[number].exchange(false, std::memory_order_acq_rel)) signal_deliver(number);
    }
  }
}

int32_t start_delivery() {
  if (pipe_read_fd >= 0) return 0;
  int fds[2];
  if (::pipe(fds) < 0) return -errno;
  for (const int fd : fds) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK);  // a handler never blocks
  pipe_read_fd = fds[0];
  pipe_write_fd.store(fds[1], std::memory_order_release);
  std::thread(deliver_arrivals).detach();
  return 0;
}

bool is_ours(const struct sigaction& action) {
  return (action.sa_flags & SA_SIGINFO) != 0 && action.sa_sigaction == on_signal;
}

// Installs on_signal for `number` in front of whatever is there now (a
// no-op if that is on_signal already). Called with install_mutex held.
int32_t install(int32_t number) {
  struct sigaction current;
  if (::sigaction(number, nullptr, &current) < 0) return -errno;
  if (is_ours(current)) return 0;
  Previous& p = previous[number];
  const int32_t next = 1 - p.current.load(std::memory_order_relaxed);
  p.slots[next] = current;
  p.current.store(next, std::memory_order_release);
  struct sigaction ours;
  std::memset(&ours, 0, sizeof(ours));
  ours.sa_sigaction = on_signal;
  ours.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&ours.sa_mask);
  if (::sigaction(number, &ours, nullptr) < 0) return -errno;
  installed[number].store(true, std::memory_order_release);
  return 0;
}

}  // namespace

int32_t signal_os_watch(int32_t number) {
  TIGERIO_ASSERT(number >= 1 && number <= kSignalNumberMax);
  // Never catchable, or the thread library's own (glibc keeps 32 and 33):
  // sigaction would say EINVAL for most; say it for all, before touching anything.
  if (number == SIGKILL || number == SIGSTOP || number >= NSIG) return kErrInvalid;
#ifdef SIGRTMIN
  if (number < SIGRTMIN && number > 31) return kErrInvalid;
#endif
  std::lock_guard<std::mutex> lock(install_mutex);
  const int32_t started = start_delivery();
  if (started < 0) return started;
  return install(number);
}

void signal_os_node_listeners(int32_t number, int32_t node_listeners) {
  TIGERIO_ASSERT(number >= 1 && number <= kSignalNumberMax && node_listeners >= 0);
  // Only a signal an IO once waited for: ours may have been replaced by
  // libuv's (a listener added) or by SIG_DFL (the last one removed).
  std::lock_guard<std::mutex> lock(install_mutex);
  if (signal_subscribers(number) == 0 && !installed[number].load(std::memory_order_acquire)) return;
  install(number);
}

}  // namespace tigerio
