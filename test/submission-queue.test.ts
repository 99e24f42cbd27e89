// The submission queue (io/io.ts, native/core/layout.h): operations are
// written into memory the native layer reads at the next flush. The
// contract does not move: cancel of a queued operation, exactly once, a
// full queue, ERR_IO_FULL at the call, and on an attached IO a submission
// made outside the IO's callbacks (a promise continuation, a node:fs
// callback, a timer) starts without waiting for another event.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { IO } from '../io';
import { expectIOError, expectThrows } from './support/assertions';
import { forEachBackend } from './support/backends';
import { runUntil, runUntilIdle, submit } from './support/run';
import { connectedPair } from './support/sockets';

const QUEUE_RECORDS = 1024; // native/core/layout.h kSubmitQueueRecords

/** Resolves when `done()` holds, checking on Node's own timers; rejects after `ms`. */
function eventually(done: () => boolean, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = (): void => {
      if (done()) resolve();
      else if (Date.now() - started > ms) reject(new Error(`hang guard: ${what} within ${ms} ms`));
      else setTimeout(check, 1);
    };
    check();
  });
}

forEachBackend('submission queue', (scope) => {
  it('cancel of an operation still in the queue completes it once with ECANCELED, at the next tick', function () {
    const io = scope.create();
    const { client } = connectedPair(io);
    const recv = submit((callback) => io.recv(client, Buffer.alloc(8), callback));
    const timeout = submit((callback) => io.timeout(1_000_000_000, callback));
    expect(io.cancel(recv.id)).to.equal(true);
    expect(io.cancel(timeout.id)).to.equal(true);
    expect(recv.done || timeout.done, 'never inside the call').to.equal(false);
    expect(io.cancel(recv.id), 'a second cancel').to.equal(false);
    runUntil(io, () => recv.done && timeout.done, 'the cancelled ops');
    expectIOError(recv.error, 'ECANCELED', 'recv');
    expectIOError(timeout.error, 'ECANCELED', 'timeout');
    expect(recv.calls + timeout.calls).to.equal(2);
    expect(io.cancel(recv.id), 'cancel after the callback').to.equal(false);
  });

  it('cancel of a timeout(0) still in the queue completes it with ECANCELED; one flushed already is due and completes', function () {
    const io = scope.create();
    const queued = submit((callback) => io.timeout(0, callback));
    expect(io.cancel(queued.id)).to.equal(true);
    const flushed = submit((callback) => io.timeout(0, callback));
    io.tick(); // flushes it: a zero delay is due at once, so it completes in this tick or the next
    runUntil(io, () => queued.done && flushed.done, 'both timeouts');
    expectIOError(queued.error, 'ECANCELED', 'timeout');
    expect(flushed.error).to.equal(null);
    expect(queued.calls + flushed.calls).to.equal(2);
  });

  it('a close still in the queue cannot be cancelled: it closes the fd, after its pending recv', function () {
    const io = scope.create();
    const { client } = connectedPair(io);
    const recv = submit((callback) => io.recv(client, Buffer.alloc(8), callback));
    const close = submit((callback) => io.close(client, callback));
    expect(io.cancel(close.id)).to.equal(false);
    runUntil(io, () => recv.done && close.done, 'the recv and the close');
    expectIOError(recv.error, 'ECANCELED', 'recv');
    expect(close.error).to.equal(null);
  });

  it('a stale id never cancels the operation that reuses its slot', function () {
    const io = scope.create();
    const first = submit((callback) => io.timeout(0, callback));
    runUntil(io, () => first.done, 'the first timeout');
    const later: ReturnType<typeof submit>[] = [];
    for (let i = 0; i < 2_000; i++) later.push(submit((callback) => io.timeout(1_000_000_000, callback)));
    expect(io.cancel(first.id)).to.equal(false);
    for (const op of later) expect(op.done).to.equal(false);
    io.tick();
    for (const op of later) expect(op.done).to.equal(false);
  });

  it(`fills the queue (${QUEUE_RECORDS} records) and more: every operation completes once, in order`, function () {
    const io = scope.create({ operationsMax: 4 * QUEUE_RECORDS });
    const count = 3 * QUEUE_RECORDS + 7;
    const order: number[] = [];
    for (let i = 0; i < count; i++) io.timeout(0, () => order.push(i));
    expect(io.pending).to.equal(count);
    runUntilIdle(io, 'the timeouts');
    expect(order).to.deep.equal(Array.from({ length: count }, (_, i) => i));
  });

  it('ERR_IO_FULL counts queued operations: nothing is submitted, and the IO goes on', function () {
    const io = scope.create({ operationsMax: 3 });
    const done: number[] = [];
    for (let i = 0; i < 3; i++) io.timeout(0, () => done.push(i));
    const error = expectThrows(() => io.timeout(0, () => done.push(99)), RangeError, 'ERR_IO_FULL');
    expect(error.message).to.match(/operationsMax is 3/);
    expect(io.pending).to.equal(3);
    runUntilIdle(io, 'the three timeouts');
    expect(done).to.deep.equal([0, 1, 2]);
  });

  it('a send submitted before shutdown() reaches the kernel before it', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const send = submit((callback) => io.send(client, Buffer.from('before shutdown'), callback));
    io.shutdown(client, 'send');
    const received = Buffer.alloc(64);
    let at = 0;
    let ended = false;
    const read = (): void => {
      io.recv(server, received.subarray(at), (error, n) => {
        expect(error).to.equal(null);
        if (n === 0) ended = true;
        else {
          at += n;
          read();
        }
      });
    };
    read();
    runUntil(io, () => send.done && ended, 'the send and the end of stream');
    expect(send.error).to.equal(null);
    expect(received.subarray(0, at).toString()).to.equal('before shutdown');
  });

  describe('on an attached IO, submissions from outside its callbacks start at once', function () {
    it('from a promise continuation', async function () {
      const io = scope.create();
      io.attach();
      let fired = 0;
      for (let i = 0; i < 3; i++) {
        await Promise.resolve();
        await new Promise<void>((resolve) => io.timeout(0, () => resolve()));
        fired++;
      }
      expect(fired).to.equal(3);
    });

    it('from a node:fs callback', async function () {
      const io = scope.create();
      io.attach();
      const file = path.join(os.tmpdir(), `tigerio-queue-${process.pid}.txt`);
      fs.writeFileSync(file, 'x');
      try {
        const result = await new Promise<number>((resolve, reject) => {
          fs.readFile(file, () => {
            io.timeout(0, (error, value) => (error ? reject(error) : resolve(value)));
          });
        });
        expect(result).to.equal(0);
      } finally {
        fs.rmSync(file, { force: true });
      }
    });

    it('from a Node timer, a socket round trip', async function () {
      const io = scope.create();
      const { client, server } = connectedPair(io);
      io.attach();
      const received = Buffer.alloc(4);
      let got = -1;
      setTimeout(() => {
        io.recv(server, received, (error, n) => {
          expect(error).to.equal(null);
          got = n;
        });
        io.send(client, Buffer.from('ping'), (error) => expect(error).to.equal(null));
      }, 1);
      await eventually(() => got === 4, 10_000, 'the round trip');
      expect(received.toString()).to.equal('ping');
    });
  });
});

describe('submission queue ids', function () {
  it('are small integers', function () {
    const io = new IO();
    try {
      for (let i = 0; i < 10; i++) {
        const id = io.timeout(0, () => {});
        expect(Number.isInteger(id) && id >= 0 && id < 2 ** 30).to.equal(true);
      }
      io.run();
    } finally {
      io.deinit();
    }
  });
});
