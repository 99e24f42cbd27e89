// Contract rule 3: the IO keeps an operation's buffer reachable until its
// callback, even when the caller dropped every reference to it.
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { runUntil, submit } from './support/run';
import { connectedPair } from './support/sockets';

/** A full garbage collection, without starting Node with --expose-gc. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
}

forEachBackend('buffer ownership', (scope) => {
  it('keeps the buffer of a pending recv alive until its callback, and fills it', async function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    let weak: WeakRef<Uint8Array>;
    // After this the IO holds the only strong reference to the view (the callback does not capture it).
    const recv = submit((callback) => {
      const view = new Uint8Array(new ArrayBuffer(1 << 16), 100, 100);
      weak = new WeakRef(view);
      return io.recv(server, view, callback);
    });
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    const view = weak!.deref();
    expect(view, 'the pending recv buffer was collected').to.not.equal(undefined);
    const message = Buffer.from('into a buffer nobody else holds');
    const send = submit((callback) => io.send(client, message, callback));
    runUntil(io, () => recv.done && send.done, 'the recv');
    expect(recv.error).to.equal(null);
    expect(Buffer.from(view!.subarray(0, recv.result)).toString()).to.equal(message.subarray(0, recv.result).toString());
  });

  it('keeps the buffer of a pending send alive until its callback, and sends its bytes', async function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    // Fill the send buffer so the next send waits.
    const filler = Buffer.alloc(1 << 20, 1);
    let pending = submit((callback) => io.send(client, filler, callback));
    for (let i = 0; i < 1000 && pending.done; i++) {
      io.runForNs(1_000_000);
      if (pending.done) pending = submit((callback) => io.send(client, filler, callback));
    }
    expect(pending.done, 'a send that waits').to.equal(false);
    let weak: WeakRef<Uint8Array>;
    const tail = submit((callback) => {
      const buffer = Buffer.alloc(4096, 0x7a);
      weak = new WeakRef(buffer);
      return io.send(client, buffer, callback);
    });
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(weak!.deref(), 'the pending send buffer was collected').to.not.equal(undefined);
    // Drain the receiver: the waiting sends complete, the tail's bytes arrive.
    const sink = Buffer.alloc(1 << 16);
    let last = 0;
    const drain = (): void => {
      io.recv(server, sink, (error, n) => {
        if (error === null && n > 0) {
          last = sink[n - 1];
          drain();
        }
      });
    };
    drain();
    runUntil(io, () => tail.done, 'the tail send', { stepsMax: 10_000 });
    expect(tail.error).to.equal(null);
    expect(tail.result).to.be.greaterThan(0);
    runUntil(io, () => last === 0x7a, 'the tail bytes at the receiver');
  });
});
