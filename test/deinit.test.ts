// deinit(): every pending operation completes with ECANCELED inside the
// call, nothing runs after it, and the IO refuses every later call.
import { expect } from 'chai';
import { IO } from '../io';
import { expectIOError, expectThrows } from './support/assertions';
import { forEachBackend } from './support/backends';
import { runUntil, submit, type Outcome } from './support/run';
import { connectedPair } from './support/sockets';

/** Every public method of an IO instance, called with otherwise valid arguments. */
function everyCall(io: IO, fd: number): Record<string, () => unknown> {
  const callback = (): void => {};
  const buffer = Buffer.alloc(8);
  return {
    listen: () => io.listen('127.0.0.1', 0),
    socket: () => io.socket('ipv4'),
    localAddress: () => io.localAddress(fd),
    remoteAddress: () => io.remoteAddress(fd),
    accept: () => io.accept(fd, callback),
    connect: () => io.connect(fd, '127.0.0.1', 9, callback),
    recv: () => io.recv(fd, buffer, callback),
    send: () => io.send(fd, buffer, callback),
    timeout: () => io.timeout(0, callback),
    close: () => io.close(fd, callback),
    open: () => io.open('/tmp/x', 'r', undefined, callback),
    read: () => io.read(fd, buffer, 0, callback),
    write: () => io.write(fd, buffer, null, callback),
    fsync: () => io.fsync(fd, callback),
    fdatasync: () => io.fdatasync(fd, callback),
    fileSize: () => io.fileSize(fd, callback),
    truncate: () => io.truncate(fd, 0, callback),
    allocate: () => io.allocate(fd, 0, 1, callback),
    alignedBuffer: () => io.alignedBuffer(IO.directAlignment),
    cancel: () => io.cancel(1),
    eventOpen: () => io.eventOpen(),
    eventListen: () => io.eventListen(1, callback),
    eventClose: () => io.eventClose(1),
    tick: () => io.tick(),
    runForNs: () => io.runForNs(0),
    run: () => io.run(),
    attach: () => io.attach(),
    detach: () => io.detach(),
  };
}

forEachBackend('deinit', (scope) => {
  it('completes pending recv, timeout and accept with ECANCELED inside deinit(), each exactly once', function () {
    const io = scope.create();
    const { listener, server } = connectedPair(io);
    const recv = submit((callback) => io.recv(server, Buffer.alloc(16), callback));
    const timeout = submit((callback) => io.timeout(3600e9, callback));
    const accept = submit((callback) => io.accept(listener, callback));
    io.tick();
    const outcomes: [string, Outcome][] = [['recv', recv], ['timeout', timeout], ['accept', accept]];
    for (const [, outcome] of outcomes) expect(outcome.calls).to.equal(0);

    // Synchronously inside deinit(): nothing ran before it, all ran when it returned.
    io.deinit();
    for (const [name, outcome] of outcomes) {
      expect(outcome.calls, `${name} callbacks`).to.equal(1);
      expectIOError(outcome.error, 'ECANCELED', name);
    }
    expect(io.pending).to.equal(0);
  });

  it('runs no callback after deinit() returns', async function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const calls: string[] = [];
    io.recv(server, Buffer.alloc(16), () => calls.push('recv'));
    io.timeout(0, () => calls.push('timeout'));
    io.send(client, Buffer.from('data'), () => calls.push('send'));
    io.deinit();
    const atDeinit = calls.length;
    expect(atDeinit).to.equal(3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls.length).to.equal(atDeinit);
  });

  it('throws TypeError ERR_IO_DEINITIALIZED from every later call', function () {
    const io = scope.create();
    const { client } = connectedPair(io);
    io.deinit();
    for (const [name, call] of Object.entries(everyCall(io, client))) {
      const error = expectThrows(call, TypeError, 'ERR_IO_DEINITIALIZED');
      expect(error.message, name).to.be.a('string');
    }
  });

  it('is a no-op the second time', function () {
    const io = scope.create();
    io.timeout(3600e9, () => {});
    io.deinit();
    io.deinit();
    expect(io.pending).to.equal(0);
  });

  it('works from inside a callback during run(): the rest complete with ECANCELED, run() returns', function () {
    const io = scope.create();
    const { server } = connectedPair(io);
    const recv = submit((callback) => io.recv(server, Buffer.alloc(16), callback));
    const long = submit((callback) => io.timeout(3600e9, callback));
    let deinitThrew: unknown = null;
    const trigger = submit((callback) =>
      io.timeout(0, (error, result) => {
        callback(error, result);
        try {
          io.deinit();
        } catch (thrown) {
          deinitThrew = thrown;
        }
      }),
    );
    io.run();
    expect(deinitThrew).to.equal(null);
    expect(trigger.error).to.equal(null);
    expectIOError(recv.error, 'ECANCELED', 'recv');
    expectIOError(long.error, 'ECANCELED', 'timeout');
    expect([trigger.calls, recv.calls, long.calls]).to.deep.equal([1, 1, 1]);
    expectThrows(() => io.tick(), TypeError, 'ERR_IO_DEINITIALIZED');
  });

  it('works from inside a callback during runForNs(): runForNs() returns without error', function () {
    const io = scope.create();
    const long = submit((callback) => io.timeout(3600e9, callback));
    const trigger = submit((callback) =>
      io.timeout(0, (error, result) => {
        callback(error, result);
        io.deinit();
      }),
    );
    io.runForNs(5_000_000);
    expect(trigger.calls).to.equal(1);
    expectIOError(long.error, 'ECANCELED', 'timeout');
    expect(long.calls).to.equal(1);
  });

  it('refuses submissions from callbacks that run during deinit with ERR_IO_DEINITIALIZED', function () {
    const io = scope.create();
    let submitError: unknown = null;
    io.timeout(3600e9, () => {
      try {
        io.timeout(0, () => {});
      } catch (error) {
        submitError = error;
      }
    });
    io.deinit();
    expect(submitError).to.be.instanceOf(TypeError);
    expect((submitError as { code?: string }).code).to.equal('ERR_IO_DEINITIALIZED');
  });

  it('closes sockets the IO opened, so their peers see end of stream', function () {
    const io = scope.create();
    const other = scope.create();
    const listener = other.listen('127.0.0.1', 0);
    const { port } = other.localAddress(listener);
    let accepted = -1;
    other.accept(listener, (error, fd) => {
      if (error === null) accepted = fd;
    });
    const client = io.socket('ipv4');
    const connect = submit((callback) => io.connect(client, '127.0.0.1', port, callback));
    runUntil(io, () => connect.done, 'connect');
    runUntil(other, () => accepted >= 0, 'accept');
    io.deinit();
    const recv = submit((callback) => other.recv(accepted, Buffer.alloc(8), callback));
    runUntil(other, () => recv.done, 'recv after the peer IO was deinitialized');
    expect(recv.error).to.equal(null);
    expect(recv.result).to.equal(0);
  });
});
