// The driving calls: pending counts, and tick/run/runForNs refuse to run
// inside one of the IO's own callbacks.
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { runUntil, submit } from './support/run';

forEachBackend('driving', (scope) => {
  it('counts pending operations: up on submit, down as callbacks run', function () {
    const io = scope.create();
    expect(io.pending).to.equal(0);
    const outcomes = [submit((callback) => io.timeout(0, callback)), submit((callback) => io.timeout(3600e9, callback))];
    expect(io.pending).to.equal(2);
    let pendingInside = -1;
    const third = submit((callback) =>
      io.timeout(0, (error, result) => {
        pendingInside = io.pending;
        callback(error, result);
      }),
    );
    expect(io.pending).to.equal(3);
    runUntil(io, () => outcomes[0].done && third.done, 'the zero timeouts');
    expect(io.pending).to.equal(1);
    // Inside its own callback an operation no longer counts as pending.
    expect(pendingInside).to.be.within(1, 2);
    io.cancel(outcomes[1].id);
    runUntil(io, () => outcomes[1].done, 'the cancelled timeout');
    expect(io.pending).to.equal(0);
  });

  for (const driver of ['tick', 'run', 'runForNs'] as const) {
    it(`throws from ${driver}() called inside a callback, and the outer drive goes on`, function () {
      const io = scope.create();
      let thrown: unknown = null;
      const second = submit((callback) => io.timeout(0, callback));
      io.timeout(0, () => {
        try {
          if (driver === 'tick') io.tick();
          else if (driver === 'run') io.run();
          else io.runForNs(1000);
        } catch (error) {
          thrown = error;
        }
      });
      runUntil(io, () => io.pending === 0, 'both timeouts');
      expect(thrown).to.be.instanceOf(Error);
      expect(second.calls).to.equal(1);
    });
  }

  it('runs operations submitted by callbacks within the same run()', function () {
    const io = scope.create();
    const log: string[] = [];
    io.timeout(0, () => {
      log.push('first');
      io.timeout(1_000_000, () => log.push('second'));
    });
    io.run();
    expect(log).to.deep.equal(['first', 'second']);
  });
});
