// attach(): Node's event loop drives the IO beside timers and promises.
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { expect } from 'chai';
import { expectIOError } from './support/assertions';
import { forEachBackend } from './support/backends';
import { describeExit, lastJsonLine, runFixture } from './support/child';
import { closedPort } from './support/sockets';

/** Rejects if `promise` has not settled within `ms`: a hang guard with a clear message. */
function withinHangGuard<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang guard: ${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

forEachBackend('attach', (scope) => {
  it('drives a promise chain: timeout, connect/accept, sendAll, recv', async function () {
    const io = scope.create();
    io.attach();
    expect(io.attached).to.equal(true);
    const data = randomBytes(256 * 1024);
    const chain = async (): Promise<Buffer> => {
      const start = scope.nowNs();
      await io.promises.timeout(2_000_000);
      expect(scope.nowNs() - start >= 2_000_000n).to.equal(true);
      const listener = io.listen('127.0.0.1', 0);
      const client = io.socket('ipv4');
      const [server] = await Promise.all([
        io.promises.accept(listener),
        io.promises.connect(client, '127.0.0.1', io.localAddress(listener).port),
      ]);
      // Node's own timers run beside the IO.
      await new Promise((resolve) => setTimeout(resolve, 1));
      const received = Buffer.alloc(data.byteLength);
      const receiving = (async () => {
        let bytes = 0;
        while (bytes < received.byteLength) {
          const n = await io.promises.recv(server, received.subarray(bytes));
          if (n === 0) break;
          bytes += n;
        }
        return bytes;
      })();
      expect(await io.promises.sendAll(client, data)).to.equal(data.byteLength);
      expect(await receiving).to.equal(data.byteLength);
      await io.promises.close(client);
      expect(await io.promises.recv(server, Buffer.alloc(8))).to.equal(0);
      return received;
    };
    const received = await withinHangGuard(chain(), 15_000, 'the promise chain');
    expect(received.equals(data)).to.equal(true);
    expect(io.pending).to.equal(0);
  });

  it('loses no message while completions and submissions race: 4 connections ping-pong 1,000 times each, a timer beside them', async function () {
    this.timeout(60_000);
    // Rounds come both from completions (on IOCP, its waiter thread hands
    // them over at any moment) and from callbacks submitting more work, so
    // a round often starts while the backend is taking completions in.
    const io = scope.create();
    io.attach();
    const pairs = 4;
    const roundTrips = 1_000;
    const listener = io.listen('127.0.0.1', 0);
    const port = io.localAddress(listener).port;
    const connections: Array<[number, number]> = [];
    for (let i = 0; i < pairs; i++) {
      const client = io.socket('ipv4');
      const [server] = await withinHangGuard(
        Promise.all([io.promises.accept(listener), io.promises.connect(client, '127.0.0.1', port)]),
        15_000,
        'connect + accept',
      );
      connections.push([client, server]);
    }
    let ticks = 0;
    let ticking = true;
    const tick = (): void => {
      io.timeout(100_000, (error) => {
        expect(error).to.equal(null);
        ticks++;
        if (ticking) tick();
      });
    };
    tick();
    // Each message is 4 bytes: the pair's index and the round trip's count.
    const pingPong = (pair: number, client: number, server: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const echo = Buffer.alloc(4);
        const reply = Buffer.alloc(4);
        let done = 0;
        const fail = (what: string, error: Error | null, bytes: number): void =>
          reject(new Error(`pair ${pair}, round trip ${done}: ${what} gave ${error?.message ?? `${bytes} bytes`}`));
        const ping = (): void => {
          const message = Buffer.alloc(4);
          message.writeUInt16LE(pair, 0);
          message.writeUInt16LE(done, 2);
          io.send(client, message, (error, bytes) => {
            if (error !== null || bytes !== 4) fail('send', error, bytes);
          });
          io.recv(server, echo, (error, bytes) => {
            if (error !== null || bytes !== 4) return fail('the server recv', error, bytes);
            io.send(server, echo, (sendError, sent) => {
              if (sendError !== null || sent !== 4) fail('the echo send', sendError, sent);
            });
            io.recv(client, reply, (replyError, received) => {
              if (replyError !== null || received !== 4) return fail('the client recv', replyError, received);
              if (reply.readUInt16LE(0) !== pair || reply.readUInt16LE(2) !== done) {
                return reject(new Error(`pair ${pair}: round trip ${done} got ${reply.toString('hex')}`));
              }
              done++;
              if (done === roundTrips) resolve(done);
              else ping();
            });
          });
        };
        ping();
      });
    const results = await withinHangGuard(
      Promise.all(connections.map(([client, server], pair) => pingPong(pair, client, server))),
      50_000,
      'the ping-pong',
    );
    ticking = false;
    expect(results).to.deep.equal(new Array(pairs).fill(roundTrips));
    await withinHangGuard(
      new Promise<void>((resolve) => {
        const check = (): void => (io.pending === 0 ? resolve() : void setTimeout(check, 1));
        check();
      }),
      15_000,
      'the last timer',
    );
    expect(ticks, 'the timer beside the ping-pong never fired').to.be.greaterThan(0);
  });

  it('rejects promises with IOError', async function () {
    const io = scope.create();
    const port = closedPort(io); // (driven by runForNs, so before attach)
    io.attach();
    const client = io.socket('ipv4');
    const error = await withinHangGuard(
      io.promises.connect(client, '127.0.0.1', port).then(
        () => null,
        (rejection: unknown) => rejection,
      ),
      15_000,
      'the refused connect',
    );
    expectIOError(error, 'ECONNREFUSED', 'connect');
  });

  it('throws from tick(), run() and runForNs() while attached, and they work again after detach()', function () {
    const io = scope.create();
    io.attach();
    expect(() => io.tick()).to.throw(Error);
    expect(() => io.run()).to.throw(Error);
    expect(() => io.runForNs(1000)).to.throw(Error);
    io.attach(); // a second attach is a no-op
    expect(io.attached).to.equal(true);
    io.detach();
    expect(io.attached).to.equal(false);
    io.detach(); // so is a second detach
    let fired = 0;
    io.timeout(0, () => fired++);
    io.run();
    expect(fired).to.equal(1);
  });

  it('completes operations submitted before attach(), from the event loop', async function () {
    const io = scope.create();
    const fired = new Promise<number>((resolve) => io.timeout(1_000_000, () => resolve(1)));
    io.attach();
    expect(await withinHangGuard(fired, 15_000, 'the timeout')).to.equal(1);
  });

  it('wakes Node\'s loop for a completion the IO did nothing to bring: data a node:net socket sends', async function () {
    // A test of the poll fd the backend gives Node's loop; a simulated world has no real socket to send from.
    if (scope.simulated) this.skip();
    // The IO has one recv pending and nothing else (no timer, no
    // submission): only its poll fd can tell Node's loop that the recv is
    // done (io_uring's ring fd under DEFER_TASKRUN, which the backend does
    // not use, stays silent for it: the IO would hang here).
    const io = scope.create();
    io.attach();
    const listener = io.listen('127.0.0.1', 0);
    const accepted = io.promises.accept(listener);
    const peer = net.connect({ host: '127.0.0.1', port: io.localAddress(listener).port, noDelay: true });
    peer.on('error', () => {});
    const server = await withinHangGuard(accepted, 15_000, 'the accept');
    for (let round = 0; round < 20; round++) {
      const buffer = Buffer.alloc(64);
      const received = io.promises.recv(server, buffer);
      // Node's loop goes to sleep with the recv pending.
      await new Promise((resolve) => setTimeout(resolve, 2));
      const message = `message ${round}`;
      peer.write(message);
      const size = await withinHangGuard(received, 15_000, `the recv of round ${round}`);
      expect(buffer.subarray(0, size).toString()).to.equal(message);
    }
    peer.destroy();
    await io.promises.close(server);
    await io.promises.close(listener);
  });

  it('lets an attached IO with nothing pending not keep the process alive (child process)', async function () {
    this.timeout(60_000);
    const result = await runFixture('attach-exit', [scope.backend, 'idle'], { killAfterMs: 30_000 });
    expect(result.killed, `the child did not exit by itself: ${describeExit(result)}`).to.equal(false);
    expect(result.code, describeExit(result)).to.equal(0);
    expect(lastJsonLine(result)).to.deep.equal({ idle: true, pending: 0 });
  });

  it('keeps the process alive while an operation is pending, then lets it exit (child process)', async function () {
    this.timeout(60_000);
    const result = await runFixture('attach-exit', [scope.backend, 'timeout'], { killAfterMs: 30_000 });
    expect(result.killed, `the child did not exit by itself: ${describeExit(result)}`).to.equal(false);
    expect(result.code, describeExit(result)).to.equal(0);
    const report = lastJsonLine(result) as { fired: boolean; error: string | null; elapsedNs: number; pending: number };
    expect(report.fired).to.equal(true);
    expect(report.error).to.equal(null);
    expect(report.elapsedNs).to.be.at.least(50_000_000);
  });

  it('stops driving the IO after detach(): a pending operation waits for tick()', async function () {
    const io = scope.create();
    io.attach();
    let fired = 0;
    io.timeout(0, () => fired++);
    io.detach();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired, 'the event loop ran a callback of a detached IO').to.equal(0);
    io.run();
    expect(fired).to.equal(1);
  });

  it('deinit() of an attached IO completes pending operations with ECANCELED and detaches it', async function () {
    const io = scope.create();
    io.attach();
    const { server } = await (async () => {
      const listener = io.listen('127.0.0.1', 0);
      const client = io.socket('ipv4');
      const [accepted] = await withinHangGuard(
        Promise.all([io.promises.accept(listener), io.promises.connect(client, '127.0.0.1', io.localAddress(listener).port)]),
        15_000,
        'connect + accept',
      );
      return { server: accepted };
    })();
    const outcomes: string[] = [];
    io.recv(server, Buffer.alloc(8), (error) => outcomes.push(`recv ${error?.code}`));
    io.timeout(3600e9, (error) => outcomes.push(`timeout ${error?.code}`));
    io.deinit();
    expect(outcomes.sort()).to.deep.equal(['recv ECANCELED', 'timeout ECANCELED']);
    expect(io.attached).to.equal(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(outcomes).to.have.length(2);
  });
});
