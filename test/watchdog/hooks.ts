// Loaded into the mocha process with --require by the watchdog (main.ts):
// appends each test's and hook's begin and end to the record named by
// TIGERIO_WATCHDOG_LOG, synchronously, so that the line naming a test is on
// disk before the test runs (and blocks, maybe). Without the variable (a
// plain `npx mocha --require ...`) it does nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
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

/**
 * Mocha's global setup fixture: mocha calls it with the Runner as `this`,
 * whose events say which test or hook is running.
 */
export function mochaGlobalSetup(this: Mocha.Runner): void {
  if (logFd === null) return;
  record({ kind: 'run-begin' });
  this.on('hook', (hook: Mocha.Hook) => record({ kind: 'begin', ...describeRunnable(hook, 'hook') }));
  this.on('hook end', (hook: Mocha.Hook) => record({ kind: 'end', ...describeRunnable(hook, 'hook') }));
  this.on('test', (test: Mocha.Test) => record({ kind: 'begin', ...describeRunnable(test, 'test') }));
  this.on('test end', (test: Mocha.Test) => record({ kind: 'end', ...describeRunnable(test, 'test') }));
  this.on('end', () => record({ kind: 'run-end' }));
}
