// Contract rule 4: operations of the same direction on one socket are
// performed in submission order.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { runUntil, submit, type Outcome } from './support/run';
import { connectedPair, recvExactly } from './support/sockets';

forEachBackend('per-socket order', (scope) => {
  it('puts several sends queued back to back on one socket on the wire in submission order', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    // 8 x 256 KiB: more than the socket buffers hold, so later sends wait
    // behind earlier ones (and any of them may be partial).
    const chunks = Array.from({ length: 8 }, () => randomBytes(256 * 1024));
    const sends: Outcome[] = chunks.map((chunk) => submit((callback) => io.send(client, chunk, callback)));
    const received = Buffer.alloc(chunks.length * chunks[0].byteLength);
    // Read everything that was sent: run until all sends are done, then
    // until the receiver has the sum of their results.
    const receiving = recvExactly(io, server, received, 64 * 1024);
    runUntil(io, () => sends.every((send) => send.done), 'the queued sends', { stepsMax: 10_000 });
    for (const send of sends) expect(send.error).to.equal(null);
    const total = sends.reduce((sum, send) => sum + send.result, 0);
    runUntil(io, () => receiving.done || receiving.bytes >= total, 'the received stream', { stepsMax: 10_000 });
    expect(receiving.error).to.equal(null);
    expect(receiving.bytes).to.equal(total);
    // Each send put a prefix of its own chunk on the wire, in submission order.
    const expected = Buffer.concat(chunks.map((chunk, i) => chunk.subarray(0, sends[i].result)));
    expect(received.subarray(0, total).equals(expected), 'stream is the sends in submission order').to.equal(true);
  });

  it('fills several recvs queued on one socket in submission order', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const buffers = Array.from({ length: 5 }, () => Buffer.alloc(4));
    const recvs = buffers.map((buffer) => submit((callback) => io.recv(server, buffer, callback)));
    io.tick();
    const data = Buffer.from('AAAABBBBCCCCDDDDEEEE');
    const send = submit((callback) => io.send(client, data, callback));
    runUntil(io, () => send.done && recvs.every((recv) => recv.done), 'the queued recvs');
    expect(send.error).to.equal(null);
    expect(send.result).to.equal(data.byteLength);
    for (const recv of recvs) expect(recv.error).to.equal(null);
    // Each recv took the next bytes of the stream: concatenated in
    // submission order they are a prefix of what was sent.
    const joined = Buffer.concat(buffers.map((buffer, i) => buffer.subarray(0, recvs[i].result)));
    expect(joined.toString()).to.equal(data.subarray(0, joined.byteLength).toString());
    expect(joined.byteLength).to.be.greaterThan(0);
  });
});
