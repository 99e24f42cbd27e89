// TCP over loopback: accept/connect/send/recv, large transfers through
// partial operations, waiting for data, and the end of a connection.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { complete, runUntil, submit } from './support/run';
import { connectedPair, exchange, hasIPv6Loopback, recvExactly, sendAll, type Host } from './support/sockets';

forEachBackend('sockets', (scope) => {
  for (const host of ['127.0.0.1', '::1'] as Host[]) {
    it(`accepts, connects, sends and receives over ${host}`, function () {
      if (host === '::1' && !hasIPv6Loopback()) this.skip(); // this machine has no IPv6 loopback
      const io = scope.create();
      const { client, server } = connectedPair(io, host);
      const ping = Buffer.from('ping from the client');
      const pong = Buffer.from('pong from the server, a little longer');
      expect(exchange(io, client, server, ping)).to.deep.equal(ping);
      expect(exchange(io, server, client, pong)).to.deep.equal(pong);
    });
  }

  it('moves 1 MiB of random bytes through partial sends and recvs intact', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const data = randomBytes(1 << 20);
    const received = Buffer.alloc(data.byteLength);
    const sending = sendAll(io, client, data);
    // Small recv buffers: many partial recvs.
    const receiving = recvExactly(io, server, received, 4096 + 17);
    runUntil(io, () => sending.done && receiving.done, 'the 1 MiB transfer', { stepsMax: 10_000 });
    expect(sending.error).to.equal(null);
    expect(receiving.error).to.equal(null);
    expect(sending.bytes).to.equal(data.byteLength);
    expect(receiving.bytes).to.equal(data.byteLength);
    expect(receiving.operations).to.be.greaterThan(1);
    expect(received.equals(data), 'received bytes equal sent bytes').to.equal(true);
  });

  it('moves 1 MiB through sends clamped by bufferSizeMax, each at most bufferSizeMax bytes', function () {
    const bufferSizeMax = 1000;
    const io = scope.create({ bufferSizeMax });
    const { client, server } = connectedPair(io);
    const data = randomBytes(1 << 20);
    const received = Buffer.alloc(data.byteLength);
    const sending = sendAll(io, client, data);
    const receiving = recvExactly(io, server, received, 64 * 1024);
    runUntil(io, () => sending.done && receiving.done, 'the clamped 1 MiB transfer', { stepsMax: 20_000 });
    expect(sending.error).to.equal(null);
    expect(receiving.error).to.equal(null);
    expect(sending.largest).to.be.at.most(bufferSizeMax);
    expect(receiving.largest).to.be.at.most(bufferSizeMax);
    expect(sending.operations).to.be.at.least(Math.ceil(data.byteLength / bufferSizeMax));
    expect(received.equals(data), 'received bytes equal sent bytes').to.equal(true);
  });

  it('completes a recv submitted before the data, once a later send provides it (tick to wait)', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const buffer = Buffer.alloc(64);
    const recv = submit((callback) => io.recv(server, buffer, callback));
    for (let i = 0; i < 10; i++) io.tick();
    io.runForNs(5_000_000);
    expect(recv.calls, 'recv completed with no data sent').to.equal(0);
    const message = Buffer.from('wake the waiting recv');
    const send = submit((callback) => io.send(client, message, callback));
    runUntil(io, () => recv.done && send.done, 'the waiting recv');
    expect(send.error).to.equal(null);
    expect(send.result).to.equal(message.byteLength);
    expect(recv.error).to.equal(null);
    expect(recv.calls).to.equal(1);
    expect(buffer.subarray(0, recv.result).toString()).to.equal(message.subarray(0, recv.result).toString());
    expect(recv.result).to.be.greaterThan(0);
  });

  it('reports recv of 0 bytes when the peer closes', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const recv = submit((callback) => io.recv(server, Buffer.alloc(16), callback));
    const close = submit((callback) => io.close(client, callback));
    runUntil(io, () => recv.done && close.done, 'recv after the peer closed');
    expect(close.error).to.equal(null);
    expect(recv.error).to.equal(null);
    expect(recv.result).to.equal(0);
  });

  it('reports recv of 0 bytes for a recv submitted after the peer closed', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    expect(complete(io, 'close', (callback) => io.close(client, callback)).error).to.equal(null);
    const recv = complete(io, 'recv', (callback) => io.recv(server, Buffer.alloc(16), callback));
    expect(recv.error).to.equal(null);
    expect(recv.result).to.equal(0);
  });

  it('delivers data sent before the peer closed, then 0', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const message = Buffer.from('last words');
    expect(complete(io, 'send', (callback) => io.send(client, message, callback)).result).to.equal(message.byteLength);
    expect(complete(io, 'close', (callback) => io.close(client, callback)).error).to.equal(null);
    const received = Buffer.alloc(message.byteLength);
    const receiving = recvExactly(io, server, received);
    runUntil(io, () => receiving.done, 'recv of the last words');
    expect(received).to.deep.equal(message);
    const end = complete(io, 'recv at end of stream', (callback) => io.recv(server, Buffer.alloc(8), callback));
    expect(end.error).to.equal(null);
    expect(end.result).to.equal(0);
  });
});
