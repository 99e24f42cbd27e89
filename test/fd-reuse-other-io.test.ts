// The reused-fd rule (core/loop.h) with the fd closed behind the IO's back
// by another IO, which works on every OS (node:fs cannot close a socket on
// Windows, where an fd is a SOCKET handle): a recv pending on the old socket
// completes once with EBADF (at the close on IOCP, whose kernel aborts it;
// when the number is reused on the others), and the new socket with the
// same number works both ways.
import { expect } from 'chai';
import { expectIOError } from './support/assertions';
import { forEachBackend } from './support/backends';
import { runUntil, submit, succeed } from './support/run';
import { connectedPair, exchange } from './support/sockets';

forEachBackend('an fd closed by another IO', (scope) => {
  it('a recv pending on it ends once with EBADF, and a new socket with the same number works', function () {
    const io = scope.create();
    const other = scope.create();
    const { client, listener, port } = connectedPair(io);
    const orphan = submit((callback) => io.recv(client, Buffer.alloc(8), callback));
    io.runForNs(1_000_000);
    expect(orphan.done, 'the recv waits for data').to.equal(false);
    // Behind io's back; io is not driven until the number is reused.
    succeed(other, 'close by the other IO', (callback) => other.close(client, callback));
    const reused = io.socket('ipv4');
    // Only meaningful when the number comes back at once (POSIX: the lowest
    // free one; Windows: the handle table's last freed entry, usually).
    if (reused !== client) {
      if (!orphan.done) io.cancel(orphan.id);
      runUntil(io, () => orphan.done, 'the recv on the closed socket');
      this.skip();
    }
    runUntil(io, () => orphan.done, 'the orphaned recv');
    expect(orphan.calls).to.equal(1);
    expectIOError(orphan.error, 'EBADF', 'recv');
    const accept = submit((callback) => io.accept(listener, callback));
    const connect = submit((callback) => io.connect(reused, '127.0.0.1', port, callback));
    runUntil(io, () => accept.done && connect.done, 'connect on the reused number');
    expect(connect.error).to.equal(null);
    expect(accept.error).to.equal(null);
    expect(exchange(io, reused, accept.result, Buffer.from('new socket')).toString()).to.equal('new socket');
    expect(exchange(io, accept.result, reused, Buffer.from('both ways')).toString()).to.equal('both ways');
    io.runForNs(2_000_000);
    expect(orphan.calls, 'the old recv completed once').to.equal(1);
  });
});
