// io.processExit: a process's exit as a completion, on every backend (a
// simulated world runs no processes: every pid there is ESRCH).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { expect } from 'chai';
import type { IOError, ProcessExit } from '../io';
import { expectIOError, expectThrows } from './support/assertions';
import { forEachBackend } from './support/backends';
import { runUntil } from './support/run';

/** A Node child that exits with `code` after `delayMs` (a hang guard kills it after 30 s). */
function child(code: number, delayMs: number): ChildProcess {
  return spawn(process.execPath, ['-e', `setTimeout(() => process.exit(${code}), ${delayMs})`], { stdio: 'ignore' });
}

class ExitOutcome {
  calls = 0;
  error: IOError | null = null;
  exit: ProcessExit | null = null;
  get done(): boolean {
    return this.calls > 0;
  }
  readonly callback = (error: IOError | null, exit: ProcessExit): void => {
    this.calls++;
    this.error = error;
    this.exit = exit;
  };
}

/** Hang guard for a test that spawns a child: node.exe under Wine starts in seconds on a loaded machine. */
const SPAWN_TEST_TIMEOUT_MS = 120_000;

forEachBackend('process exits', (scope) => {
  it('a child\'s exit completes processExit with its exit code', async function () {
    this.timeout(SPAWN_TEST_TIMEOUT_MS);
    if (scope.simulated) this.skip(); // a simulated world runs no processes (see the ESRCH test)
    const io = scope.create();
    const process = child(7, 100);
    const exited = once(process, 'exit');
    const outcome = new ExitOutcome();
    io.processExit(process.pid!, outcome.callback);
    // Driven while Node's loop is not: child_process cannot reap it first.
    runUntil(io, () => outcome.done, 'the child\'s exit', { stepsMax: 120_000 });
    expect(outcome.error).to.equal(null);
    expect(outcome.exit).to.deep.equal({ code: 7, signal: null });
    expect((await exited)[0]).to.equal(7); // child_process still reaps it and reports it
    expect(outcome.calls).to.equal(1);
  });

  it('a child killed by a signal completes processExit with the signal (Windows: exit code 1)', async function () {
    this.timeout(SPAWN_TEST_TIMEOUT_MS);
    if (scope.simulated) this.skip();
    const io = scope.create();
    const process = child(0, 30_000);
    const exited = once(process, 'exit');
    const outcome = new ExitOutcome();
    io.processExit(process.pid!, outcome.callback);
    io.tick();
    process.kill('SIGKILL');
    runUntil(io, () => outcome.done, 'the child\'s exit', { stepsMax: 120_000 });
    expect(outcome.error).to.equal(null);
    // Windows has no signals: libuv's kill is TerminateProcess with exit code 1.
    const expected = globalThis.process.platform === 'win32' ? { code: 1, signal: null } : { code: null, signal: 'SIGKILL' };
    expect(outcome.exit).to.deep.equal(expected);
    await exited;
  });

  it('two processExit of one process both complete with its exit, and cancelling one leaves the other waiting', async function () {
    // kqueue keys an EVFILT_PROC watch by pid alone: a second watch of the
    // same pid in one kqueue replaces the first, and deleting either deletes both.
    this.timeout(SPAWN_TEST_TIMEOUT_MS);
    if (scope.simulated) this.skip();
    const io = scope.create();
    const process = child(4, 100);
    const exited = once(process, 'exit');
    const first = new ExitOutcome();
    const second = new ExitOutcome();
    io.processExit(process.pid!, first.callback);
    io.processExit(process.pid!, second.callback);
    const cancelled = new ExitOutcome();
    const kept = new ExitOutcome();
    const cancelledId = io.processExit(process.pid!, cancelled.callback);
    io.processExit(process.pid!, kept.callback);
    io.tick();
    expect(io.cancel(cancelledId)).to.equal(true);
    runUntil(io, () => first.done && second.done && cancelled.done && kept.done, 'four processExit of one child', {
      stepsMax: 120_000,
    });
    for (const outcome of [first, second, kept]) {
      expect(outcome.error).to.equal(null);
      expect(outcome.exit).to.deep.equal({ code: 4, signal: null });
    }
    expectIOError(cancelled.error, 'ECANCELED', 'processExit');
    expect((await exited)[0]).to.equal(4);
    io.runForNs(1_000_000);
    expect([first.calls, second.calls, cancelled.calls, kept.calls]).to.deep.equal([1, 1, 1, 1]);
  });

  it('on an attached IO, beside child_process\'s own reaping, processExit completes once', async function () {
    this.timeout(SPAWN_TEST_TIMEOUT_MS);
    if (scope.simulated) this.skip();
    const io = scope.create();
    io.attach();
    const process = child(3, 50);
    const outcome = new ExitOutcome();
    const done = new Promise<void>((resolve) =>
      io.processExit(process.pid!, (error, exit) => {
        outcome.callback(error, exit);
        resolve();
      }),
    );
    const [code] = await once(process, 'exit');
    await done;
    expect(code).to.equal(3);
    expect(outcome.calls).to.equal(1);
    expect(outcome.error).to.equal(null);
    // Node may reap the child before the IO asks: the code is still known
    // where the kernel keeps it (Linux 6.15+, kqueue, Windows), else unknown.
    expect([JSON.stringify({ code: 3, signal: null }), JSON.stringify({ code: null, signal: null })]).to.include(
      JSON.stringify(outcome.exit),
    );
  });

  it('a process already exited and reaped completes processExit with ESRCH (Windows: its code while a handle holds it)', async function () {
    this.timeout(SPAWN_TEST_TIMEOUT_MS);
    const io = scope.create();
    let pid = 1 << 22; // on the simulation, any pid: its world runs no processes
    if (!scope.simulated) {
      const process = child(0, 0);
      await once(process, 'exit'); // reaped by child_process
      pid = process.pid!;
    }
    const outcome = new ExitOutcome();
    io.processExit(pid, outcome.callback);
    runUntil(io, () => outcome.done, 'processExit of a reaped process');
    expect(outcome.calls).to.equal(1);
    if (scope.backend === 'iocp' && outcome.error === null) {
      // Windows keeps an exited process (and its pid) while a handle to it
      // is open, as node:child_process's may still be: its exit code then.
      expect(outcome.exit).to.deep.equal({ code: 0, signal: null });
      return;
    }
    expectIOError(outcome.error, 'ESRCH', 'processExit');
    expect(outcome.exit).to.deep.equal({ code: null, signal: null });
  });

  it('a cancelled processExit, and one pending at deinit, complete once with ECANCELED', async function () {
    this.timeout(SPAWN_TEST_TIMEOUT_MS);
    if (scope.simulated) this.skip(); // nothing waits there: ESRCH at once
    const io = scope.create();
    const process = child(0, 30_000);
    const exited = once(process, 'exit');
    const cancelled = new ExitOutcome();
    const atDeinit = new ExitOutcome();
    const id = io.processExit(process.pid!, cancelled.callback);
    io.processExit(process.pid!, atDeinit.callback);
    io.tick();
    expect(io.cancel(id)).to.equal(true);
    runUntil(io, () => cancelled.done, 'the cancelled processExit');
    expectIOError(cancelled.error, 'ECANCELED', 'processExit');
    io.deinit();
    expectIOError(atDeinit.error, 'ECANCELED', 'processExit');
    process.kill('SIGKILL');
    await exited;
    expect([cancelled.calls, atDeinit.calls]).to.deep.equal([1, 1]);
  });

  it('refuses a pid that is not a positive integer', () => {
    const io = scope.create();
    for (const pid of [0, -1, 1.5, NaN, '1' as unknown as number]) {
      expectThrows(() => io.processExit(pid, () => {}), RangeError);
    }
    expect(io.pending).to.equal(0);
  });
});
