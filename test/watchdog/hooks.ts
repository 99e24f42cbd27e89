// Loaded into the mocha process with --require by the watchdog (main.ts):
// appends each test's and hook's begin and end to the record named by
// TIGERIO_WATCHDOG_LOG, synchronously, so that the line naming a test is on
// disk before the test runs (and blocks, maybe). Without the variable (a
// plain `npx mocha --require ...`) it does nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import { formatEvent, type WatchdogEvent } from './events';

const logPath = process.env.TIGERIO_WATCHDOG_LOG;
const logFd = logPath === undefined || logPath === '' ? null : fs.openSync(logPath, 'a');

function record(event: WatchdogEvent): void {
  if (logFd !== null) fs.writeSync(logFd, formatEvent(event));
}

function describeRunnable(runnable: Mocha.Runnable, kind: 'test' | 'hook'): Omit<WatchdogEvent, 'kind'> {
  return {
    runnable: kind,
    title: runnable.fullTitle(),
    file: runnable.file === undefined ? undefined : path.relative(process.cwd(), runnable.file),
    timeoutMs: runnable.timeout(),
  };
}

record({ kind: 'started' });

/** The test or hook running now (between its begin and end events). */
let running: Mocha.Runnable | null = null;

/**
 * A test or hook that blocks for a long but bounded time (a spawnSync with
 * a timeout) says so with this.timeout(ms) in its body, after its begin
 * event: the watchdog is told, so that it waits as long as mocha would.
 */
function reportTimeoutChanges(): void {
  const prototype = Mocha.Runnable.prototype as unknown as { timeout(ms?: number | string): unknown };
  const timeout = prototype.timeout;
  prototype.timeout = function timeoutReported(this: Mocha.Runnable, ...args: [ms?: number | string]) {
    const result = timeout.apply(this, args);
    if (args.length > 0 && this === running) record({ kind: 'timeout', timeoutMs: this.timeout() });
    return result;
  };
}

/**
 * Mocha's global setup fixture: mocha calls it with the Runner as `this`,
 * whose events say which test or hook is running.
 */
export function mochaGlobalSetup(this: Mocha.Runner): void {
  if (logFd === null) return;
  record({ kind: 'run-begin' });
  reportTimeoutChanges();
  const begin = (runnable: Mocha.Runnable, kind: 'test' | 'hook'): void => {
    running = runnable;
    record({ kind: 'begin', ...describeRunnable(runnable, kind) });
  };
  const end = (runnable: Mocha.Runnable, kind: 'test' | 'hook'): void => {
    running = null;
    record({ kind: 'end', ...describeRunnable(runnable, kind) });
  };
  this.on('hook', (hook: Mocha.Hook) => begin(hook, 'hook'));
  this.on('hook end', (hook: Mocha.Hook) => end(hook, 'hook'));
  this.on('test', (test: Mocha.Test) => begin(test, 'test'));
  this.on('test end', (test: Mocha.Test) => end(test, 'test'));
  this.on('end', () => record({ kind: 'run-end' }));
}
