// A cancel the kernel never answers (Wine 8 loses CancelIoEx): the core
// asks again every round and gives up after about 5 s (native/core/loop.h
// Loop::abandon). The simulation's cancel faults make that happen on
// demand, so the give-up path is checked here deterministically: the
// operation completes once, ECANCELED with `abandoned` set; its buffer is
// kept; close() and deinit() go on; its memory stays out of reuse until the
// world's late answer, and is freed then (nothing leaks).
import { expect } from 'chai';
import { IO, Simulation, type SimulationFaults } from '../io';
import { isKeptAbandoned } from '../io/abandoned';
import { expectIOError } from './support/assertions';
import { submit, type Outcome } from './support/run';

/** Every cancel of an operation waiting on a socket is ignored. */
const IGNORED: SimulationFaults = { cancelIgnoredProbability: 1 };
/** The core asks 50 times, 100 ms apart (loop.cc kCancelRoundsMax, kCancelRetryNs): about 5 s of virtual time. */
const GIVE_UP_MIN_NS = 5e9;
const GIVE_UP_MAX_NS = 6e9;

interface Pair {
  sim: Simulation;
  server: IO;
  client: IO;
  listener: number;
  serverFd: number;
  clientFd: number;
}

/** Ends both IOs of a pair and checks that the world holds no fd of theirs. */
function endAll(sim: Simulation, server: IO, client: IO): void {
  server.deinit();
  client.deinit();
  expect(sim.openFds).to.equal(0);
}

/** A world with a connection between two IOs. */
function connected(faults: SimulationFaults = IGNORED): Pair {
  const sim = new Simulation({ seed: 7, faults });
  const server = sim.io();
  const client = sim.io();
  const listener = server.listen('127.0.0.1', 0);
  const accept = submit((callback) => server.accept(listener, callback));
  const clientFd = client.socket('ipv4');
  const connect = submit((callback) => client.connect(clientFd, '127.0.0.1', server.localAddress(listener).port, callback));
  expect(sim.run()).to.equal(true);
  expect(connect.error).to.equal(null);
  expect(accept.error).to.equal(null);
  return { sim, server, client, listener, serverFd: accept.result, clientFd };
}

function expectAbandoned(outcome: Outcome, syscall: string): void {
  expect(outcome.calls, `${syscall}: one callback`).to.equal(1);
  expectIOError(outcome.error, 'ECANCELED', syscall);
  expect(outcome.error.abandoned, `${syscall}: abandoned`).to.equal(true);
}

function sendNow(sim: Simulation, io: IO, fd: number, text: string): void {
  const send = submit((callback) => io.send(fd, Buffer.from(text), callback));
  sim.run();
  expect(send.error).to.equal(null);
  expect(send.result).to.equal(text.length);
}

describe('a cancel the kernel never answers (simulation)', () => {
  it('a recv completes once, ECANCELED and abandoned, after about 5 s of asking; its buffer is kept', () => {
    const { sim, server, client, clientFd } = connected();
    const buffer = Buffer.alloc(16);
    const recv = submit((callback) => client.recv(clientFd, buffer, callback));
    expect(sim.run()).to.equal(false); // it waits for bytes nobody sends
    const cancelledAtNs = sim.nowNs;
    expect(client.cancel(recv.id)).to.equal(true);
    expect(sim.run()).to.equal(true);
    expectAbandoned(recv, 'recv');
    expect(sim.nowNs - cancelledAtNs).to.be.within(GIVE_UP_MIN_NS, GIVE_UP_MAX_NS);
    expect(isKeptAbandoned(buffer), 'the buffer the kernel may still write is kept').to.equal(true);
    expect(sim.abandonedOperations).to.equal(1);
    expect(sim.cancelsIgnored).to.equal(1);
    expect(recv.calls).to.equal(1);
    server.deinit();
    client.deinit();
    expect(recv.calls, 'still one callback after deinit').to.equal(1);
  });

  it("keeps the abandoned recv's memory out of reuse until the late answer, which writes into its kept buffer and frees it", () => {
    const { sim, server, client, serverFd, clientFd } = connected();
    const buffer = Buffer.alloc(16);
    const recv = submit((callback) => client.recv(clientFd, buffer, callback));
    sim.run();
    client.cancel(recv.id);
    sim.run();
    expectAbandoned(recv, 'recv');
    // Hundreds of operations come and go meanwhile (Op storage is reused
    // last-in first-out): none takes the abandoned one's.
    const timeouts: Outcome[] = [];
    for (let i = 0; i < 600; i++) timeouts.push(submit((callback) => client.timeout(1_000 * (i % 7), callback)));
    const echoed: Outcome[] = [];
    for (let i = 0; i < 20; i++) {
      sendNow(sim, client, clientFd, `ping ${i}`);
      echoed.push(submit((callback) => server.recv(serverFd, Buffer.alloc(16), callback)));
      sim.run();
    }
    expect(timeouts.every((t) => t.calls === 1 && t.error === null)).to.equal(true);
    expect(echoed.every((r) => r.calls === 1 && r.error === null && r.result >= 'ping 0'.length)).to.equal(true);
    expect(sim.abandonedOperations, 'still held while the kernel has not answered').to.equal(1);
    expect(buffer.equals(Buffer.alloc(16)), 'nothing written yet').to.equal(true);
    // The late answer: the kernel's receive takes the bytes that come, into the kept buffer.
    sendNow(sim, server, serverFd, 'late');
    expect(buffer.toString('latin1', 0, 4)).to.equal('late');
    expect(recv.calls, 'the late answer calls nothing').to.equal(1);
    expect(sim.abandonedOperations, 'its memory is freed at the late answer').to.equal(0);
    expect(sim.cancelsIgnored).to.equal(0);
    // The bytes after it go to the next recv, in order.
    const next = Buffer.alloc(16);
    const after = submit((callback) => client.recv(clientFd, next, callback));
    sendNow(sim, server, serverFd, 'next');
    expect(after.error).to.equal(null);
    expect(next.toString('latin1', 0, after.result)).to.equal('next');
    endAll(sim, server, client);
  });

  it('a pooled recv completes once, abandoned, holding no buffer; its late answer takes none and leaves the bytes for the next receive', () => {
    const { sim, server, client, serverFd, clientFd } = connected();
    const pool = client.bufferPool({ count: 1, size: 64 });
    const calls: { error: unknown; size: number; buffer: Uint8Array | null }[] = [];
    const id = client.recvPooled(clientFd, pool, (error, size, buffer) => void calls.push({ error, size, buffer }));
    sim.run();
    client.cancel(id);
    sim.run();
    expect(calls).to.have.length(1);
    expectIOError(calls[0].error, 'ECANCELED', 'recvPooled');
    expect(calls[0].error.abandoned).to.equal(true);
    expect(calls[0].buffer).to.equal(null);
    expect(isKeptAbandoned(pool)).to.equal(true);
    expect(pool.lentCount).to.equal(0);
    expect(sim.abandonedOperations).to.equal(1);
    // The next receive waits behind the abandoned one (per-socket order), with the pool's one buffer free.
    const received: string[] = [];
    client.recvPooled(clientFd, pool, (error, size, buffer) => {
      expect(error).to.equal(null);
      received.push(Buffer.from(buffer!.subarray(0, size)).toString('latin1'));
      pool.release(buffer!);
    });
    sendNow(sim, server, serverFd, 'late');
    expect(calls, 'the late answer calls nothing').to.have.length(1);
    expect(received, 'no byte lost: the late answer took none').to.deep.equal(['late']);
    expect(sim.abandonedOperations).to.equal(0);
    expect(sim.cancelsIgnored).to.equal(0);
    expect(pool.lentCount).to.equal(0);
    endAll(sim, server, client);
  });

  it('close() of the fd gives up on the recv (ECANCELED, abandoned, first), then completes; the close is the late answer', () => {
    const { sim, server, client, serverFd, clientFd } = connected();
    const buffer = Buffer.alloc(16);
    const order: string[] = [];
    const recv = submit((callback) => client.recv(clientFd, buffer, (error, n) => {
      order.push('recv');
      callback(error, n);
    }));
    sim.run();
    const close = submit((callback) => client.close(clientFd, (error, n) => {
      order.push('close');
      callback(error, n);
    }));
    const closingAtNs = sim.nowNs;
    expect(sim.run()).to.equal(true);
    expectAbandoned(recv, 'recv');
    expect(close.calls).to.equal(1);
    expect(close.error).to.equal(null);
    expect(order).to.deep.equal(['recv', 'close']);
    expect(sim.nowNs - closingAtNs).to.be.within(GIVE_UP_MIN_NS, GIVE_UP_MAX_NS);
    expect(sim.abandonedOperations, 'closing the socket answered it').to.equal(0);
    expect(sim.cancelsIgnored).to.equal(0);
    // The peer sees the connection end.
    const end = submit((callback) => server.recv(serverFd, Buffer.alloc(4), callback));
    sim.run();
    expect(end.error).to.equal(null);
    expect(end.result).to.equal(0);
    expect(recv.calls).to.equal(1);
    endAll(sim, server, client);
  });

  it('deinit() gives up on a recv and a pooled recv inside the call, and the end of the IO answers them: nothing leaks', () => {
    const { sim, server, client, clientFd } = connected();
    const second = client.socket('ipv4');
    const connect = submit((callback) => client.connect(second, '127.0.0.1', server.localAddress(server.listen('127.0.0.1', 0)).port, callback));
    sim.run();
    expect(connect.error).to.equal(null);
    const buffer = Buffer.alloc(16);
    const recv = submit((callback) => client.recv(clientFd, buffer, callback));
    const pool = client.bufferPool({ count: 2, size: 16 });
    const pooled: unknown[] = [];
    client.recvPooled(second, pool, (error) => void pooled.push(error));
    sim.run();
    expect(sim.cancelsIgnored).to.equal(0); // nothing asked yet
    const deinitAtNs = sim.nowNs;
    client.deinit();
    expectAbandoned(recv, 'recv');
    expect(pooled).to.have.length(1);
    expectIOError(pooled[0], 'ECANCELED', 'recvPooled');
    expect(pooled[0].abandoned).to.equal(true);
    expect(sim.nowNs - deinitAtNs).to.be.within(GIVE_UP_MIN_NS, GIVE_UP_MAX_NS);
    expect(isKeptAbandoned(buffer)).to.equal(true);
    expect(sim.cancelsIgnored, 'the end of the IO answered both').to.equal(0);
    expect(sim.abandonedOperations).to.equal(0);
    // Its backend was destroyed, not kept for a kernel that might still write: its fds are closed.
    server.deinit();
    expect(sim.openFds).to.equal(0);
    expect(recv.calls).to.equal(1);
    expect(pooled).to.have.length(1);
  });

  it("an accept's late answer is a connection, which the IO closes: no fd leaks", () => {
    const { sim, server, client, listener, serverFd, clientFd } = connected();
    const accept = submit((callback) => server.accept(listener, callback));
    sim.run();
    server.cancel(accept.id);
    sim.run();
    expectAbandoned(accept, 'accept');
    expect(sim.abandonedOperations).to.equal(1);
    const late = client.socket('ipv4');
    const connect = submit((callback) => client.connect(late, '127.0.0.1', server.localAddress(listener).port, callback));
    sim.run();
    expect(connect.error).to.equal(null);
    expect(accept.calls).to.equal(1);
    expect(sim.abandonedOperations).to.equal(0);
    // The server closed what the late accept made: the client reads the end of the stream.
    const end = submit((callback) => client.recv(late, Buffer.alloc(4), callback));
    sim.run();
    expect(end.error).to.equal(null);
    expect(end.result).to.equal(0);
    for (const [io, fd] of [[client, late], [client, clientFd], [server, serverFd], [server, listener]] as const) {
      const close = submit((callback) => io.close(fd, callback));
      sim.run();
      expect(close.error).to.equal(null);
    }
    expect(sim.openFds).to.equal(0);
    server.deinit();
    client.deinit();
  });

  it('bytes that come while the IO asks again complete the recv with them (the kernel finished first): not abandoned', () => {
    const { sim, server, client, serverFd, clientFd } = connected();
    const buffer = Buffer.alloc(16);
    const recv = submit((callback) => client.recv(clientFd, buffer, callback));
    sim.run();
    expect(client.cancel(recv.id)).to.equal(true);
    const send = submit((callback) => server.timeout(1e9, () => server.send(serverFd, Buffer.from('first'), callback)));
    sim.run();
    expect(send.error).to.equal(null);
    expect(recv.calls).to.equal(1);
    expect(recv.error).to.equal(null);
    expect(buffer.toString('latin1', 0, recv.result)).to.equal('first');
    expect(sim.abandonedOperations).to.equal(0);
    expect(sim.cancelsIgnored).to.equal(0);
    server.deinit();
    client.deinit();
  });

  it('cancelLostProbability: a lost cancel request is asked again a round (100 ms) later and heard: ECANCELED, not abandoned', () => {
    const { sim, server, client, clientFd } = connected({ cancelLostProbability: 0.5 });
    const waitsNs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const recv = submit((callback) => client.recv(clientFd, Buffer.alloc(4), callback));
      sim.run();
      const cancelledAtNs = sim.nowNs;
      client.cancel(recv.id);
      sim.run();
      expect(recv.calls).to.equal(1);
      expectIOError(recv.error, 'ECANCELED', 'recv');
      expect(recv.error.abandoned).to.equal(false);
      waitsNs.push(sim.nowNs - cancelledAtNs);
    }
    expect(waitsNs.every((ns) => ns % 100_000_000 === 0 && ns < GIVE_UP_MIN_NS), `${waitsNs}`).to.equal(true);
    expect(waitsNs.filter((ns) => ns === 0).length, 'some heard at once').to.be.greaterThan(0);
    expect(waitsNs.filter((ns) => ns > 0).length, 'some asked again').to.be.greaterThan(0);
    expect(sim.abandonedOperations).to.equal(0);
    endAll(sim, server, client);
  });
});
