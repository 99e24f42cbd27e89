// io.setCork(): a TCP socket corked while a response's parts go out (Linux
// TCP_CORK, the BSDs' TCP_NOPUSH; on Windows and macOS only the checks).
// What can be seen from outside on every backend: the call succeeds on a
// TCP socket, fails clearly on anything else, and what was sent while
// corked arrives, whole and in order, once it is uncorked.
import * as path from 'node:path';
import { expect } from 'chai';
import { IOError } from '../io';
import { expectThrows } from './support/assertions';
import { forEachBackend } from './support/backends';
import { directoryPerTest } from './support/directories';
import { runUntil, succeed } from './support/run';
import { connectedPair, recvExactly, sendAll } from './support/sockets';
import { unixSupport } from './support/unix';

function pattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + (i >> 8)) & 255;
  return bytes;
}

forEachBackend('setCork', (scope) => {
  const dir = directoryPerTest('tigerio-cork-');

  it('delivers what was sent while corked once the socket is uncorked', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    io.setCork(server, true);
    const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
    const sending = sendAll(io, server, Buffer.concat([head, Buffer.from('hello')]));
    runUntil(io, () => sending.done, 'the corked send');
    expect(sending.error).to.equal(null);
    io.setCork(server, false);
    const received = Buffer.alloc(head.length + 5);
    const receiving = recvExactly(io, client, received);
    runUntil(io, () => receiving.done, 'the bytes held by the cork');
    expect(receiving.error).to.equal(null);
    expect(received.toString('latin1')).to.equal(`${head.toString('latin1')}hello`);
  });

  it('keeps a head and a file sent while corked whole and in order', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const head = Buffer.from('head\r\n\r\n');
    const body = pattern(300_000);
    const at = path.join(dir(), 'body.bin');
    scope.writeFile(io, at, body);
    const file = succeed(io, 'open', (cb) => io.open(at, 'r', undefined, cb));
    io.setCork(server, true);
    // The head is submitted, then the file; the cork comes off after the file's last byte.
    const sending = sendAll(io, server, head);
    let fileSent = 0;
    let fileError: IOError | null = null;
    const sendFile = (): void => {
      io.sendFile(server, file, fileSent, body.length - fileSent, (error, sent) => {
        if (error !== null || sent === 0) {
          fileError = error ?? new IOError('EIO', -5, 'sendFile', 'the file ended early');
          return;
        }
        fileSent += sent;
        if (fileSent < body.length) sendFile();
        else io.setCork(server, false);
      });
    };
    sendFile();
    const received = Buffer.alloc(head.length + body.length);
    const receiving = recvExactly(io, client, received);
    runUntil(io, () => fileError !== null || (sending.done && receiving.done), 'the head and the file');
    expect(fileError).to.equal(null);
    expect(sending.error).to.equal(null);
    expect(receiving.error).to.equal(null);
    expect(received.subarray(0, head.length).equals(head)).to.equal(true);
    expect(received.subarray(head.length).equals(body)).to.equal(true);
    succeed(io, 'close of the file', (cb) => io.close(file, cb));
  });

  it('may be set again, cleared when not set, and set on a socket before it connects', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    io.setCork(server, false);
    io.setCork(server, true);
    io.setCork(server, true);
    io.setCork(server, false);
    io.setCork(server, false);
    const unconnected = io.socket('ipv4');
    io.setCork(unconnected, true);
    io.setCork(unconnected, false);
    // The connection still carries bytes both ways.
    const sending = sendAll(io, client, Buffer.from('ping'));
    const received = Buffer.alloc(4);
    const receiving = recvExactly(io, server, received);
    runUntil(io, () => sending.done && receiving.done, 'a send after the cork calls');
    expect(received.toString()).to.equal('ping');
  });

  it('throws IOError EBADF for an fd that is not open and ENOTSOCK for a file', function () {
    const io = scope.create();
    const closed = io.socket('ipv4');
    succeed(io, 'close', (cb) => io.close(closed, cb));
    const badFd = expectThrows(() => io.setCork(closed, true), IOError, 'EBADF') as IOError;
    expect(badFd.syscall).to.equal('setsockopt');
    const at = path.join(dir(), 'plain.txt');
    scope.writeFile(io, at, Buffer.from('not a socket'));
    const file = succeed(io, 'open', (cb) => io.open(at, 'r', undefined, cb));
    expectThrows(() => io.setCork(file, true), IOError, 'ENOTSOCK');
    succeed(io, 'close of the file', (cb) => io.close(file, cb));
  });

  it('throws IOError ENOTSUP for a socket that is not TCP (UDP, Unix)', function () {
    const io = scope.create();
    const udp = io.udpSocket('ipv4');
    expectThrows(() => io.setCork(udp, true), IOError, 'ENOTSUP');
    if (unixSupport(scope.backend).supported) {
      const unix = io.socket('unix');
      expectThrows(() => io.setCork(unix, true), IOError, 'ENOTSUP');
    }
  });

  it('throws TypeError or RangeError on bad arguments, and after deinit', function () {
    const io = scope.create();
    const { server } = connectedPair(io);
    expectThrows(() => io.setCork(server, 1 as never), TypeError);
    expectThrows(() => io.setCork(server, undefined as never), TypeError);
    expectThrows(() => io.setCork(-1, true), RangeError);
    expectThrows(() => io.setCork('3' as never, true), TypeError);
    io.deinit();
    expectThrows(() => io.setCork(server, true), TypeError, 'ERR_IO_DEINITIALIZED');
  });
});
