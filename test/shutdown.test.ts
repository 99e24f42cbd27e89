// io.shutdown(): a half-close. The peer reads end of stream after what was
// sent, and the shut-down side can still receive.
import { expect } from 'chai';
import { IOError } from '../io';
import { forEachBackend } from './support/backends';
import { runUntil } from './support/run';
import { connectedPair } from './support/sockets';

forEachBackend('shutdown', (scope) => {
  function recvOnce(io: ReturnType<typeof scope.create>, fd: number, buffer: Uint8Array): { error: IOError | null; size: number } {
    let outcome: { error: IOError | null; size: number } | null = null;
    io.recv(fd, buffer, (error, size) => (outcome = { error, size }));
    runUntil(io, () => outcome !== null, 'a recv');
    return outcome!;
  }

  it("'send' delivers what was sent, then end of stream, and the socket still receives", () => {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    let sent = -1;
    io.send(client, Buffer.from('last words'), (error, size) => {
      expect(error).to.equal(null);
      sent = size;
    });
    runUntil(io, () => sent >= 0, 'the send');
    io.shutdown(client, 'send');
    const buffer = Buffer.alloc(64);
    const first = recvOnce(io, server, buffer);
    expect(first.error).to.equal(null);
    expect(buffer.toString('utf8', 0, first.size)).to.equal('last words');
    const end = recvOnce(io, server, buffer);
    expect(end).to.deep.equal({ error: null, size: 0 });
    // The other direction still works.
    let answered = -1;
    io.send(server, Buffer.from('reply'), (error, size) => {
      expect(error).to.equal(null);
      answered = size;
    });
    runUntil(io, () => answered >= 0, 'the reply');
    const reply = recvOnce(io, client, buffer);
    expect(buffer.toString('utf8', 0, reply.size)).to.equal('reply');
  });

  it("defaults to 'send'", () => {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    io.shutdown(client);
    expect(recvOnce(io, server, Buffer.alloc(8))).to.deep.equal({ error: null, size: 0 });
  });

  it("'both' ends the stream for the peer too", () => {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    io.shutdown(client, 'both');
    expect(recvOnce(io, server, Buffer.alloc(8))).to.deep.equal({ error: null, size: 0 });
  });

  it("'receive' makes this side's own recv read end of stream, and it still sends", () => {
    // Windows answers such a recv with WSAESHUTDOWN; POSIX reads end of
    // stream, and so does every backend.
    const io = scope.create();
    const { client, server } = connectedPair(io);
    io.shutdown(server, 'receive');
    expect(recvOnce(io, server, Buffer.alloc(8))).to.deep.equal({ error: null, size: 0 });
    let sent = -1;
    io.send(server, Buffer.from('still'), (error, size) => {
      expect(error).to.equal(null);
      sent = size;
    });
    runUntil(io, () => sent >= 0, 'the send after shutdown(receive)');
    const buffer = Buffer.alloc(8);
    const received = recvOnce(io, client, buffer);
    expect(buffer.toString('utf8', 0, received.size)).to.equal('still');
  });

  it('throws an IOError on a socket that is not connected, a TypeError on a bad how', () => {
    const io = scope.create();
    const unconnected = io.socket('ipv4');
    expect(() => io.shutdown(unconnected)).to.throw(IOError).with.property('syscall', 'shutdown');
    const { client } = connectedPair(io);
    expect(() => io.shutdown(client, 'sideways' as never)).to.throw(TypeError, /how must be/);
    expect(() => io.shutdown(-1)).to.throw(RangeError);
  });
});
