// Signals and process exits as completions: the checks of io.signal() and
// io.processExit(), the decoding of an exit status, and the hook that keeps
// the native signal handler in front of Node's own (native/backend/signals_posix.cc).
import { constants } from 'node:os';
import { binding } from './native';
import { describe } from './validate';
import type { ProcessExit } from './types';

/**
 * Internal (not exported by the package entry): sends a signal to a
 * simulated IO, as if the process had received it. `Simulation.signal` calls it.
 */
export const SIMULATE_SIGNAL: unique symbol = Symbol('tigerio.simulateSignal');

const SIGNAL_NUMBER_MAX: number = binding.layout.signalNumberMax;

/**
 * Signals no wait can be given: the kernel never lets a process catch
 * SIGKILL and SIGSTOP; the rest are raised by a fault of the thread itself,
 * and a handler that returns runs the faulting instruction again.
 */
const NEVER_WAITABLE: Record<string, string> = {
  SIGKILL: 'the kernel never lets a process catch it',
  SIGSTOP: 'the kernel never lets a process catch it',
  SIGSEGV: 'it reports a fault of the thread itself, which would fault again once the handler returned',
  SIGBUS: 'it reports a fault of the thread itself, which would fault again once the handler returned',
  SIGFPE: 'it reports a fault of the thread itself, which would fault again once the handler returned',
  SIGILL: 'it reports a fault of the thread itself, which would fault again once the handler returned',
  SIGTRAP: 'debuggers own it',
  SIGSYS: 'it reports a bad system call of the thread itself',
};

const signalNumbers = constants.signals as Record<string, number | undefined>;

/** The OS's number of a signal name that can be waited for; throws TypeError or RangeError otherwise. */
export function checkSignal(signal: unknown): number {
  if (typeof signal !== 'string') {
    throw new TypeError(`tigerio: signal must be a signal name such as 'SIGTERM', got ${describe(signal)}`);
  }
  const number = Object.prototype.hasOwnProperty.call(signalNumbers, signal) ? signalNumbers[signal] : undefined;
  if (number === undefined) {
    throw new TypeError(`tigerio: '${signal}' is not a signal of this OS (os.constants.signals names them)`);
  }
  const reason = NEVER_WAITABLE[signal];
  if (reason !== undefined) throw new RangeError(`tigerio: ${signal} cannot be waited for: ${reason}`);
  if (number < 1 || number > SIGNAL_NUMBER_MAX) throw new RangeError(`tigerio: ${signal} (${number}) cannot be waited for`);
  watchNodeListeners();
  return number;
}

/** A process id: a positive integer. */
export function checkPid(pid: unknown): number {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1 || pid > 0x7fffffff) {
    throw new RangeError(`tigerio: pid must be a positive integer process id, got ${describe(pid)}`);
  }
  return pid;
}

// processExit's result (native/core/layout.h kExit*): the exit code
// (0-255), kExitSignaled | the signal's number, kExitUnknown, or a wide
// exit code (Windows) as kExitCodeWide + the code.
const EXIT_SIGNALED: number = binding.layout.exitSignaled;
const EXIT_UNKNOWN: number = binding.layout.exitUnknown;
const EXIT_CODE_WIDE: number = binding.layout.exitCodeWide;
const signalNames = new Map<number, string>();
for (const [name, number] of Object.entries(signalNumbers)) {
  if (number !== undefined && !signalNames.has(number)) signalNames.set(number, name);
}

/** Decodes processExit's result word. */
export function decodeExit(result: number): ProcessExit {
  if (result >= EXIT_CODE_WIDE) return { code: result - EXIT_CODE_WIDE, signal: null };
  if (result === EXIT_UNKNOWN) return { code: null, signal: null };
  if ((result & EXIT_SIGNALED) !== 0) {
    const number = result & ~EXIT_SIGNALED;
    return { code: null, signal: signalNames.get(number) ?? `SIG${number}` };
  }
  return { code: result, signal: null };
}

/** What a failed processExit's callback gets beside its error. */
export const NO_EXIT: ProcessExit = Object.freeze({ code: null, signal: null });

let watchingNodeListeners = false;

/**
 * Node's libuv installs its own handler when the first process.on(signal)
 * listener is added, and SIG_DFL when the last is removed, without chaining
 * to the handler that was there. Node does so from its own 'newListener' and
 * 'removeListener' listeners, added at startup, so ours (added later) run
 * after them: the native side then puts its handler back in front.
 */
function watchNodeListeners(): void {
  if (watchingNodeListeners) return;
  watchingNodeListeners = true;
  const changed = (event: string | symbol, added: number): void => {
    if (typeof event !== 'string') return;
    const number = Object.prototype.hasOwnProperty.call(signalNumbers, event) ? signalNumbers[event] : undefined;
    if (number === undefined || number < 1 || number > SIGNAL_NUMBER_MAX || NEVER_WAITABLE[event] !== undefined) return;
    binding.signalNodeListeners(number, process.listenerCount(event) + added);
  };
  // 'newListener' comes before the listener is added, 'removeListener' after it is gone.
  process.on('newListener', (event: string | symbol) => changed(event, 1));
  process.on('removeListener', (event: string | symbol) => changed(event, 0));
}
