// Connections that arrive while no accept of their listener waits. A
// kernel keeps them in the listen backlog; io_uring's multishot accept
// takes them from there ahead of time, and the IO keeps them until an
// accept asks. Either way each accept gets one, in the order they
// connected, and closing the listener (or deinit) closes the ones never
// asked for: their peers see the end of the connection, no fd is left.
import * as fs from 'node:fs';
import { expect } from 'chai';
import type { IO } from '../io';
import { expectIOError } from './support/assertions';
import { forEachBackend, type IOScope } from './support/backends';
import { complete, runUntil, submit, succeed, type Outcome } from './support/run';

/**
 * The process's open fds, or null where /proc/self/fd does not list the
 * IO's (a simulated world's fds are virtual) or is not there (Windows, macOS).
 */
function openFdCount(scope: IOScope): number | null {
  if (scope.simulated || process.platform === 'win32' || !fs.existsSync('/proc/self/fd')) return null;
  return fs.readdirSync('/proc/self/fd').length - 1; // less the directory's own fd
}

/** Runs `io` for a few ms: a backend that accepts ahead of time has then taken what the backlog held. */
function settle(io: IO): void {
  complete(io, 'a 5 ms timeout', (callback) => io.timeout(5_000_000, callback));
}

/** Connects `count` clients of `clientIO` to port, one after another, driving `drive` too. */
function connectInOrder(clientIO: IO, port: number, count: number, drive: IO[] = []): number[] {
  const clients: number[] = [];
  for (let index = 0; index < count; index++) {
    const client = clientIO.socket('ipv4');
    const connect = submit((callback) => clientIO.connect(client, '127.0.0.1', port, callback));
    runUntil(clientIO, () => {
      for (const io of drive) io.tick();
      return connect.done;
    }, `connect #${index}`);
    if (connect.error !== null) throw connect.error;
    clients.push(client);
  }
  return clients;
}

/** One accept and one connect, together: the listener has had an accept, so a multishot one is armed. */
function acceptOne(io: IO, listener: number, port: number): { client: number; server: number } {
  const accept = submit((callback) => io.accept(listener, callback));
  const [client] = connectInOrder(io, port, 1);
  runUntil(io, () => accept.done, 'the first accept');
  if (accept.error !== null) throw accept.error;
  return { client, server: accept.result };
}

/** recv on a client whose connection the server side let go of: end of stream, or a reset if it never was accepted. */
function expectEnded(io: IO, client: number, index: number): void {
  const recv = complete(io, `recv on client #${index}`, (callback) => io.recv(client, Buffer.alloc(16), callback));
  if (recv.error !== null) {
    expectIOError(recv.error, 'ECONNRESET', 'recv');
  } else {
    expect(recv.result, `client #${index} read end of stream`).to.equal(0);
  }
}

forEachBackend('connections accepted before an accept asked', (scope) => {
  it('gives each later accept one of them, in the order they connected, past 64 of them', function () {
    const io = scope.create();
    const listener = io.listen('127.0.0.1', 0);
    const { port } = io.localAddress(listener);
    acceptOne(io, listener, port);
    const clients = connectInOrder(io, port, 80);
    settle(io);
    const accepts: Outcome[] = clients.map(() => submit((callback) => io.accept(listener, callback)));
    runUntil(io, () => accepts.every((accept) => accept.done), 'the 80 accepts');
    const peers = accepts.map((accept) => {
      if (accept.error !== null) throw accept.error;
      return io.remoteAddress(accept.result).port;
    });
    expect(peers).to.deep.equal(clients.map((client) => io.localAddress(client).port));
    settle(io);
    expect(accepts.map((accept) => accept.calls)).to.deep.equal(accepts.map(() => 1));
  });

  it('closes the ones never asked for when the listener is closed: their peers see the end, no fd is left', function () {
    const io = scope.create();
    const listener = io.listen('127.0.0.1', 0);
    const { port } = io.localAddress(listener);
    const first = acceptOne(io, listener, port);
    succeed(io, 'close the first client', (callback) => io.close(first.client, callback));
    succeed(io, 'close the first server side', (callback) => io.close(first.server, callback));
    const before = openFdCount(scope);
    const clients = connectInOrder(io, port, 5);
    settle(io);
    succeed(io, 'close the listener', (callback) => io.close(listener, callback));
    clients.forEach((client, index) => expectEnded(io, client, index));
    for (const client of clients) succeed(io, 'close a client', (callback) => io.close(client, callback));
    if (before !== null) expect(openFdCount(scope), 'open fds: the listener fewer than before the connections').to.equal(before - 1);
  });

  it('closes them on deinit too: their peers on another IO see the end, no fd is left', function () {
    const clientIO = scope.create();
    const before = openFdCount(scope);
    const io = scope.create(); // deinitialized below; the scope's deinit after the test is then a no-op
    const listener = io.listen('127.0.0.1', 0);
    const { port } = io.localAddress(listener);
    const accept = submit((callback) => io.accept(listener, callback));
    const clients = connectInOrder(clientIO, port, 6, [io]);
    runUntil(io, () => accept.done, 'the first accept');
    settle(io);
    io.deinit();
    clients.forEach((client, index) => expectEnded(clientIO, client, index));
    for (const client of clients) succeed(clientIO, 'close a client', (callback) => clientIO.close(client, callback));
    if (before !== null) expect(openFdCount(scope), 'open fds after deinit').to.equal(before);
  });

  it('lets an accept that was cancelled while waiting go, and gives the next connection to the next accept', function () {
    const io = scope.create();
    const listener = io.listen('127.0.0.1', 0);
    const { port } = io.localAddress(listener);
    acceptOne(io, listener, port);
    const cancelled = submit((callback) => io.accept(listener, callback));
    io.tick();
    expect(io.cancel(cancelled.id)).to.equal(true);
    runUntil(io, () => cancelled.done, 'the cancelled accept');
    expectIOError(cancelled.error, 'ECANCELED', 'accept');
    const [client] = connectInOrder(io, port, 1);
    settle(io);
    const next = complete(io, 'the next accept', (callback) => io.accept(listener, callback));
    if (next.error !== null) throw next.error;
    expect(io.remoteAddress(next.result).port).to.equal(io.localAddress(client).port);
    expect(cancelled.calls).to.equal(1);
  });
});
