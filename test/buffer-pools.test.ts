// Pooled receives (io.bufferPool, io.recvPooled): the buffer is taken from
// the pool only when data has arrived, handed to the callback, and the
// caller's until it releases it. An empty pool makes receives wait, losing
// nothing; misuse throws and changes nothing. The same on every backend.
import { expect } from 'chai';
import { BufferPool, IO, type IOError, type PooledReceive } from '../io';
import { forEachBackend } from './support/backends';
import { runUntil, succeed } from './support/run';
import { connectedPair, sendAll } from './support/sockets';

interface PooledOutcome {
  done: boolean;
  error: IOError | null;
  bytes: number;
  buffer: Uint8Array | null;
  calls: number;
}

function recvPooled(io: IO, fd: number, pool: BufferPool): PooledOutcome & { id: number } {
  const outcome: PooledOutcome & { id: number } = { done: false, error: null, bytes: -1, buffer: null, calls: 0, id: 0 };
  outcome.id = io.recvPooled(fd, pool, (error, bytes, buffer) => {
    outcome.calls++;
    outcome.done = true;
    outcome.error = error;
    outcome.bytes = bytes;
    outcome.buffer = buffer;
  });
  return outcome;
}

function text(outcome: PooledOutcome): string {
  expect(outcome.error).to.equal(null);
  expect(outcome.buffer).to.not.equal(null);
  return Buffer.from(outcome.buffer!.buffer, outcome.buffer!.byteOffset, outcome.bytes).toString('latin1');
}

forEachBackend('pooled receives', (scope) => {
  it('receives into a buffer of the pool and lends it until released', function () {
    const io = scope.create();
    const pool = io.bufferPool({ count: 2, size: 64 });
    const { client, server } = connectedPair(io);
    const recv = recvPooled(io, server, pool);
    io.runForNs(2_000_000);
    expect(recv.done, 'a pooled recv with nothing sent').to.equal(false);
    expect(pool.lentCount, 'a waiting receive holds no buffer').to.equal(0);
    succeed(io, 'send', (callback) => io.send(client, Buffer.from('hello'), callback));
    runUntil(io, () => recv.done, 'the pooled recv');
    expect(text(recv)).to.equal('hello');
    expect(recv.calls).to.equal(1);
    expect(pool.buffers).to.include(recv.buffer);
    expect(pool.lentCount).to.equal(1);
    pool.release(recv.buffer!);
    expect(pool.lentCount).to.equal(0);
  });

  it('reads at most the buffer size, and the rest in order', function () {
    const io = scope.create();
    const pool = io.bufferPool({ count: 4, size: 8 });
    const { client, server } = connectedPair(io);
    const data = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789');
    sendAll(io, client, data);
    let received = '';
    while (received.length < data.length) {
      const recv = recvPooled(io, server, pool);
      runUntil(io, () => recv.done, 'a pooled recv');
      expect(recv.bytes).to.be.within(1, 8);
      received += text(recv);
      pool.release(recv.buffer!);
    }
    expect(received).to.equal(data.toString('latin1'));
  });

  it('gives 0 and no buffer when the peer closed', function () {
    const io = scope.create();
    const pool = io.bufferPool({ count: 1, size: 16 });
    const { client, server } = connectedPair(io);
    const recv = recvPooled(io, server, pool);
    succeed(io, 'close', (callback) => io.close(client, callback));
    runUntil(io, () => recv.done, 'the pooled recv');
    expect(recv.error).to.equal(null);
    expect(recv.bytes).to.equal(0);
    expect(recv.buffer).to.equal(null);
    expect(pool.lentCount).to.equal(0);
  });

  it('waits while the pool is empty and receives everything once a buffer comes back', function () {
    const io = scope.create();
    const pool = io.bufferPool({ count: 1, size: 32 });
    const a = connectedPair(io);
    const b = connectedPair(io);
    succeed(io, 'send', (callback) => io.send(a.client, Buffer.from('first'), callback));
    const first = recvPooled(io, a.server, pool);
    runUntil(io, () => first.done, 'the first pooled recv');
    expect(text(first)).to.equal('first');
    // The pool's only buffer is lent: this receive has data and must wait.
    succeed(io, 'send', (callback) => io.send(b.client, Buffer.from('second'), callback));
    const second = recvPooled(io, b.server, pool);
    io.runForNs(5_000_000);
    expect(second.done, 'a pooled recv while its pool is empty').to.equal(false);
    pool.release(first.buffer!);
    runUntil(io, () => second.done, 'the waiting pooled recv');
    expect(text(second)).to.equal('second');
    expect(second.calls).to.equal(1);
    pool.release(second.buffer!);
  });

  it('a receive waiting for a buffer stays waiting while more data arrives, and then gets it all', function () {
    const io = scope.create();
    const pool = io.bufferPool({ count: 1, size: 32 });
    const a = connectedPair(io);
    const b = connectedPair(io);
    // Issued while the pool has its buffer and the socket no data: it waits
    // for readability first, then (the buffer lent meanwhile) for a buffer.
    const second = recvPooled(io, b.server, pool);
    io.runForNs(1_000_000);
    succeed(io, 'send', (callback) => io.send(a.client, Buffer.from('first'), callback));
    const first = recvPooled(io, a.server, pool);
    runUntil(io, () => first.done, 'the first pooled recv');
    succeed(io, 'send', (callback) => io.send(b.client, Buffer.from('sec'), callback));
    io.runForNs(5_000_000);
    // More data while it waits for a buffer: the socket is readable again
    // (an edge-triggered poller reports it anew).
    succeed(io, 'send', (callback) => io.send(b.client, Buffer.from('ond'), callback));
    io.runForNs(5_000_000);
    expect(second.done, 'a pooled recv while its pool is empty').to.equal(false);
    pool.release(first.buffer!);
    runUntil(io, () => second.done, 'the waiting pooled recv');
    let got = text(second);
    pool.release(second.buffer!);
    if (got.length < 'second'.length) {
      const rest = recvPooled(io, b.server, pool);
      runUntil(io, () => rest.done, 'the rest');
      got += text(rest);
      pool.release(rest.buffer!);
    }
    expect(got).to.equal('second');
  });

  it('completes a receive waiting for a buffer with ECANCELED on cancel and on close', function () {
    const io = scope.create();
    const pool = io.bufferPool({ count: 1, size: 32 });
    const a = connectedPair(io);
    const b = connectedPair(io);
    const c = connectedPair(io);
    succeed(io, 'send', (callback) => io.send(a.client, Buffer.from('x'), callback));
    const holder = recvPooled(io, a.server, pool);
    runUntil(io, () => holder.done, 'the pooled recv that takes the buffer');
    succeed(io, 'send', (callback) => io.send(b.client, Buffer.from('y'), callback));
    succeed(io, 'send', (callback) => io.send(c.client, Buffer.from('z'), callback));
    const cancelled = recvPooled(io, b.server, pool);
    const closed = recvPooled(io, c.server, pool);
    io.runForNs(5_000_000);
    expect(cancelled.done || closed.done).to.equal(false);
    expect(io.cancel(cancelled.id)).to.equal(true);
    let closeDone = false;
    io.close(c.server, () => (closeDone = true));
    runUntil(io, () => cancelled.done && closed.done && closeDone, 'the cancelled and closed receives');
    expect(cancelled.error?.code).to.equal('ECANCELED');
    expect(closed.error?.code).to.equal('ECANCELED');
    expect(cancelled.buffer).to.equal(null);
    // Nothing was lost: the cancelled receive's data is still in its socket.
    pool.release(holder.buffer!);
    const again = recvPooled(io, b.server, pool);
    runUntil(io, () => again.done, 'a pooled recv after the cancel');
    expect(text(again)).to.equal('y');
    pool.release(again.buffer!);
  });

  it('completes pending pooled receives with ECANCELED at deinit', function () {
    const io = scope.create();
    const pool = io.bufferPool({ count: 1, size: 32 });
    const { server } = connectedPair(io);
    const recv = recvPooled(io, server, pool);
    io.tick();
    io.deinit();
    expect(recv.calls).to.equal(1);
    expect(recv.error?.code).to.equal('ECANCELED');
  });

  it('resolves the promise form with the bytes and the buffer', async function () {
    const io = scope.create();
    const pool = io.bufferPool({ count: 1, size: 32 });
    const { client, server } = connectedPair(io);
    succeed(io, 'send', (callback) => io.send(client, Buffer.from('promised'), callback));
    let settled: PooledReceive | null = null;
    void io.promises.recvPooled(server, pool).then((value) => (settled = value));
    // Promise reactions are microtasks: yield between steps so that they run.
    for (let step = 0; step < 5_000 && settled === null; step++) {
      io.runForNs(1_000_000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const value = settled as unknown as { bytes: number; buffer: Uint8Array };
    expect(value, 'the pooled recv promise settled').to.not.equal(null);
    expect(Buffer.from(value.buffer.subarray(0, value.bytes)).toString()).to.equal('promised');
    pool.release(value.buffer);
  });

  it('refuses misuse with a clear error and changes nothing', function () {
    const io = scope.create();
    const other = scope.create();
    const pool = io.bufferPool({ count: 2, size: 16 });
    const otherPool = other.bufferPool({ count: 2, size: 16 });
    const { client, server } = connectedPair(io);
    succeed(io, 'send', (callback) => io.send(client, Buffer.from('data'), callback));
    const recv = recvPooled(io, server, pool);
    runUntil(io, () => recv.done, 'the pooled recv');
    const lent = recv.buffer!;
    // A buffer of another pool, and one never lent.
    expect(() => otherPool.release(lent)).to.throw(RangeError, /not one of this pool/);
    expect(() => pool.release(new Uint8Array(16))).to.throw(RangeError, /not one of this pool/);
    const free = pool.buffers.find((buffer) => buffer !== lent)!;
    expect(() => pool.release(free)).to.throw(RangeError, /not lent/);
    // A pool of another IO.
    expect(() => io.recvPooled(server, otherPool, () => {})).to.throw(TypeError, /another IO/);
    expect(() => io.recvPooled(server, {} as BufferPool, () => {})).to.throw(TypeError, /BufferPool/);
    expect(() => io.bufferPool({ count: 0, size: 16 })).to.throw(RangeError);
    expect(() => io.bufferPool({ count: 1, size: 0 })).to.throw(RangeError);
    // Given back once, then twice.
    expect(pool.lentCount).to.equal(1);
    pool.release(lent);
    expect(() => pool.release(lent)).to.throw(RangeError, /not lent/);
    expect(pool.lentCount).to.equal(0);
    // The pool still works.
    succeed(io, 'send', (callback) => io.send(client, Buffer.from('more'), callback));
    const next = recvPooled(io, server, pool);
    runUntil(io, () => next.done, 'a pooled recv after the misuse');
    expect(text(next)).to.equal('more');
    // After deinit.
    other.deinit();
    expect(() => otherPool.release(0)).to.throw(TypeError, /deinitialized/);
    expect(() => other.recvPooled(server, otherPool, () => {})).to.throw(TypeError, /deinitialized/);
  });

  it('shares one small pool among many connections without losing a byte', function () {
    const io = scope.create();
    const pool = io.bufferPool({ count: 2, size: 16 });
    const pairs = Array.from({ length: 6 }, () => connectedPair(io));
    const expected = pairs.map((_, i) => `message ${i} `.repeat(3));
    const received = pairs.map(() => '');
    let pending = 0;
    const receive = (i: number): void => {
      pending++;
      io.recvPooled(pairs[i].server, pool, (error, bytes, buffer) => {
        pending--;
        expect(error).to.equal(null);
        if (bytes === 0) return;
        received[i] += Buffer.from(buffer!.buffer, buffer!.byteOffset, bytes).toString('latin1');
        // Held across a tick, so the pool runs empty while others have data.
        io.timeout(0, () => {
          pool.release(buffer!);
          if (received[i].length < expected[i].length) receive(i);
        });
      });
    };
    pairs.forEach((pair, i) => {
      sendAll(io, pair.client, Buffer.from(expected[i]));
      receive(i);
    });
    // Done once every byte came and every buffer went back (the last releases run in timeouts).
    runUntil(
      io,
      () => received.every((value, i) => value.length === expected[i].length) && pending === 0 && pool.lentCount === 0,
      'every message',
    );
    expect(received).to.deep.equal(expected);
    expect(pool.lentCount).to.equal(0);
  });
});
