// Several IOs on one thread are independent: operations, deinit and attach
// of one do not touch another.
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { runUntil, submit } from './support/run';
import { connectedPair, exchange } from './support/sockets';

forEachBackend('several IOs on one thread', (scope) => {
  it('runs each IO only by its own driving calls', function () {
    const a = scope.create();
    const b = scope.create();
    const onA = submit((callback) => a.timeout(0, callback));
    const onB = submit((callback) => b.timeout(0, callback));
    runUntil(a, () => onA.done, 'the timeout on a');
    b.tick(); // nothing for b was ever driven before this
    runUntil(b, () => onB.done, 'the timeout on b');
    expect([onA.calls, onB.calls]).to.deep.equal([1, 1]);
  });

  it("does not complete one IO's operations from another's tick", function () {
    const a = scope.create();
    const b = scope.create();
    const onB = submit((callback) => b.timeout(0, callback));
    a.runForNs(5_000_000);
    expect(onB.calls).to.equal(0);
    runUntil(b, () => onB.done, 'the timeout on b');
  });

  it('keeps an IO working when another with pending operations is deinitialized', function () {
    const a = scope.create();
    const b = scope.create();
    const pairA = connectedPair(a);
    const pairB = connectedPair(b);
    const recvA = submit((callback) => a.recv(pairA.server, Buffer.alloc(8), callback));
    const recvB = submit((callback) => b.recv(pairB.server, Buffer.alloc(8), callback));
    b.tick();
    a.deinit();
    expect(recvA.error?.code).to.equal('ECANCELED');
    expect(recvB.calls).to.equal(0);
    const send = submit((callback) => b.send(pairB.client, Buffer.from('b lives'), callback));
    runUntil(b, () => recvB.done && send.done, 'the recv on b');
    expect(recvB.error).to.equal(null);
    const more = Buffer.from('and more');
    expect(exchange(b, pairB.client, pairB.server, more)).to.deep.equal(more);
  });

  it('runs more IOs at once than a thread has registered ring fds (io_uring: 16), and as many again after they are gone', function () {
    // io_uring names the ring by its index in the thread's table where there
    // is room and by its fd past that; deinit gives the index back.
    for (let round = 0; round < 2; round++) {
      const ios = Array.from({ length: 20 }, () => scope.create());
      const timeouts = ios.map((io) => submit((callback) => io.timeout(0, callback)));
      ios.forEach((io, i) => runUntil(io, () => timeouts[i].done, `the timeout on IO ${i}`));
      expect(timeouts.map((t) => t.calls)).to.deep.equal(ios.map(() => 1));
      for (const io of ios) io.deinit();
    }
  });

  it('drives two attached IOs from the event loop at once', async function () {
    const a = scope.create();
    const b = scope.create();
    a.attach();
    b.attach();
    const [x, y] = await Promise.all([a.promises.timeout(1_000_000), b.promises.timeout(2_000_000)]);
    expect([x, y]).to.deep.equal([0, 0]);
  });
});
