// Timeouts: never early, never lost with a tiny ring, and chains of
// zero-delay callbacks. Only lower bounds on time: the contract promises
// "at least", and a loaded machine may always be later.
import { spawn } from 'node:child_process';
import { expect } from 'chai';
import type { IO } from '../io';
import { forEachBackend } from './support/backends';
import { complete, runUntil, submit } from './support/run';

forEachBackend('timeouts', (scope) => {
  /** Submits a timeout of delayNs, drives the IO with run(), and returns the ns from the call to its callback. */
  const elapsedUnderRun = (io: IO, delayNs: number): bigint => {
    const start = scope.nowNs();
    let firedAt = -1n;
    io.timeout(delayNs, () => {
      firedAt = scope.nowNs();
    });
    io.run();
    expect(firedAt >= 0n, 'the timeout ran').to.equal(true);
    return firedAt - start;
  };

  for (const milliseconds of [0, 1, 10, 50]) {
    it(`completes a ${milliseconds} ms timeout no earlier than asked`, function () {
      const io = scope.create();
      const asked = BigInt(milliseconds) * 1_000_000n;
      const start = scope.nowNs();
      let firedAt = -1n;
      const timeout = submit((callback) =>
        io.timeout(Number(asked), (error, result) => {
          firedAt = scope.nowNs();
          callback(error, result);
        }),
      );
      runUntil(io, () => timeout.done, `the ${milliseconds} ms timeout`);
      expect(timeout.error).to.equal(null);
      expect(timeout.result).to.equal(0);
      expect(firedAt - start >= asked, `elapsed ${firedAt - start} ns >= asked ${asked} ns`).to.equal(true);
    });
  }

  // A wait with a part of a millisecond to it: epoll waits the whole
  // milliseconds first and may wake early with nothing; the rest must
  // still be waited, by run() for a timer and by runForNs for its own end.
  for (const nanoseconds of [1_250_000, 2_750_000]) {
    it(`completes a ${nanoseconds / 1e6} ms timeout no earlier than asked under run()`, function () {
      const elapsed = elapsedUnderRun(scope.create(), nanoseconds);
      expect(elapsed >= BigInt(nanoseconds), `elapsed ${elapsed} ns >= asked ${nanoseconds} ns`).to.equal(true);
    });

    it(`returns from runForNs(${nanoseconds / 1e6} ms) no earlier than asked, with an operation still pending`, function () {
      const io = scope.create();
      const later = submit((callback) => io.timeout(3600e9, callback));
      const start = scope.nowNs();
      io.runForNs(nanoseconds);
      const elapsed = scope.nowNs() - start;
      expect(elapsed >= BigInt(nanoseconds), `elapsed ${elapsed} ns >= asked ${nanoseconds} ns`).to.equal(true);
      expect(later.done).to.equal(false);
      expect(io.pending).to.equal(1);
    });
  }

  // A signal ends a kernel wait early (EINTR); run() must wait out the rest.
  it('run() waits out a timeout through signals that arrive while it waits', async function () {
    // Nothing to interrupt in a simulated world; no POSIX signals on Windows.
    if (scope.simulated || process.platform === 'win32') this.skip();
    const io = scope.create();
    let signals = 0;
    const onSignal = (): void => {
      signals++;
    };
    process.on('SIGUSR2', onSignal);
    try {
      // Another process sends them while this thread sits in run(), which
      // waits for a timeout far beyond the last one.
      const sender = spawn('sh', ['-c', `for i in 1 2 3; do sleep 0.05; kill -USR2 ${process.pid}; done`], { stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => sender.on('exit', () => resolve()));
      const asked = 600_000_000;
      const elapsed = elapsedUnderRun(io, asked);
      expect(elapsed >= BigInt(asked), `elapsed ${elapsed} ns >= asked ${asked} ns`).to.equal(true);
      expect(io.pending).to.equal(0);
      // Node runs signal listeners from its own loop: they come now.
      await exited;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(signals).to.equal(3);
    } finally {
      process.off('SIGUSR2', onSignal);
    }
  });

  it('completes 10 timeouts on an IO with entries: 1 (submission queue full)', function () {
    const io = scope.create({ entries: 1 });
    const timeouts = Array.from({ length: 10 }, (_, i) => submit((callback) => io.timeout(i * 100_000, callback)));
    expect(io.pending).to.equal(10);
    runUntil(io, () => timeouts.every((timeout) => timeout.done), 'the 10 timeouts');
    for (const timeout of timeouts) {
      expect(timeout.error).to.equal(null);
      expect(timeout.calls).to.equal(1);
    }
    expect(io.pending).to.equal(0);
  });

  it('runs a chain of 1,000 zero-delay timeouts, each submitted by the previous callback, under run()', function () {
    const io = scope.create();
    const depthMax = 1000;
    let completed = 0;
    let errors = 0;
    let nested = 0;
    let nestedMax = 0;
    const next = (): void => {
      io.timeout(0, (error) => {
        nested++;
        nestedMax = Math.max(nestedMax, nested);
        if (error !== null) errors++;
        completed++;
        if (completed < depthMax) next();
        nested--;
      });
    };
    next();
    io.run();
    expect(errors).to.equal(0);
    expect(completed).to.equal(depthMax);
    // Never synchronous: no callback ran inside the one that submitted it.
    expect(nestedMax).to.equal(1);
    expect(io.pending).to.equal(0);
  });

  it('runForNs(ns) with nothing pending returns no earlier than ns', function () {
    const io = scope.create();
    const asked = 5_000_000n;
    const start = scope.nowNs();
    io.runForNs(Number(asked));
    const elapsed = scope.nowNs() - start;
    expect(elapsed >= asked, `elapsed ${elapsed} ns >= asked ${asked} ns`).to.equal(true);
  });

  it('runForNs(ns) returns no earlier than ns while its callbacks keep submitting work that is due at once', function () {
    // Every round has a callback to run, so the wait never blocks: the end
    // is found by the check each round makes of the clock, not by a wait
    // that times out. On the simulation each such round costs 1 ns of
    // virtual time: 5 ms there would be 5,000,000 rounds.
    const io = scope.create();
    const asked = scope.simulated ? 20_000n : 5_000_000n;
    let rounds = 0;
    let failed = 0;
    let ending = false;
    const again = (error: Error | null): void => {
      if (ending) return; // deinit() ends the chain's last timeout: fired, or cancelled
      if (error !== null) failed++;
      rounds++;
      io.timeout(0, again);
    };
    io.timeout(0, again);
    const start = scope.nowNs();
    io.runForNs(Number(asked));
    const elapsed = scope.nowNs() - start;
    expect(elapsed >= asked, `elapsed ${elapsed} ns >= asked ${asked} ns`).to.equal(true);
    expect(failed).to.equal(0);
    expect(rounds > 1, `${rounds} callbacks ran`).to.equal(true);
    expect(io.pending).to.equal(1); // the chain's next timeout, not yet run
    ending = true;
    io.deinit();
  });

  it('run() with nothing pending returns', function () {
    const io = scope.create();
    io.run();
    expect(io.pending).to.equal(0);
  });

  it('keeps a long timeout pending while shorter ones complete', function () {
    const io = scope.create();
    const long = submit((callback) => io.timeout(3600e9, callback));
    const short = complete(io, 'a short timeout', (callback) => io.timeout(1_000_000, callback));
    expect(short.error).to.equal(null);
    expect(long.calls).to.equal(0);
    expect(io.pending).to.equal(1);
    expect(io.cancel(long.id)).to.equal(true);
    runUntil(io, () => long.done, 'the cancelled long timeout');
    expect(long.error?.code).to.equal('ECANCELED');
  });

  it('accepts the largest timeout (2^53 - 1 ns): it stays pending and cancels cleanly', function () {
    const io = scope.create();
    const timeout = submit((callback) => io.timeout(Number.MAX_SAFE_INTEGER, callback));
    const short = complete(io, 'a short timeout beside it', (callback) => io.timeout(1_000_000, callback));
    io.runForNs(2_000_000);
    expect(short.error).to.equal(null);
    expect(timeout.calls, 'a 104-day timeout did not fire').to.equal(0);
    expect(io.cancel(timeout.id)).to.equal(true);
    runUntil(io, () => timeout.done, 'the cancelled timeout');
    expect(timeout.error?.code).to.equal('ECANCELED');
  });

  it('completes 10,000 timeouts of random delays, each exactly once and none early', function () {
    const io = scope.create();
    const count = 10_000;
    const asked: bigint[] = [];
    const elapsed: bigint[] = [];
    const calls = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const ns = Math.floor(Math.random() * 5_000_000);
      asked.push(BigInt(ns));
      const start = scope.nowNs();
      io.timeout(ns, () => {
        calls[i]++;
        elapsed[i] = scope.nowNs() - start;
      });
    }
    runUntil(io, () => io.pending === 0, 'the 10,000 timeouts');
    io.runForNs(1_000_000);
    expect(calls.every((c) => c === 1), 'each timeout called once').to.equal(true);
    const early = asked.findIndex((ns, i) => elapsed[i] < ns);
    expect(early, `timeout ${early} fired early`).to.equal(-1);
  });

  it('cancels a random half of 2,000 pending timeouts; the rest fire, none early', function () {
    const io = scope.create();
    const count = 2_000;
    const ids: number[] = [];
    const asked: bigint[] = [];
    const outcome: (string | bigint)[] = [];
    for (let i = 0; i < count; i++) {
      const ns = 1_000_000 + Math.floor(Math.random() * 10_000_000);
      asked.push(BigInt(ns));
      const start = scope.nowNs();
      ids.push(
        io.timeout(ns, (error) => {
          outcome[i] = error === null ? scope.nowNs() - start : error.code;
        }),
      );
    }
    const cancelled = new Set<number>();
    for (let i = 0; i < count; i++) if (Math.random() < 0.5) cancelled.add(i);
    for (const i of cancelled) expect(io.cancel(ids[i]), `cancel ${i}`).to.equal(true);
    runUntil(io, () => io.pending === 0, 'the 2,000 timeouts');
    for (let i = 0; i < count; i++) {
      if (cancelled.has(i)) expect(outcome[i], `timeout ${i}`).to.equal('ECANCELED');
      else {
        expect(outcome[i], `timeout ${i}`).to.be.a('bigint');
        expect((outcome[i] as bigint) >= asked[i], `timeout ${i} not early`).to.equal(true);
      }
    }
  });
});
