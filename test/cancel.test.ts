// cancel(operation): a pending operation completes with ECANCELED; a
// completed or unknown one is left alone.
import { expect } from 'chai';
import { expectIOError } from './support/assertions';
import { forEachBackend } from './support/backends';
import { complete, runUntil, submit } from './support/run';
import { connectedPair, exchange } from './support/sockets';

forEachBackend('cancel', (scope) => {
  it('cancels a pending recv: returns true, its callback gets ECANCELED once', function () {
    const io = scope.create();
    const { server } = connectedPair(io);
    const recv = submit((callback) => io.recv(server, Buffer.alloc(16), callback));
    io.tick();
    expect(recv.calls).to.equal(0);
    expect(io.cancel(recv.id)).to.equal(true);
    expect(recv.calls, 'cancel() does not run the callback synchronously').to.equal(0);
    runUntil(io, () => recv.done, 'the cancelled recv');
    expectIOError(recv.error, 'ECANCELED', 'recv');
    expect(recv.result).to.equal(0);
    io.runForNs(2_000_000);
    expect(recv.calls).to.equal(1);
  });

  it('leaves the socket usable after a cancelled recv', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const recv = submit((callback) => io.recv(server, Buffer.alloc(16), callback));
    expect(io.cancel(recv.id)).to.equal(true);
    runUntil(io, () => recv.done, 'the cancelled recv');
    const message = Buffer.from('after the cancel');
    expect(exchange(io, client, server, message)).to.deep.equal(message);
  });

  it('cancels a pending timeout and a pending accept', function () {
    const io = scope.create();
    const listener = io.listen('127.0.0.1', 0);
    const timeout = submit((callback) => io.timeout(3600e9, callback));
    const accept = submit((callback) => io.accept(listener, callback));
    expect(io.cancel(timeout.id)).to.equal(true);
    expect(io.cancel(accept.id)).to.equal(true);
    runUntil(io, () => timeout.done && accept.done, 'the cancelled operations');
    expectIOError(timeout.error, 'ECANCELED', 'timeout');
    expectIOError(accept.error, 'ECANCELED', 'accept');
    expect(io.pending).to.equal(0);
  });

  it('returns false for an operation that already completed, and its callback is not called again', function () {
    const io = scope.create();
    const timeout = complete(io, 'a timeout', (callback) => io.timeout(0, callback));
    expect(io.cancel(timeout.id)).to.equal(false);
    io.runForNs(2_000_000);
    expect(timeout.calls).to.equal(1);
    expect(timeout.error).to.equal(null);
  });

  it('returns false for a second cancel of the same operation', function () {
    const io = scope.create();
    const timeout = submit((callback) => io.timeout(3600e9, callback));
    expect(io.cancel(timeout.id)).to.equal(true);
    expect(io.cancel(timeout.id)).to.equal(false);
    runUntil(io, () => timeout.done, 'the cancelled timeout');
    expect(timeout.calls).to.equal(1);
  });

  it('returns false for ids never handed out', function () {
    const io = scope.create();
    expect(io.cancel(0)).to.equal(false);
    expect(io.cancel(123_456_789)).to.equal(false);
    expect(io.cancel(Number.MAX_SAFE_INTEGER)).to.equal(false);
  });

  it('does not cancel a newer operation that reuses the slot of a completed one', function () {
    const io = scope.create();
    const first = complete(io, 'first timeout', (callback) => io.timeout(0, callback));
    const second = submit((callback) => io.timeout(3600e9, callback));
    expect(second.id).to.not.equal(first.id);
    expect(io.cancel(first.id)).to.equal(false);
    io.runForNs(2_000_000);
    expect(second.calls, 'the newer operation is still pending').to.equal(0);
    expect(io.cancel(second.id)).to.equal(true);
    runUntil(io, () => second.done, 'the second timeout');
    expect(second.error?.code).to.equal('ECANCELED');
  });

  it('cancels one of several recvs queued on a socket; the others still receive in order', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const a = Buffer.alloc(3);
    const c = Buffer.alloc(3);
    const first = submit((callback) => io.recv(server, a, callback));
    const middle = submit((callback) => io.recv(server, Buffer.alloc(3), callback));
    const last = submit((callback) => io.recv(server, c, callback));
    expect(io.cancel(middle.id)).to.equal(true);
    runUntil(io, () => middle.done, 'the cancelled middle recv');
    expect(middle.error?.code).to.equal('ECANCELED');
    const send = submit((callback) => io.send(client, Buffer.from('abcdef'), callback));
    runUntil(io, () => send.done && first.done && last.done, 'the remaining recvs');
    expect(first.error).to.equal(null);
    expect(last.error).to.equal(null);
    const joined = Buffer.concat([a.subarray(0, first.result), c.subarray(0, last.result)]).toString();
    expect(joined).to.equal('abcdef'.slice(0, joined.length));
    expect(joined.length).to.be.greaterThan(0);
  });

  it("agrees with the callback: true means ECANCELED, false means the operation's own result", function () {
    for (const entries of [1, 256]) {
      const io = scope.create({ entries });
      // Cancel, from inside each callback, the next timeout: it may already
      // be harvested in the same batch (false) or still pending (true).
      const count = 20;
      const ids: number[] = [];
      const cancelled: (boolean | null)[] = Array.from({ length: count }, () => null);
      const results: (string | number)[] = [];
      const calls = Array.from({ length: count }, () => 0);
      for (let i = 0; i < count; i++) {
        ids.push(
          io.timeout(0, (error, result) => {
            calls[i]++;
            results[i] = error === null ? result : error.code;
            if (i + 1 < count && i % 2 === 0) cancelled[i + 1] = io.cancel(ids[i + 1]);
          }),
        );
      }
      runUntil(io, () => calls.every((c) => c > 0), 'the 20 timeouts');
      io.runForNs(2_000_000);
      expect(calls).to.deep.equal(Array.from({ length: count }, () => 1));
      for (let i = 0; i < count; i++) {
        if (cancelled[i] === true) expect(results[i], `timeout ${i} (cancel returned true)`).to.equal('ECANCELED');
        if (cancelled[i] === false) expect(results[i], `timeout ${i} (cancel returned false)`).to.equal(0);
      }
    }
  });
});
