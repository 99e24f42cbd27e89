// Cross-thread events: eventOpen/eventListen/eventClose on the IO's thread,
// IO.eventTrigger from any thread.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { IO } from '../io';
import { expectIOError } from './support/assertions';
import { forEachBackend } from './support/backends';
import { fixturePath } from './support/child';
import { complete, fail, runUntil, submit } from './support/run';

interface TriggerReport {
  type: 'triggered';
  ok: boolean;
  triggered: number;
}

/** Starts the trigger worker; collects its reports. */
function startTriggerWorker(handle: number, count: number): { worker: Worker; reports: TriggerReport[]; errors: unknown[] } {
  const worker = new Worker(fixturePath('event-trigger-worker'), { workerData: { handle, count } });
  const reports: TriggerReport[] = [];
  const errors: unknown[] = [];
  worker.on('message', (message: TriggerReport) => reports.push(message));
  worker.on('error', (error) => errors.push(error));
  return { worker, reports, errors };
}

forEachBackend('events', (scope) => {
  it('delivers 5 triggers from a worker thread as exactly 5 callbacks, driven by runForNs', async function () {
    // Waits in wall time for another thread's triggers: a simulated runForNs takes no wall time
    // (its clock is virtual). Attached, or in run(), a simulated IO does wait for them.
    if (scope.simulated) this.skip();
    const io = scope.create();
    const handle = io.eventOpen();
    const count = 5;
    const { worker, reports, errors } = startTriggerWorker(handle, count);
    await once(worker, 'online');
    let callbacks = 0;
    const failures: unknown[] = [];
    const listen = (): void => {
      io.eventListen(handle, (error, result) => {
        if (error !== null || result !== 0) return void failures.push(error ?? result);
        callbacks++;
        if (callbacks < count) listen();
        worker.postMessage('ack');
      });
    };
    listen();
    const exit = once(worker, 'exit') as Promise<[number]>;
    try {
      runUntil(io, () => callbacks >= count || failures.length > 0, 'the 5 event callbacks', { stepsMax: 10_000 });
    } catch (error) {
      // The worker's own errors arrive only once this thread yields: add them to the report.
      await worker.terminate();
      await exit;
      throw new Error(`${(error as Error).message}; worker errors: ${errors.map(String).join('; ') || 'none'}`);
    }
    const [exitCode] = await exit;
    expect(errors).to.deep.equal([]);
    expect(exitCode).to.equal(0);
    expect(failures).to.deep.equal([]);
    expect(callbacks).to.equal(count);
    expect(reports.map((report) => report.ok)).to.deep.equal([true, true, true, true, true]);
    // Exactly 5: a new listener gets nothing more, and eventClose cancels it.
    const extra = submit((callback) => io.eventListen(handle, callback));
    io.runForNs(20_000_000);
    expect(extra.calls, 'no callback without a trigger').to.equal(0);
    io.eventClose(handle);
    runUntil(io, () => extra.done, 'the listener cancelled by eventClose');
    expectIOError(extra.error, 'ECANCELED', 'eventListen');
    expect(callbacks).to.equal(count);
  });

  it('delivers 5 triggers from a worker thread as exactly 5 callbacks on an attached IO', async function () {
    const io = scope.create();
    const handle = io.eventOpen();
    const count = 5;
    io.attach();
    const { worker, reports, errors } = startTriggerWorker(handle, count);
    let callbacks = 0;
    const failures: unknown[] = [];
    const exited = once(worker, 'exit');
    await new Promise<void>((resolve) => {
      const listen = (): void => {
        io.eventListen(handle, (error) => {
          if (error !== null) return void failures.push(error);
          callbacks++;
          if (callbacks < count) listen();
          else resolve();
          worker.postMessage('ack');
        });
      };
      listen();
    });
    const [exitCode] = (await exited) as [number];
    expect(exitCode).to.equal(0);
    expect(errors).to.deep.equal([]);
    expect(failures).to.deep.equal([]);
    expect(callbacks).to.equal(count);
    expect(reports.map((report) => report.ok)).to.deep.equal([true, true, true, true, true]);
    expect(io.pending).to.equal(0);
  });

  it('wakes a listener triggered on the same thread, never inside eventTrigger', function () {
    const io = scope.create();
    const handle = io.eventOpen();
    const listen = submit((callback) => io.eventListen(handle, callback));
    io.tick();
    expect(listen.calls).to.equal(0);
    expect(IO.eventTrigger(handle)).to.equal(true);
    expect(listen.calls).to.equal(0);
    runUntil(io, () => listen.done, 'the listener');
    expect(listen.error).to.equal(null);
    expect(listen.result).to.equal(0);
    expect(listen.ranInsideSubmit).to.equal(false);
  });

  it('coalesces triggers made before the listener into one callback', function () {
    const io = scope.create();
    const handle = io.eventOpen();
    expect(IO.eventTrigger(handle)).to.equal(true);
    expect(IO.eventTrigger(handle)).to.equal(true);
    expect(IO.eventTrigger(handle)).to.equal(true);
    const first = submit((callback) => io.eventListen(handle, callback));
    runUntil(io, () => first.done, 'the first listener');
    expect(first.error).to.equal(null);
    const second = submit((callback) => io.eventListen(handle, callback));
    io.runForNs(20_000_000);
    expect(second.calls, 'the three triggers were one').to.equal(0);
    expect(IO.eventTrigger(handle)).to.equal(true);
    runUntil(io, () => second.done, 'the second listener');
    expect(second.error).to.equal(null);
  });

  it('cancels a pending listener on eventClose, and eventTrigger then returns false', function () {
    const io = scope.create();
    const handle = io.eventOpen();
    const listen = submit((callback) => io.eventListen(handle, callback));
    io.tick();
    io.eventClose(handle);
    runUntil(io, () => listen.done, 'the cancelled listener');
    expectIOError(listen.error, 'ECANCELED', 'eventListen');
    expect(IO.eventTrigger(handle)).to.equal(false);
  });

  it('returns false from eventTrigger for a handle never opened, and after deinit', function () {
    const io = scope.create();
    const handle = io.eventOpen();
    expect(IO.eventTrigger(0xfffffff0)).to.equal(false);
    io.deinit();
    expect(IO.eventTrigger(handle)).to.equal(false);
  });

  it('gives distinct handles, and events do not wake each other', function () {
    const io = scope.create();
    const a = io.eventOpen();
    const b = io.eventOpen();
    expect(a).to.not.equal(b);
    const listenA = submit((callback) => io.eventListen(a, callback));
    const listenB = submit((callback) => io.eventListen(b, callback));
    IO.eventTrigger(b);
    runUntil(io, () => listenB.done, 'listener b');
    io.runForNs(10_000_000);
    expect(listenA.calls).to.equal(0);
    IO.eventTrigger(a);
    runUntil(io, () => listenA.done, 'listener a');
    expect(listenA.error).to.equal(null);
    expect(listenB.error).to.equal(null);
  });

  it('opens at most 64 events per IO, then throws, and the open ones keep working', function () {
    const io = scope.create();
    const handles: number[] = [];
    for (let i = 0; i < 64; i++) handles.push(io.eventOpen());
    expect(new Set(handles).size).to.equal(64);
    expect(() => io.eventOpen()).to.throw(Error);
    const listen = submit((callback) => io.eventListen(handles[63], callback));
    IO.eventTrigger(handles[63]);
    runUntil(io, () => listen.done, 'listener on the 64th event');
    expect(listen.error).to.equal(null);
    io.eventClose(handles[0]);
    expect(io.eventOpen()).to.be.a('number');
  });

  for (const ending of ['deinit', 'eventClose'] as const) {
    it(`survives a worker triggering in a tight loop while the main thread calls ${ending}()`, async function () {
      // Waits in wall time for another thread's triggers: a simulated runForNs takes no wall time
      // (its clock is virtual). Attached, or in run(), a simulated IO does wait for them.
      if (scope.simulated) this.skip();
      const io = scope.create();
      const handle = io.eventOpen();
      const worker = new Worker(fixturePath('event-hammer-worker'), { workerData: { handle, triggersMax: 50_000_000 } });
      const reports: { triggered: number; sawFalse: boolean }[] = [];
      const errors: unknown[] = [];
      worker.on('message', (report: { triggered: number; sawFalse: boolean }) => reports.push(report));
      worker.on('error', (error) => errors.push(error));
      await once(worker, 'online');
      let callbacks = 0;
      const endings: string[] = [];
      const listen = (): void => {
        try {
          io.eventListen(handle, (error) => {
            if (error !== null) return void endings.push(error.code);
            callbacks++;
            listen();
          });
        } catch (error) {
          endings.push((error as { code?: string }).code ?? String(error));
        }
      };
      listen();
      runUntil(io, () => callbacks >= 100, '100 callbacks of the hammered event', { stepsMax: 10_000 });
      if (ending === 'deinit') {
        io.deinit();
      } else {
        io.eventClose(handle);
        runUntil(io, () => io.pending === 0, 'the listener after eventClose');
      }
      const [exitCode] = (await once(worker, 'exit')) as [number];
      expect(errors).to.deep.equal([]);
      expect(exitCode).to.equal(0);
      expect(reports).to.have.length(1);
      expect(reports[0].sawFalse, 'the worker saw eventTrigger return false').to.equal(true);
      expect(reports[0].triggered).to.be.at.least(callbacks);
      // The listening chain ended once: its listener was cancelled, or (if it
      // had fired just before) the next listen found the event gone.
      const expected = ending === 'deinit' ? ['ECANCELED', 'ERR_IO_DEINITIALIZED'] : ['ECANCELED', 'EBADF'];
      expect(endings).to.have.length(1);
      expect(expected).to.include(endings[0]);
    });
  }

  it('fails eventListen on a closed (or never opened) handle with IOError EBADF', function () {
    const io = scope.create();
    const handle = io.eventOpen();
    io.eventClose(handle);
    expectIOError(fail(io, 'eventListen on a closed handle', (callback) => io.eventListen(handle, callback)), 'EBADF', 'eventListen');
    expectIOError(fail(io, 'eventListen on an unknown handle', (callback) => io.eventListen(0xfffffff0, callback)), 'EBADF', 'eventListen');
  });

  it('fails a second listener while one waits with IOError EBUSY, and the first still fires', function () {
    const io = scope.create();
    const handle = io.eventOpen();
    const first = submit((callback) => io.eventListen(handle, callback));
    const second = complete(io, 'a second listener', (callback) => io.eventListen(handle, callback));
    expectIOError(second.error, 'EBUSY', 'eventListen');
    expect(first.calls).to.equal(0);
    IO.eventTrigger(handle);
    runUntil(io, () => first.done, 'the first listener');
    expect(first.error).to.equal(null);
  });
});
