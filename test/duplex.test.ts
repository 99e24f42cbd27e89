// Both directions pending on one socket at once: a readiness backend must
// watch the union of both and complete each when its own side is ready.
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { runUntil, submit, type Outcome } from './support/run';
import { connectedPair, exchange } from './support/sockets';
import type { IO } from '../io';

/** Submits 1 MiB sends on `fd` (whose peer does not read) until one stays pending; returns all of them. */
function fillUntilPending(io: IO, fd: number): Outcome[] {
  const chunk = Buffer.alloc(1 << 20, 0x33);
  const sends: Outcome[] = [];
  for (let attempt = 0; attempt < 1000; attempt++) {
    const send = submit((callback) => io.send(fd, chunk, callback));
    sends.push(send);
    for (let step = 0; step < 5 && !send.done; step++) io.runForNs(1_000_000);
    if (!send.done) return sends;
    if (send.error !== null) throw send.error;
  }
  throw new Error('fillUntilPending: the send buffer never filled');
}

forEachBackend('both directions on one socket', (scope) => {
  it('completes a waiting send when the peer reads, while a recv on the same socket keeps waiting, then the recv', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const sends = fillUntilPending(io, client);
    const pendingSend = sends[sends.length - 1];
    const recvBuffer = Buffer.alloc(32);
    const recv = submit((callback) => io.recv(client, recvBuffer, callback));
    io.runForNs(2_000_000);
    expect(recv.calls).to.equal(0);
    expect(pendingSend.calls).to.equal(0);
    // The server drains: the send completes, the recv still waits.
    let drained = 0;
    const sink = Buffer.alloc(1 << 16);
    const drain = (): void => {
      io.recv(server, sink, (error, n) => {
        if (error === null && n > 0) {
          drained += n;
          drain();
        }
      });
    };
    drain();
    runUntil(io, () => pendingSend.done, 'the waiting send', { stepsMax: 10_000 });
    expect(pendingSend.error).to.equal(null);
    expect(recv.calls, 'recv completed without data').to.equal(0);
    const total = sends.reduce((sum, send) => sum + send.result, 0);
    runUntil(io, () => drained === total, 'the drained bytes', { stepsMax: 10_000 });
    // Now the server answers: the recv completes.
    const reply = submit((callback) => io.send(server, Buffer.from('reply'), callback));
    runUntil(io, () => recv.done && reply.done, 'the recv');
    expect(recv.error).to.equal(null);
    expect(recvBuffer.subarray(0, recv.result).toString()).to.equal('reply'.slice(0, recv.result));
  });

  it('exchanges data both ways at once with recvs and sends pending on both sockets', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const a = Buffer.alloc(300_000, 0x61);
    const b = Buffer.alloc(300_000, 0x62);
    const results: Buffer[] = [];
    // Two exchanges interleaved: each side sends and receives at the same time.
    const received = [Buffer.alloc(a.byteLength), Buffer.alloc(b.byteLength)];
    const fromClient = submitTransfer(io, client, server, a, received[0]);
    const fromServer = submitTransfer(io, server, client, b, received[1]);
    runUntil(io, () => fromClient() && fromServer(), 'both transfers', { stepsMax: 10_000 });
    results.push(...received);
    expect(results[0].equals(a)).to.equal(true);
    expect(results[1].equals(b)).to.equal(true);
    const after = Buffer.from('still in step');
    expect(exchange(io, client, server, after)).to.deep.equal(after);
  });
});

/** Sends `data` from `from` while `to` receives into `into`; returns a done-check that throws on error. */
function submitTransfer(io: IO, from: number, to: number, data: Buffer, into: Buffer): () => boolean {
  let sent = 0;
  let received = 0;
  let failure: Error | null = null;
  const sendNext = (): void => {
    io.send(from, data.subarray(sent), (error, n) => {
      if (error !== null) return void (failure = error);
      sent += n;
      if (sent < data.byteLength) sendNext();
    });
  };
  const recvNext = (): void => {
    io.recv(to, into.subarray(received), (error, n) => {
      if (error !== null) return void (failure = error);
      if (n === 0) return void (failure = new Error('unexpected end of stream'));
      received += n;
      if (received < into.byteLength) recvNext();
    });
  };
  sendNext();
  recvNext();
  return () => {
    if (failure !== null) throw failure;
    return sent === data.byteLength && received === into.byteLength;
  };
}
