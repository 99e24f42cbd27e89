// A recv that comes back short (fewer bytes than its buffer) on a stream
// socket shows the receive queue was empty: the readiness backends then let
// the next recv wait for the poller's next readable event instead of trying
// first (which could only fail with EAGAIN). These cases check that nothing
// is missed that way: more data, end of stream (also when it came with the
// data read short), data that arrives while no recv is pending, and data
// sent just before the next recv is submitted.
import { expect } from 'chai';
import type { IO } from '../io';
import { forEachBackend } from './support/backends';
import { runUntil, submit, succeed, type Outcome } from './support/run';
import { connectedPair, type ConnectedPair } from './support/sockets';

/** Submits a recv on `fd` with nothing sent to it, and checks that it waits (the IO run for `ns` first). */
function waitingRecv(io: IO, fd: number, buffer: Buffer, ns: number): Outcome {
  const recv = submit((callback) => io.recv(fd, buffer, callback));
  io.runForNs(ns);
  expect(recv.done, 'a recv with nothing sent').to.equal(false);
  return recv;
}

/** A pair whose server side has had one short recv, after one that waited (so the fd is registered with the poller). */
function afterShortRead(io: IO): ConnectedPair & { buffer: Buffer } {
  const pair = connectedPair(io);
  const buffer = Buffer.alloc(4096);
  const first = waitingRecv(io, pair.server, buffer, 2_000_000);
  succeed(io, 'send', (callback) => io.send(pair.client, Buffer.from('0123456789'), callback));
  runUntil(io, () => first.done, 'the first recv');
  expect(first.error).to.equal(null);
  expect(first.result).to.equal(10);
  return { ...pair, buffer };
}

forEachBackend('recv after a short read', (scope) => {
  it('waits for more data and then receives it', function () {
    const io = scope.create();
    const { client, server, buffer } = afterShortRead(io);
    const next = waitingRecv(io, server, buffer, 5_000_000);
    succeed(io, 'send', (callback) => io.send(client, Buffer.from('hello'), callback));
    runUntil(io, () => next.done, 'the recv');
    expect(next.error).to.equal(null);
    expect(buffer.toString('latin1', 0, next.result)).to.equal('hello');
  });

  it('sees the end of stream when the peer closes', function () {
    const io = scope.create();
    const { client, server, buffer } = afterShortRead(io);
    const next = submit((callback) => io.recv(server, buffer, callback));
    io.tick();
    succeed(io, 'close', (callback) => io.close(client, callback));
    runUntil(io, () => next.done, 'the recv');
    expect(next.error).to.equal(null);
    expect(next.result).to.equal(0);
    // End of stream stays: another recv gets 0 at once.
    const again = submit((callback) => io.recv(server, buffer, callback));
    runUntil(io, () => again.done, 'the second recv');
    expect(again.result).to.equal(0);
  });

  it('sees the end of stream that came with the data it read short', function () {
    const io = scope.create();
    const { client, server, buffer } = afterShortRead(io);
    const withData = waitingRecv(io, server, buffer, 2_000_000);
    // The send starts at the synchronous shutdown's flush: the data and the
    // end of stream reach the server together, before its next poll (one
    // readable event for both, on a readiness backend).
    const sent = submit((callback) => io.send(client, Buffer.from('last'), callback));
    io.shutdown(client, 'send');
    runUntil(io, () => sent.done && withData.done, 'the send and the recv');
    expect(buffer.toString('latin1', 0, withData.result)).to.equal('last');
    // That read was short, but the queue still holds the end of stream: the
    // next recv must see it, not wait for an event that will not come.
    const end = submit((callback) => io.recv(server, buffer, callback));
    runUntil(io, () => end.done, 'the recv after the data', { stepsMax: 200 });
    expect(end.error).to.equal(null);
    expect(end.result).to.equal(0);
  });

  it('receives data that arrived while no recv was pending', function () {
    const io = scope.create();
    const { client, server, buffer } = afterShortRead(io);
    succeed(io, 'send', (callback) => io.send(client, Buffer.from('quiet'), callback));
    // A pending timeout makes the IO wait on its poller: the readable event
    // comes and goes while no recv is waiting.
    succeed(io, 'a 5 ms timeout', (callback) => io.timeout(5_000_000, callback));
    const next = submit((callback) => io.recv(server, buffer, callback));
    runUntil(io, () => next.done, 'the recv', { stepsMax: 200 });
    expect(buffer.toString('latin1', 0, next.result)).to.equal('quiet');
  });

  it('receives data sent just before the recv, with no tick between', function () {
    const io = scope.create();
    const { client, server, buffer } = afterShortRead(io);
    const sent = submit((callback) => io.send(client, Buffer.from('quick'), callback));
    const next = submit((callback) => io.recv(server, buffer, callback));
    runUntil(io, () => sent.done && next.done, 'the send and the recv', { stepsMax: 200 });
    expect(buffer.toString('latin1', 0, next.result)).to.equal('quick');
  });

  it('delivers a stream of 2,000 small messages, each read short, in order', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const total = 2_000;
    const received: number[] = [];
    const buffer = Buffer.alloc(4096);
    let pending = 0;
    const onRecv = (error: unknown, n: number): void => {
      if (error || n === 0) return;
      for (let i = 0; i < n; i++) received.push(buffer[i]);
      if (received.length < total) io.recv(server, buffer, onRecv);
    };
    io.recv(server, buffer, onRecv);
    let next = 0;
    const sendOne = (): void => {
      pending++;
      io.send(client, Buffer.from([next++ & 0xff]), () => {
        pending--;
        if (next < total) sendOne();
      });
    };
    sendOne();
    runUntil(io, () => received.length >= total && pending === 0, 'the 2,000 messages');
    expect(received.length).to.equal(total);
    expect(received.every((byte, i) => byte === (i & 0xff))).to.equal(true);
  });
});
