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

// The IO remembers, per fd and direction, the last view it was given and its
// ArrayBuffer's id (io/buffers.ts): views that alternate on one fd must still
// each reach their own bytes, and a closed fd must not keep its last buffers.
forEachBackend('buffer lookups per fd', (scope) => {
  /** Sends `bytes` from `view` on one side and receives them into `into` on the other, exactly. */
  function transfer(io: ReturnType<typeof scope.create>, from: number, to: number, view: Uint8Array, into: Uint8Array): void {
    const send = submit((callback) => io.send(from, view, callback));
    let received = 0;
    let failed: Error | null = null;
    // The first recv names `into` itself, so the fd's cache entry is `into`; the rest, what is left of it.
    const recvMore = (): void => {
      io.recv(to, received === 0 ? into : into.subarray(received), (error, n) => {
        if (error !== null || n === 0) {
          failed = error ?? new Error('peer closed');
          return;
        }
        received += n;
        if (received < view.length) recvMore();
      });
    };
    recvMore();
    runUntil(io, () => (send.done && received >= view.length) || failed !== null, 'a transfer');
    expect(failed).to.equal(null);
    expect(send.error).to.equal(null);
    expect(send.result).to.equal(view.length);
  }

  it('views rotating over different ArrayBuffers on one fd each send and receive their own bytes', () => {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const outA = new Uint8Array(new ArrayBuffer(4096), 512, 1000).fill(0x41);
    const outB = new Uint8Array(new ArrayBuffer(8192), 64, 1000).fill(0x42);
    const inA = new Uint8Array(new ArrayBuffer(4096), 100, 1000);
    const outC = new Uint8Array(new ArrayBuffer(1000)).fill(0x43);
    const inB = new Uint8Array(new ArrayBuffer(4096), 2000, 1000);
    const inC = new Uint8Array(new ArrayBuffer(1000));
    // Two views alternating, then three in turn (more than the cache holds per fd), then back.
    const order: Array<[Uint8Array, Uint8Array, number]> = [
      [outA, inA, 0x41],
      [outB, inB, 0x42],
      [outA, inB, 0x41],
      [outB, inA, 0x42],
      [outC, inC, 0x43],
      [outA, inA, 0x41],
      [outB, inB, 0x42],
      [outC, inC, 0x43],
      [outA, inB, 0x41],
      [outC, inA, 0x43],
      [outB, inC, 0x42],
    ];
    for (const [out, into, byte] of order) {
      into.fill(0);
      transfer(io, client, server, out, into);
      expect(into.every((b) => b === byte), `the receiver's view holds 0x${byte.toString(16)} throughout`).to.equal(true);
    }
    // Bytes beside the views were never written.
    expect(new Uint8Array(inA.buffer, 0, 100).every((b) => b === 0)).to.equal(true);
    expect(new Uint8Array(inB.buffer, 0, 2000).every((b) => b === 0)).to.equal(true);
  });

  it('lets the last buffers of a closed fd be collected', async function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    let weakIn: WeakRef<Uint8Array>;
    let weakOut: WeakRef<Uint8Array>;
    (() => {
      const out = new Uint8Array(new ArrayBuffer(256)).fill(7);
      const into = new Uint8Array(new ArrayBuffer(256));
      weakIn = new WeakRef(into);
      weakOut = new WeakRef(out);
      transfer(io, client, server, out, into);
    })();
    const closedClient = submit((callback) => io.close(client, callback));
    const closedServer = submit((callback) => io.close(server, callback));
    runUntil(io, () => closedClient.done && closedServer.done, 'the closes');
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(weakOut!.deref(), 'the closed fd kept its last send buffer').to.equal(undefined);
    expect(weakIn!.deref(), 'the closed fd kept its last recv buffer').to.equal(undefined);
  });
});
