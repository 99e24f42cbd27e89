// An exception thrown by a callback propagates out of the driving call, and
// no other completion is lost (contract rule 1).
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { describeExit, lastJsonLine, runFixture } from './support/child';
import { runUntil, submit } from './support/run';
import { connectedPair } from './support/sockets';

forEachBackend('exceptions in callbacks', (scope) => {
  for (const driver of ['tick', 'run', 'runForNs'] as const) {
    it(`propagates out of ${driver}() and still delivers the other completions`, function () {
      const io = scope.create();
      const boom = new Error('boom from the first callback');
      const calls = [0, 0, 0];
      let order = 0;
      for (let i = 0; i < 3; i++) {
        io.timeout(0, () => {
          calls[i]++;
          if (order++ === 0) throw boom;
        });
      }
      let thrown: unknown = null;
      // Drive until the exception comes out (bounded).
      for (let step = 0; step < 5_000 && thrown === null; step++) {
        try {
          if (driver === 'tick') io.tick();
          else if (driver === 'run') io.run();
          else io.runForNs(1_000_000);
        } catch (error) {
          thrown = error;
        }
      }
      expect(thrown).to.equal(boom);
      runUntil(io, () => calls.every((count) => count > 0), 'the other two callbacks');
      io.runForNs(2_000_000);
      expect(calls).to.deep.equal([1, 1, 1]);
      expect(io.pending).to.equal(0);
    });
  }

  it('keeps the IO usable after a callback threw', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    io.timeout(0, () => {
      throw new Error('boom');
    });
    expect(() => io.run()).to.throw('boom');
    const send = submit((callback) => io.send(client, Buffer.from('still works'), callback));
    const buffer = Buffer.alloc(32);
    const recv = submit((callback) => io.recv(server, buffer, callback));
    runUntil(io, () => send.done && recv.done, 'a round trip after the exception');
    expect(send.error).to.equal(null);
    expect(recv.error).to.equal(null);
    expect(buffer.subarray(0, recv.result).toString()).to.equal('still works'.slice(0, recv.result));
  });

  it('reports every callback exception through deinit(), after running all callbacks', function () {
    const io = scope.create();
    const calls = [0, 0, 0];
    for (let i = 0; i < 3; i++) {
      io.timeout(3600e9, () => {
        calls[i]++;
        throw new Error(`boom ${i}`);
      });
    }
    expect(() => io.deinit()).to.throw(/boom/);
    expect(calls).to.deep.equal([1, 1, 1]);
    expect(() => io.tick()).to.throw(TypeError);
  });

  it('on an attached IO, reaches Node as an uncaught exception and the other completions still arrive (child process)', async function () {
    this.timeout(60_000);
    const result = await runFixture('attach-throw', [scope.backend], { killAfterMs: 30_000 });
    expect(result.killed, describeExit(result)).to.equal(false);
    expect(result.code, describeExit(result)).to.equal(0);
    const report = lastJsonLine(result) as { calls: number; caught: string[]; pending: number; timedOut?: boolean };
    expect(report.timedOut, describeExit(result)).to.equal(undefined);
    expect(report.caught).to.deep.equal(['boom from the first callback']);
    expect(report.calls).to.equal(3);
    expect(report.pending).to.equal(0);
  });
});
