// The Windows half of signals as completions (core/signals.h). Windows has
// no POSIX signals; what Node calls SIGINT and SIGBREAK are console control
// events (Ctrl+C, Ctrl+Break), delivered by calling each handler registered
// with SetConsoleCtrlHandler, last registered first, on a thread the system
// makes, until one returns TRUE; if none does, the default ends the
// process. That thread is an ordinary one: it hands the event to the
// subscribed IOs itself.
//
// Node's libuv registers its handler at startup, before this addon loads,
// so ours runs first. Ours returns TRUE (handled: the process lives on)
// only while some IO waits and Node has no listener of its own for that
// signal; with a listener, FALSE lets libuv's handler run next, which
// delivers to process.on and returns TRUE itself.
//
// Every other signal name Node knows on Windows (SIGTERM, SIGHUP, ...) has
// nothing behind it that a process could wait for: ENOTSUP.
#include "win32.h"  // winsock2.h before windows.h

#include <windows.h>

#include <atomic>

#include "../core/assert.h"
#include "../core/errors.h"
#include "../core/signals.h"

namespace tigerio {

namespace {

// Node's numbers on Windows (os.constants.signals): the C runtime's.
constexpr int32_t kSignalInterrupt = 2;  // SIGINT: CTRL_C_EVENT
constexpr int32_t kSignalBreak = 21;     // SIGBREAK: CTRL_BREAK_EVENT

std::atomic<int32_t> node_listeners[kSignalNumberMax + 1];
bool handler_installed = false;  // under the signal table's lock

BOOL WINAPI on_console_control(DWORD type) {
  const int32_t number = type == CTRL_C_EVENT ? kSignalInterrupt : type == CTRL_BREAK_EVENT ? kSignalBreak : 0;
  if (number == 0 || signal_subscribers(number) == 0) return FALSE;
  signal_deliver(number);
  return node_listeners[number].load(std::memory_order_acquire) > 0 ? FALSE : TRUE;
}

}  // namespace

int32_t signal_os_watch(int32_t number) {
  TIGERIO_ASSERT(number >= 1 && number <= kSignalNumberMax);
  if (number != kSignalInterrupt && number != kSignalBreak) return kErrNotSupported;
  if (handler_installed) return 0;
  if (!::SetConsoleCtrlHandler(on_console_control, TRUE)) return win32::map_error(::GetLastError());
  handler_installed = true;
  return 0;
}

void signal_os_node_listeners(int32_t number, int32_t count) {
  TIGERIO_ASSERT(number >= 1 && number <= kSignalNumberMax && count >= 0);
  node_listeners[number].store(count, std::memory_order_release);
}

}  // namespace tigerio
