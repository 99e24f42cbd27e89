// The watchdog's record of a mocha run: one JSON line per event, appended by
// the mocha process (hooks.ts) to a file the watchdog (main.ts) reads. A
// file, not a pipe or an IPC channel: it needs nothing from the process
// once written (a blocked main thread cannot send anything), and a Windows
// node.exe under Wine writes it as well as a Linux node does.

/** What a line of the record says happened. */
export type WatchdogEventKind =
  /** The mocha process loaded the hooks (before the test files load). */
  | 'started'
  /** The run began (test files loaded, global setup reached). */
  | 'run-begin'
  /** A test or hook began. */
  | 'begin'
  /** A test or hook finished (passed, failed, timed out). */
  | 'end'
  /** The running test or hook changed its own mocha timeout (this.timeout(ms) in its body). */
  | 'timeout'
  /** The run ended: every test ran; only the process's exit is left. */
  | 'run-end';

/** One line of the record. */
export interface WatchdogEvent {
  kind: WatchdogEventKind;
  /** 'test' or 'hook', on begin and end. */
  runnable?: 'test' | 'hook';
  /** The runnable's full title (its suites' titles, then its own). */
  title?: string;
  /** The file that defined it, when mocha knows. */
  file?: string;
  /** Its mocha timeout (0: none); mocha fails it by itself within this. */
  timeoutMs?: number;
}

/** What the record says the process is doing, folded from its events. */
export interface RunState {
  /** Whether any event has been read yet. */
  started: boolean;
  /** Whether the run ended (every test ran). */
  ended: boolean;
  /** The test or hook that began and has not finished, if any. */
  running: WatchdogEvent | null;
  /** The test or hook that finished last, if any. */
  lastFinished: WatchdogEvent | null;
}

/** The state before any event. */
export function initialState(): RunState {
  return { started: false, ended: false, running: null, lastFinished: null };
}

/** The state after `event`. */
export function fold(state: RunState, event: WatchdogEvent): RunState {
  switch (event.kind) {
    case 'started':
    case 'run-begin':
      return { ...state, started: true };
    case 'begin':
      return { ...state, started: true, running: event };
    case 'end':
      return { ...state, started: true, running: null, lastFinished: event };
    case 'timeout':
      return state.running === null ? state : { ...state, running: { ...state.running, timeoutMs: event.timeoutMs } };
    case 'run-end':
      return { ...state, started: true, ended: true, running: null };
  }
}

/** Whether `event` is progress (a 'timeout' only tells more about the running test or hook). */
export function isProgress(event: WatchdogEvent): boolean {
  return event.kind !== 'timeout';
}

/** One line of the record for `event`. */
export function formatEvent(event: WatchdogEvent): string {
  return `${JSON.stringify(event)}\n`;
}

/**
 * Splits newly read text into events, given the incomplete line left over
 * from the previous read; returns the events and the new leftover.
 */
export function parseEvents(leftover: string, text: string): { events: WatchdogEvent[]; leftover: string } {
  const lines = (leftover + text).split('\n');
  const rest = lines.pop() ?? '';
  const events = lines.filter((line) => line.trim().length > 0).map((line) => JSON.parse(line) as WatchdogEvent);
  return { events, leftover: rest };
}
