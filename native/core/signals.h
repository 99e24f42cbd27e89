// Signals as completions: the process-wide table of which IOs wait for
// which signal, and the fan-out that hands an arrival to each of them.
//
// The OS part (a sigaction handler on POSIX, a console control handler on
// Windows) lives in the backend layer and calls signal_deliver() from an
// ordinary thread, never from inside a signal handler: a handler may only
// do what is async-signal-safe, and waking several IOs takes a lock. The
// fan-out marks each subscribed Loop and wakes its backend, as an event
// trigger does (events.cc); the Loop completes its waits at its next poll.
//
// An IO subscribes to a signal at its first wait for it and stays
// subscribed while it keeps a wait pending, or submits the next one from
// the callback of the last (the subscription lapses at the next poll
// without one). While subscribed, an arrival with no wait pending is
// remembered (several coalesce into one) and completes the next wait, so a
// loop that resubmits from its callback misses none. cancel() of the last
// wait, and deinit, unsubscribe at once.
#pragma once

#include <cstdint>

namespace tigerio {

class Loop;

// Signal numbers are 1..kSignalNumberMax (Linux's SIGRTMAX is 64; macOS has
// 31; Windows' CRT numbers are below 23). A uint64_t has a bit for each.
constexpr int32_t kSignalNumberMax = 64;

inline uint64_t signal_bit(int32_t number) { return uint64_t{1} << (number - 1); }

// Adds `loop` to the IOs waiting for `number`, installing the OS's handler
// first where this is the process's first wait for it: 0, or a negative
// errno (EINVAL: the OS never lets a process catch it; ENOTSUP: this OS has
// no such signal to wait for).
int32_t signal_subscribe(Loop* loop, int32_t number);
void signal_unsubscribe(Loop* loop, int32_t number);
// Any thread but a signal handler: hands an arrival of `number` to every
// subscribed IO (Loop::signal_arrived) and wakes it.
void signal_deliver(int32_t number);
// Async-signal-safe: how many IOs are subscribed to `number` now (a
// handler decides from it whether the default action is the IO's to replace).
int32_t signal_subscribers(int32_t number);

// The OS layer (backend/signals_posix.cc, backend/signals_win32.cc).
// Makes sure this process's handler for `number` is installed, chained in
// front of the one that was there: 0 or a negative errno as above.
// Called with the table's lock held.
int32_t signal_os_watch(int32_t number);
// Node added or removed its own listener for `number` (process.on): Node's
// libuv installs or removes its handler without chaining to ours, so ours is
// installed again in front of whatever is there now. `node_listeners` is the
// count of listeners Node has left. No effect for a signal never watched.
void signal_os_node_listeners(int32_t number, int32_t node_listeners);

}  // namespace tigerio
