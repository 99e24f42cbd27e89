// close(fd) with operations pending on the fd: they complete with ECANCELED
// before the close's own callback (contract rule 6).
import { expect } from 'chai';
import { expectIOError } from './support/assertions';
import { forEachBackend } from './support/backends';
import { runUntil, submit, type Outcome } from './support/run';
import { connectedPair } from './support/sockets';
import type { IO } from '../io';

/** Submits 1 MiB sends on `fd` (whose peer never reads) until one stays pending; returns it. */
function pendingSend(io: IO, fd: number): Outcome {
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const send = submit((callback) => io.send(fd, chunk, callback));
    for (let step = 0; step < 5 && !send.done; step++) io.runForNs(1_000_000);
    if (!send.done) return send;
    if (send.error !== null) throw send.error;
  }
  throw new Error('pendingSend: the send buffer never filled after 1,000 sends of 1 MiB');
}

forEachBackend('close with pending operations', (scope) => {
  it('completes a pending recv and a pending send with ECANCELED before the close callback', function () {
    const io = scope.create();
    const { client } = connectedPair(io);
    const send = pendingSend(io, client); // the server side never reads
    const recv = submit((callback) => io.recv(client, Buffer.alloc(64), callback)); // the server never sends
    let doneAtClose: string[] = [];
    const close = submit((callback) =>
      io.close(client, (error, result) => {
        doneAtClose = [send.done ? 'send' : '', recv.done ? 'recv' : ''].filter((name) => name !== '');
        callback(error, result);
      }),
    );
    runUntil(io, () => close.done && send.done && recv.done, 'close with pending operations');
    expect(close.error).to.equal(null);
    expect(close.result).to.equal(0);
    expectIOError(send.error, 'ECANCELED', 'send');
    expectIOError(recv.error, 'ECANCELED', 'recv');
    expect(doneAtClose, 'callbacks that ran before the close callback').to.deep.equal(['send', 'recv']);
    expect([send.calls, recv.calls, close.calls]).to.deep.equal([1, 1, 1]);
  });

  it('completes a pending accept with ECANCELED before the close of the listener', function () {
    const io = scope.create();
    const listener = io.listen('127.0.0.1', 0);
    const accept = submit((callback) => io.accept(listener, callback));
    io.tick();
    let acceptDoneAtClose = false;
    const close = submit((callback) =>
      io.close(listener, (error, result) => {
        acceptDoneAtClose = accept.done;
        callback(error, result);
      }),
    );
    runUntil(io, () => close.done && accept.done, 'close of the listener');
    expect(close.error).to.equal(null);
    expectIOError(accept.error, 'ECANCELED', 'accept');
    expect(acceptDoneAtClose, 'accept callback ran before the close callback').to.equal(true);
  });

  it('fails close of an fd that is not open with EBADF', function () {
    const io = scope.create();
    const { client } = connectedPair(io);
    const first = submit((callback) => io.close(client, callback));
    runUntil(io, () => first.done, 'first close');
    expect(first.error).to.equal(null);
    const second = submit((callback) => io.close(client, callback));
    runUntil(io, () => second.done, 'second close');
    expectIOError(second.error, 'EBADF', 'close');
  });
});
