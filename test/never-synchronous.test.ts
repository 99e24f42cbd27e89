// Contract rule 2: a callback never runs inside the call that submitted it,
// even when the operation could complete at once.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { IO } from '../io';
import { forEachBackend } from './support/backends';
import { runUntil, submit, type Outcome } from './support/run';
import { connectedPair } from './support/sockets';

function expectAsync(io: IO, what: string, outcome: Outcome): void {
  expect(outcome.calls, `${what}: callback ran inside the submitting call`).to.equal(0);
  runUntil(io, () => outcome.done, what);
  expect(outcome.ranInsideSubmit, `${what}: ran inside submit`).to.equal(false);
  expect(outcome.calls).to.equal(1);
}

forEachBackend('never synchronous', (scope) => {
  it('defers timeout(0)', function () {
    const io = scope.create();
    expectAsync(io, 'timeout(0)', submit((callback) => io.timeout(0, callback)));
  });

  it('defers send on a fresh connection and recv of data already there', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    expectAsync(io, 'send', submit((callback) => io.send(client, Buffer.from('ready'), callback)));
    io.runForNs(2_000_000); // the data is in the server's receive buffer now
    const recv = submit((callback) => io.recv(server, Buffer.alloc(16), callback));
    expectAsync(io, 'recv of buffered data', recv);
    expect(recv.error).to.equal(null);
    expect(recv.result).to.equal(5);
  });

  it('defers accept of a queued connection and connect over loopback', function () {
    const io = scope.create();
    const listener = io.listen('127.0.0.1', 0);
    const client = io.socket('ipv4');
    const connect = submit((callback) => io.connect(client, '127.0.0.1', io.localAddress(listener).port, callback));
    expectAsync(io, 'connect', connect);
    io.runForNs(2_000_000);
    const accept = submit((callback) => io.accept(listener, callback));
    expectAsync(io, 'accept of a queued connection', accept);
    expect(accept.error).to.equal(null);
  });

  it('defers operations that fail at once (recv on a closed fd)', function () {
    const io = scope.create();
    const fd = fs.openSync(os.devNull, 'r');
    fs.closeSync(fd);
    expectAsync(io, 'recv on a closed fd', submit((callback) => io.recv(fd, Buffer.alloc(8), callback)));
  });

  it('defers close, and file open/write/read', function () {
    const io = scope.create();
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-sync-'));
    try {
      const open = submit((callback) => io.open(path.join(directory, 'f'), 'w+', undefined, callback));
      expectAsync(io, 'open', open);
      const fd = open.result;
      expectAsync(io, 'write', submit((callback) => io.write(fd, Buffer.from('abc'), 0, callback)));
      expectAsync(io, 'read', submit((callback) => io.read(fd, Buffer.alloc(3), 0, callback)));
      expectAsync(io, 'close of a file', submit((callback) => io.close(fd, callback)));
      const { client } = connectedPair(io);
      expectAsync(io, 'close of a socket', submit((callback) => io.close(client, callback)));
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('defers the listener of an event triggered before eventListen', function () {
    const io = scope.create();
    const handle = io.eventOpen();
    IO.eventTrigger(handle);
    io.runForNs(1_000_000);
    expectAsync(io, 'eventListen of a triggered event', submit((callback) => io.eventListen(handle, callback)));
  });

  it('defers the ECANCELED callback of cancel()', function () {
    const io = scope.create();
    const timeout = submit((callback) => io.timeout(3600e9, callback));
    expect(io.cancel(timeout.id)).to.equal(true);
    expectAsync(io, 'cancelled timeout', timeout);
    expect(timeout.error?.code).to.equal('ECANCELED');
  });

  it('defers operations submitted from inside a callback past that callback', function () {
    const io = scope.create();
    let inner: Outcome | null = null;
    let innerCallsAtReturn = -1;
    io.timeout(0, () => {
      inner = submit((callback) => io.timeout(0, callback));
      innerCallsAtReturn = inner.calls;
    });
    runUntil(io, () => inner !== null && inner.done, 'the inner timeout');
    expect(innerCallsAtReturn).to.equal(0);
    expect(inner!.ranInsideSubmit).to.equal(false);
  });
});
