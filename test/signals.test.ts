// io.signal: waits for a signal as a completion, on every backend (a real
// process's signals; a simulated world's Simulation.signal).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { IO } from '../io';
import { expectIOError, expectThrows } from './support/assertions';
import { forEachBackend, type IOScope } from './support/backends';
import { fixturePath } from './support/child';
import { runUntil, submit } from './support/run';

/**
 * The signal the shared tests wait for: SIGUSR2 where signals exist
 * (nothing else uses it here); on Windows SIGINT, one of the two it has
 * (console control events), which the tests never send there.
 */
const TEST_SIGNAL: NodeJS.Signals = process.platform === 'win32' ? 'SIGINT' : 'SIGUSR2';
const TEST_NUMBER = constants.signals[TEST_SIGNAL];

/** Skips a test that sends a signal where none can be sent (Windows: process.kill terminates). */
function needsSignals(scope: IOScope, test: Mocha.Context): void {
  if (!scope.signalsCanBeSent) test.skip();
}

forEachBackend('signals', (scope) => {
  it('completes a signal wait with the signal number when the signal arrives while run() blocks', function () {
    needsSignals(scope, this);
    const io = scope.create();
    const order: string[] = [];
    // Hang guard, not a timing bound: run() returns once the signal's callback cancelled it.
    const guard = io.timeout(30e9, (error) => order.push(error === null ? 'guard fired' : 'guard cancelled'));
    const wait = submit((callback) =>
      io.signal(TEST_SIGNAL, (error, number) => {
        callback(error, number);
        order.push('signal');
        io.cancel(guard);
      }),
    );
    io.tick(); // listening from here on
    if (scope.simulated) {
      scope.sendSignal(io, TEST_SIGNAL);
    } else {
      // Another process sends it while this one blocks in run().
      const { spawn } = require('node:child_process') as typeof import('node:child_process');
      spawn('kill', [`-${TEST_SIGNAL.slice(3)}`, String(process.pid)], { stdio: 'ignore' });
    }
    io.run();
    expect(order).to.deep.equal(['signal', 'guard cancelled']);
    expect(wait.calls).to.equal(1);
    expect(wait.error).to.equal(null);
    expect(wait.result).to.equal(TEST_NUMBER);
  });

  it('a wait submitted from the callback hears the next arrival: listening without a gap', function () {
    needsSignals(scope, this);
    const io = scope.create();
    const numbers: number[] = [];
    const listen = (): void => {
      io.signal(TEST_SIGNAL, (error, number) => {
        expect(error).to.equal(null);
        numbers.push(number);
        if (numbers.length < 3) {
          listen();
          // Sent before the next poll: remembered for the wait just submitted.
          scope.sendSignal(io, TEST_SIGNAL);
        }
      });
    };
    listen();
    io.tick();
    scope.sendSignal(io, TEST_SIGNAL);
    runUntil(io, () => numbers.length === 3, 'three arrivals');
    expect(numbers).to.deep.equal([TEST_NUMBER, TEST_NUMBER, TEST_NUMBER]);
    expect(io.pending).to.equal(0);
  });

  it('completes a cancelled signal wait once, with ECANCELED, and a later arrival calls nothing', function () {
    const io = scope.create();
    const keep = submit((callback) => io.signal(TEST_SIGNAL, callback)); // keeps the IO listening
    const wait = submit((callback) => io.signal(TEST_SIGNAL, callback));
    io.tick();
    expect(io.cancel(wait.id)).to.equal(true);
    runUntil(io, () => wait.done, 'the cancelled wait');
    expectIOError(wait.error, 'ECANCELED', 'signal');
    if (scope.signalsCanBeSent) {
      scope.sendSignal(io, TEST_SIGNAL);
      runUntil(io, () => keep.done, 'the other wait');
      expect(keep.error).to.equal(null);
    } else {
      io.cancel(keep.id);
      runUntil(io, () => keep.done, 'the other wait');
    }
    expect(wait.calls).to.equal(1);
    expect(keep.calls).to.equal(1);
    expect(io.cancel(wait.id)).to.equal(false);
  });

  it('completes a pending signal wait once, with ECANCELED, on deinit', () => {
    const io = scope.create();
    const wait = submit((callback) => io.signal(TEST_SIGNAL, callback));
    io.tick();
    io.deinit();
    expect(wait.calls).to.equal(1);
    expectIOError(wait.error, 'ECANCELED', 'signal');
  });

  it('two IOs waiting for the same signal each complete once', function () {
    needsSignals(scope, this);
    const first = scope.create();
    const second = scope.create();
    const a = submit((callback) => first.signal(TEST_SIGNAL, callback));
    const b = submit((callback) => second.signal(TEST_SIGNAL, callback));
    first.tick();
    second.tick();
    scope.sendSignal(first, TEST_SIGNAL);
    if (scope.simulated) scope.sendSignal(second, TEST_SIGNAL); // a world signals one IO at a time
    runUntil(first, () => a.done, 'the first IO');
    runUntil(second, () => b.done, 'the second IO');
    for (let i = 0; i < 5; i++) {
      first.tick();
      second.tick();
    }
    expect([a.calls, b.calls]).to.deep.equal([1, 1]);
    expect([a.result, b.result]).to.deep.equal([TEST_NUMBER, TEST_NUMBER]);
  });

  it('an IO on another thread and one on this thread both hear one signal', async function () {
    needsSignals(scope, this);
    if (scope.simulated) this.skip(); // a simulated world's signals go to one IO, sent by the program
    const worker = new Worker(fixturePath('signal-worker'), { workerData: { backend: scope.backend, signal: TEST_SIGNAL } });
    const errors: unknown[] = [];
    worker.on('error', (error) => errors.push(error));
    const reports: { type: string; calls?: number; result?: number; code?: string | null }[] = [];
    worker.on('message', (message) => reports.push(message));
    while (!reports.some((report) => report.type === 'waiting')) await once(worker, 'message');
    const io = scope.create();
    const wait = submit((callback) => io.signal(TEST_SIGNAL, callback));
    io.tick();
    process.kill(process.pid, TEST_SIGNAL);
    runUntil(io, () => wait.done, 'this thread\'s wait');
    while (!reports.some((report) => report.type === 'done')) await once(worker, 'message');
    expect(errors).to.deep.equal([]);
    expect(wait.calls).to.equal(1);
    expect(reports.find((report) => report.type === 'done')).to.deep.equal({ type: 'done', calls: 1, result: TEST_NUMBER, code: null });
  });

  it('a signal the OS has no way to deliver completes with ENOTSUP (on Windows, all but the two console events)', function () {
    if (scope.simulated || process.platform !== 'win32') this.skip(); // a POSIX process can wait for SIGTERM
    const io = scope.create();
    const wait = submit((callback) => io.signal('SIGTERM', callback));
    runUntil(io, () => wait.done, 'the wait for SIGTERM');
    expectIOError(wait.error, 'ENOTSUP', 'signal');
  });

  it('io.promises.signal resolves with the signal number on an attached IO', async function () {
    needsSignals(scope, this);
    const io = scope.create();
    io.attach();
    const waited = io.promises.signal(TEST_SIGNAL);
    await new Promise((resolve) => setImmediate(resolve)); // the wait is submitted
    scope.sendSignal(io, TEST_SIGNAL);
    expect(await waited).to.equal(TEST_NUMBER);
  });

  it('refuses signals that cannot be waited for, and names that are not signals', () => {
    const io = scope.create();
    for (const name of ['SIGKILL', 'SIGSTOP', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL']) {
      if ((constants.signals as Record<string, number | undefined>)[name] === undefined) continue;
      const error = expectThrows(() => io.signal(name, () => {}), RangeError);
      expect(error.message).to.contain(`${name} cannot be waited for`);
    }
    expectThrows(() => io.signal('SIGNOTHING', () => {}), TypeError);
    expectThrows(() => io.signal(15 as unknown as string, () => {}), TypeError);
    expectThrows(() => io.signal(TEST_SIGNAL, undefined as unknown as () => void), TypeError);
    expect(io.pending).to.equal(0);
  });
});

describe('signals beside Node\'s own listeners', () => {
  const backends = IO.backends().filter((backend) => backend !== 'simulation');
  for (const backend of backends) {
    describe(backend, () => {
      const ios: IO[] = [];
      afterEach(() => {
        for (const io of ios.splice(0)) io.deinit();
      });

      it('process.on(\'SIGTERM\') still fires beside io.signal(\'SIGTERM\') on an attached IO', async function () {
        if (process.platform === 'win32') this.skip(); // no signal can be sent there
        const io = new IO({ backend });
        ios.push(io);
        io.attach();
        const heard = new Promise<number>((resolve) => process.once('SIGTERM', () => resolve(1)));
        const waited = new Promise<number>((resolve, reject) =>
          io.signal('SIGTERM', (error, number) => (error === null ? resolve(number) : reject(error))),
        );
        await new Promise((resolve) => setImmediate(resolve)); // the wait is submitted
        process.kill(process.pid, 'SIGTERM');
        expect(await Promise.all([heard, waited])).to.deep.equal([1, constants.signals.SIGTERM]);
      });

      it('after the last wait completes, SIGTERM terminates the process again', async function () {
        if (process.platform === 'win32') this.skip();
        const child = spawn(process.execPath, [fixturePath('signal-once'), backend], { stdio: ['ignore', 'pipe', 'inherit'] });
        let output = '';
        const waitFor = async (text: string): Promise<void> => {
          while (!output.includes(text)) {
            const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
            output += chunk.toString();
          }
        };
        const exited = once(child, 'exit');
        await waitFor('waiting\n');
        child.kill('SIGTERM');
        await waitFor(`got ${constants.signals.SIGTERM}\n`);
        child.kill('SIGTERM');
        expect(await exited).to.deep.equal([null, 'SIGTERM']);
        expect(output).to.equal(`waiting\ngot ${constants.signals.SIGTERM}\n`);
      });

      it('a Node listener added after the wait, and removed again, leaves both working', async function () {
        if (process.platform === 'win32') this.skip();
        const io = new IO({ backend });
        ios.push(io);
        io.attach();
        const first = new Promise<number>((resolve, reject) =>
          io.signal(TEST_SIGNAL, (error, number) => (error === null ? resolve(number) : reject(error))),
        );
        await new Promise((resolve) => setImmediate(resolve));
        // Node installs its own handler now, without chaining to what was there.
        let nodeCalls = 0;
        const listener = (): void => {
          nodeCalls++;
        };
        process.on(TEST_SIGNAL, listener);
        process.kill(process.pid, TEST_SIGNAL);
        expect(await first).to.equal(TEST_NUMBER);
        while (nodeCalls === 0) await new Promise((resolve) => setImmediate(resolve));
        // Node puts SIG_DFL back when its last listener goes: the wait must still hear it, and the process live.
        process.removeListener(TEST_SIGNAL, listener);
        const second = new Promise<number>((resolve, reject) =>
          io.signal(TEST_SIGNAL, (error, number) => (error === null ? resolve(number) : reject(error))),
        );
        await new Promise((resolve) => setImmediate(resolve));
        process.kill(process.pid, TEST_SIGNAL);
        expect(await second).to.equal(TEST_NUMBER);
        expect(nodeCalls).to.equal(1);
      });
    });
  }
});
