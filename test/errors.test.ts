// Contract rule 5: failures are IOError (an Error) with a POSIX code, a
// negative errno that names the same code, and syscall = the operation.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { IOError } from '../io';
import { expectIOError } from './support/assertions';
import { forEachBackend } from './support/backends';
import { fail, runUntil, submit } from './support/run';
import { closedPort } from './support/sockets';

/** An fd number that is not open right now (opened and closed by node:fs). */
function closedFd(): number {
  const fd = fs.openSync(os.devNull, 'r');
  fs.closeSync(fd);
  return fd;
}

forEachBackend('errors', (scope) => {
  it('IOError is an Error with code, errno and syscall', function () {
    const error = new IOError('ECONNRESET', -104, 'recv');
    expect(error).to.be.instanceOf(Error);
    expect(error).to.be.instanceOf(IOError);
    expect(error.name).to.equal('IOError');
    expect(error.code).to.equal('ECONNRESET');
    expect(error.errno).to.equal(-104);
    expect(error.syscall).to.equal('recv');
    expect(error.message).to.be.a('string').and.not.equal('');
  });

  it('reports recv, send, read, write and close on an fd that is not open as IOError EBADF in the callback', function () {
    const io = scope.create();
    const fd = closedFd();
    const buffer = Buffer.alloc(8);
    expectIOError(fail(io, 'recv', (callback) => io.recv(fd, buffer, callback)), 'EBADF', 'recv');
    expectIOError(fail(io, 'send', (callback) => io.send(fd, buffer, callback)), 'EBADF', 'send');
    expectIOError(fail(io, 'read', (callback) => io.read(fd, buffer, 0, callback)), 'EBADF', 'read');
    expectIOError(fail(io, 'write', (callback) => io.write(fd, buffer, 0, callback)), 'EBADF', 'write');
    expectIOError(fail(io, 'close', (callback) => io.close(fd, callback)), 'EBADF', 'close');
  });

  it('reports a recv on a huge fd number that was never open as IOError EBADF, without a crash', function () {
    const io = scope.create();
    for (const fd of [65_535, 1_000_000, 0x7fffffff]) {
      const error = fail(io, `recv on fd ${fd}`, (callback) => io.recv(fd, Buffer.alloc(8), callback));
      expectIOError(error, 'EBADF', 'recv');
    }
  });

  it('reports an accept on a socket that is not listening as an IOError from accept', function () {
    const io = scope.create();
    const socket = io.socket('ipv4');
    const error = fail(io, 'accept on a non-listening socket', (callback) => io.accept(socket, callback));
    expectIOError(error, ['EINVAL', 'ENOTSOCK', 'EOPNOTSUPP'], 'accept');
  });

  it('reports errors with the syscall of the failing operation', function () {
    const io = scope.create();
    const port = closedPort(io);
    const client = io.socket('ipv4');
    expectIOError(fail(io, 'connect', (callback) => io.connect(client, '127.0.0.1', port, callback)), 'ECONNREFUSED', 'connect');
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-errors-'));
    try {
      expectIOError(
        fail(io, 'open', (callback) => io.open(path.join(directory, 'missing'), 'r', undefined, callback)),
        'ENOENT',
        'open',
      );
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
    const timeout = submit((callback) => io.timeout(3600e9, callback));
    io.cancel(timeout.id);
    runUntil(io, () => timeout.done, 'the cancelled timeout');
    expectIOError(timeout.error, 'ECANCELED', 'timeout');
  });

  it('throws IOError EADDRINUSE from listen on a port in use', function () {
    const io = scope.create();
    const listener = io.listen('127.0.0.1', 0);
    const { port } = io.localAddress(listener);
    let thrown: unknown = null;
    try {
      io.listen('127.0.0.1', port);
    } catch (error) {
      thrown = error;
    }
    expectIOError(thrown, 'EADDRINUSE', 'listen');
  });

  it('throws IOError from localAddress and remoteAddress of an fd that is not open', function () {
    const io = scope.create();
    const fd = closedFd();
    expect(() => io.localAddress(fd)).to.throw(IOError);
    expect(() => io.remoteAddress(fd)).to.throw(IOError);
  });

  it('throws IOError ENOTCONN from remoteAddress of a socket that is not connected', function () {
    const io = scope.create();
    const socket = io.socket('ipv4');
    let thrown: unknown = null;
    try {
      io.remoteAddress(socket);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(IOError);
    expect((thrown as IOError).code).to.equal('ENOTCONN');
  });
});
