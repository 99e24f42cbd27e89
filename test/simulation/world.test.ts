// The simulated world itself: its virtual clock, IOs sharing it, what
// deinit() and crash() do to its fds, connections and files.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { IO, Simulation } from '../../io';
import { expectIOError, expectThrows } from '../support/assertions';
import { fail, type Outcome, runUntil, submit, succeed } from '../support/run';
import { connectedPair } from '../support/sockets';
import { fixturePath } from '../support/child';

const HOUR_NS = 3600e9;

describe('simulation: the world', () => {
  it('is listed last by IO.backends() and is never the default', () => {
    const backends = IO.backends();
    expect(backends[backends.length - 1]).to.equal('simulation');
    const io = new IO();
    expect(io.backend).to.not.equal('simulation');
    io.deinit();
  });

  it('completes a one-hour timeout on the virtual clock, which then reads at least one hour later', () => {
    const sim = new Simulation({ seed: 1 });
    const io = sim.io();
    const start = sim.nowNs;
    const timeout = submit((callback) => io.timeout(HOUR_NS, callback));
    expect(sim.run()).to.equal(true);
    expect(timeout.calls).to.equal(1);
    expect(timeout.error).to.equal(null);
    expect(sim.nowNs - start).to.be.at.least(HOUR_NS);
    io.deinit();
  });

  it('new IO({ backend: "simulation", seed }) is a world of its own, driven by io.run()', () => {
    const io = new IO({ backend: 'simulation', seed: 7 });
    expect(io.backend).to.equal('simulation');
    const order: number[] = [];
    io.timeout(2 * HOUR_NS, () => order.push(2));
    io.timeout(HOUR_NS, () => order.push(1));
    io.timeout(0, () => order.push(0));
    io.run();
    expect(order).to.deep.equal([0, 1, 2]);
    io.deinit();
    expectThrows(() => new IO({ backend: IO.backends()[0], seed: 1 }), TypeError);
  });

  it('runForNs(ns) moves the virtual clock by exactly ns, with callbacks due inside it run', () => {
    const sim = new Simulation({ seed: 2 });
    const io = sim.io();
    const start = sim.nowNs;
    const inside = submit((callback) => io.timeout(4_000_000, callback));
    const after = submit((callback) => io.timeout(6_000_000, callback));
    sim.runForNs(5_000_000);
    expect(sim.nowNs - start).to.equal(5_000_000);
    expect([inside.calls, after.calls]).to.deep.equal([1, 0]);
    io.runForNs(5_000_000);
    expect(sim.nowNs - start).to.equal(10_000_000);
    expect(after.calls).to.equal(1);
    io.deinit();
  });

  it('sim.runForNs(ns) and io.runForNs(ns) end on time while callbacks keep submitting work due at once, each round 1 ns of virtual time', () => {
    const sim = new Simulation({ seed: 2 });
    const io = sim.io();
    let rounds = 0;
    let ending = false;
    const again = (error: Error | null): void => {
      if (ending) return; // deinit() ends the chain's last timeout
      expect(error).to.equal(null);
      rounds++;
      io.timeout(0, again);
    };
    io.timeout(0, again);
    const start = sim.nowNs;
    sim.runForNs(1_000);
    expect(sim.nowNs - start).to.equal(1_000);
    // A round at each instant from start to start + 1,000, both included:
    // the clock holds still while a round runs and moves 1 ns after it.
    expect(rounds).to.equal(1_001);
    io.runForNs(1_000);
    expect(sim.nowNs - start).to.equal(2_000);
    expect(rounds > 1_001, `${rounds} callbacks ran`).to.equal(true);
    expect(io.pending).to.equal(1);
    ending = true;
    io.deinit();
  });

  it('fires timeouts in (deadline, submission) order, never early on the virtual clock', () => {
    const sim = new Simulation({ seed: 3, faults: { timerLateProbability: 0.5, timerLateMeanNs: 1_000_000 } });
    const io = sim.io();
    const fired: { index: number; deadline: number; at: number }[] = [];
    for (let i = 0; i < 500; i++) {
      const delay = ((i * 7919) % 50) * 1_000_000;
      const deadline = sim.nowNs + delay;
      io.timeout(delay, () => fired.push({ index: i, deadline, at: sim.nowNs }));
    }
    expect(sim.run()).to.equal(true);
    expect(fired.length).to.equal(500);
    for (let i = 0; i < fired.length; i++) {
      expect(fired[i].at, `timeout ${fired[i].index} early`).to.be.at.least(fired[i].deadline);
      if (i > 0) {
        const [a, b] = [fired[i - 1], fired[i]];
        expect(a.deadline < b.deadline || (a.deadline === b.deadline && a.index < b.index), `order at ${i}`).to.equal(true);
      }
    }
    io.deinit();
  });

  it('lets IOs of one world connect to each other; another world cannot reach them', () => {
    const sim = new Simulation({ seed: 4 });
    const server = sim.io();
    const client = sim.io();
    const listener = server.listen('127.0.0.1', 0);
    const { port } = server.localAddress(listener);
    const accept = submit((callback) => server.accept(listener, callback));
    const fd = client.socket('ipv4');
    const connect = submit((callback) => client.connect(fd, '127.0.0.1', port, callback));
    expect(sim.run()).to.equal(true);
    expect(connect.error).to.equal(null);
    expect(accept.error).to.equal(null);
    expect(client.remoteAddress(fd).port).to.equal(port);
    const other = new IO({ backend: 'simulation', seed: 4 });
    const stranger = other.socket('ipv4');
    const refused = submit((callback) => other.connect(stranger, '127.0.0.1', port, callback));
    other.run();
    expectIOError(refused.error, 'ECONNREFUSED', 'connect');
    other.deinit();
    server.deinit();
    client.deinit();
  });

  it('run() returns false when what is pending can never complete (an accept no one connects to)', () => {
    const sim = new Simulation({ seed: 5 });
    const io = sim.io();
    const listener = io.listen('127.0.0.1', 0);
    const accept = submit((callback) => io.accept(listener, callback));
    expect(sim.run()).to.equal(false);
    expect(sim.pending).to.equal(1);
    io.deinit();
    expectIOError(accept.error, 'ECANCELED', 'accept');
  });

  it('deinit() closes the fds the IO opened: a peer in the same world sees the end of the stream', () => {
    const sim = new Simulation({ seed: 6 });
    const a = sim.io();
    const b = sim.io();
    const listener = b.listen('127.0.0.1', 0);
    const { port } = b.localAddress(listener);
    const accept = submit((callback) => b.accept(listener, callback));
    const fd = a.socket('ipv4');
    a.connect(fd, '127.0.0.1', port, () => {});
    sim.run();
    const recv = submit((callback) => b.recv(accept.result, Buffer.alloc(8), callback));
    a.deinit();
    sim.run();
    expect(recv.error).to.equal(null);
    expect(recv.result).to.equal(0);
    // The number is free again in the world: the next socket gets it.
    expect(b.socket('ipv4')).to.equal(fd);
    b.deinit();
  });

  it('rule 9: an fd closed behind an IO\'s back (by another IO of the world) keeps its ops waiting until the number comes back, then EBADF', () => {
    const sim = new Simulation({ seed: 12 });
    const a = sim.io();
    const b = sim.io();
    const { client, server, listener, port } = connectedPair(a);
    const orphan = submit((callback) => a.recv(client, Buffer.alloc(8), callback));
    a.tick();
    succeed(b, 'close behind the back', (callback) => b.close(client, callback));
    sim.runForNs(10_000_000);
    expect(orphan.done, 'the IO cannot know yet').to.equal(false);
    const reused = a.socket('ipv4');
    expect(reused).to.equal(client);
    sim.run();
    expectIOError(orphan.error, 'EBADF', 'recv');
    // The new socket with the old number works at once.
    const accept = submit((callback) => a.accept(listener, callback));
    const connect = submit((callback) => a.connect(reused, '127.0.0.1', port, callback));
    sim.run();
    expect(connect.error).to.equal(null);
    const received = Buffer.alloc(8);
    const recv = submit((callback) => a.recv(reused, received, callback));
    succeed(a, 'send', (callback) => a.send(accept.result, Buffer.from('four'), callback));
    sim.run();
    expect(received.subarray(0, recv.result).toString()).to.equal('four');
    void server;
    a.deinit();
    b.deinit();
    expect(sim.openFds).to.equal(0);
  });

  it('keeps simulated fds out of the process: an IO on epoll and one on the simulation use the same numbers independently', () => {
    const sim = new Simulation({ seed: 8 });
    const simulated = sim.io();
    const real = new IO({ backend: IO.backends()[0] });
    const { client, server } = connectedPair(real);
    const virtual = simulated.socket('ipv4');
    simulated.deinit(); // closes only the world's fd, never the real one of the same number
    const message = Buffer.from('still open');
    succeed(real, 'send', (callback) => real.send(client, message, callback));
    const buffer = Buffer.alloc(16);
    const n = succeed(real, 'recv', (callback) => real.recv(server, buffer, callback));
    expect(buffer.subarray(0, n).toString()).to.equal('still open');
    void virtual;
    real.deinit();
  });

  it('sim.crash(io): peers see ECONNRESET, synced files survive, un-synced sectors are lost at the set rate', () => {
    for (const lost of [0, 1]) {
      const sim = new Simulation({ seed: 9, faults: { crashLostSectorProbability: lost } });
      const db = sim.io();
      const peer = sim.io();
      const listener = peer.listen('127.0.0.1', 0);
      const accept = submit((callback) => peer.accept(listener, callback));
      const socket = db.socket('ipv4');
      db.connect(socket, '127.0.0.1', peer.localAddress(listener).port, () => {});
      sim.run();
      const synced = succeed(db, 'open', (callback) => db.open('/db/synced', 'w', undefined, callback));
      succeed(db, 'write', (callback) => db.write(synced, Buffer.alloc(2048, 1), 0, callback));
      succeed(db, 'close (the sync point)', (callback) => db.close(synced, callback));
      const log = succeed(db, 'open', (callback) => db.open('/db/log', 'w', undefined, callback));
      succeed(db, 'write', (callback) => db.write(log, Buffer.alloc(2048, 2), 0, callback));
      const recv = submit((callback) => peer.recv(accept.result, Buffer.alloc(8), callback));
      sim.crash(db);
      runUntil(peer, () => recv.done, 'the peer recv');
      expectIOError(recv.error, 'ECONNRESET', 'recv');
      const rebooted = sim.io();
      const read = (path: string): Buffer => {
        const fd = succeed(rebooted, 'open', (callback) => rebooted.open(path, 'r', undefined, callback));
        const buffer = Buffer.alloc(4096);
        const n = succeed(rebooted, 'read', (callback) => rebooted.read(fd, buffer, 0, callback));
        succeed(rebooted, 'close', (callback) => rebooted.close(fd, callback));
        return buffer.subarray(0, n);
      };
      expect(read('/db/synced').equals(Buffer.alloc(2048, 1))).to.equal(true);
      expect(read('/db/log').equals(lost === 0 ? Buffer.alloc(2048, 2) : Buffer.alloc(0))).to.equal(true);
      rebooted.deinit();
      peer.deinit();
    }
  });

  it('drives an attached IO from Node\'s event loop on the virtual clock', async () => {
    const sim = new Simulation({ seed: 10 });
    const io = sim.io();
    io.attach();
    const start = sim.nowNs;
    await io.promises.timeout(HOUR_NS);
    expect(sim.nowNs - start).to.be.at.least(HOUR_NS);
    io.deinit();
  });

  it('an attached IO fires a later timeout while its callbacks keep submitting work due at once', async () => {
    const sim = new Simulation({ seed: 10 });
    const io = sim.io();
    io.attach();
    let rounds = 0;
    let chaining = true;
    const again = (error: Error | null): void => {
      expect(error).to.equal(null);
      rounds++;
      if (chaining) io.timeout(0, again);
    };
    io.timeout(0, again);
    const start = sim.nowNs;
    const delayNs = 2_000;
    await io.promises.timeout(delayNs);
    chaining = false;
    expect(sim.nowNs - start).to.be.at.least(delayNs);
    // Each round of the chain moved the clock 1 ns: about delayNs rounds.
    expect(rounds >= delayNs / 2, `${rounds} rounds`).to.equal(true);
    io.deinit();
  });

  it("io.run() of a simulated IO waits for another thread's event triggers (the one wait in wall time)", async () => {
    const sim = new Simulation({ seed: 11 });
    const io = sim.io();
    const handle = io.eventOpen();
    const count = 5;
    const worker = new Worker(fixturePath('event-trigger-worker'), { workerData: { handle, count } });
    const exited = once(worker, 'exit');
    await once(worker, 'online');
    let callbacks = 0;
    const errors: unknown[] = [];
    const listen = (): void => {
      io.eventListen(handle, (error) => {
        if (error !== null) errors.push(error);
        callbacks++;
        if (callbacks < count) listen();
        worker.postMessage('ack');
      });
    };
    listen();
    io.run(); // nothing in the world can happen: it blocks until the worker's trigger
    expect(errors).to.deep.equal([]);
    expect(callbacks).to.equal(count);
    await exited;
    io.deinit();
  });

  it('rejects unknown faults, probabilities out of [0, 1], and a crash of an IO from elsewhere', () => {
    expectThrows(() => new Simulation({ faults: { nosuch: 1 } as never }), TypeError);
    expectThrows(() => new Simulation({ faults: { resetProbability: 2 } }), RangeError);
    expectThrows(() => new Simulation({ seed: -1 }), RangeError);
    const sim = new Simulation();
    const io = new IO({ backend: 'simulation' });
    expectThrows(() => sim.crash(io), TypeError);
    io.deinit();
  });

  /** Creates files `${prefix}${from}` .. `${prefix}${from + count - 1}` (opened at once, then closed), in the world of `io`. */
  function createFiles(io: IO, prefix: string, from: number, count: number): void {
    const opens: Outcome[] = [];
    for (let i = 0; i < count; i++) opens.push(submit((callback) => io.open(`${prefix}${from + i}`, 'w', undefined, callback)));
    runUntil(io, () => opens.every((o) => o.done), 'the opens');
    const closes = opens.map((o, i) => {
      expect(o.error, `open of file ${from + i}`).to.equal(null);
      return submit((callback) => io.close(o.result, callback));
    });
    runUntil(io, () => closes.every((c) => c.done), 'the closes');
  }

  /** Files and Unix socket paths one simulated world holds at once (sim_disk.h kFilesMax). */
  const FILES_MAX = 65_536;

  it('reuses the slot of a file nothing reaches any more: more files come and go than the world holds at once', function () {
    this.timeout(60_000);
    // Creating one more than FILES_MAX live files gets ENOSPC (an inode table); a removed file's slot is reused.
    const sim = new Simulation({ seed: 5 });
    const io = sim.io();
    const BATCH = 512;
    let made = 0;
    while (made < FILES_MAX + 2 * BATCH) {
      createFiles(io, '/f/', made, BATCH);
      for (let i = 0; i < BATCH; i++) expect(sim.unlink(`/f/${made + i}`)).to.equal(true);
      made += BATCH;
    }
    expect(made).to.be.above(FILES_MAX);
    io.deinit();
  });

  it('creating a file past the files the world holds fails with ENOSPC, and works again once one is removed', function () {
    this.timeout(60_000);
    const sim = new Simulation({ seed: 6 });
    const io = sim.io();
    const BATCH = 1024;
    for (let made = 0; made < FILES_MAX; made += BATCH) createFiles(io, '/g/', made, BATCH);
    expectIOError(fail(io, 'the open past the limit', (callback) => io.open('/g/one-more', 'w', undefined, callback)), 'ENOSPC', 'open');
    expect(sim.exists('/g/one-more')).to.equal(false);
    // A Unix socket path is a file too: binding one fails the same way, and leaves nothing behind.
    expectIOError(expectThrows(() => io.listenUnix('/g/socket'), Error), 'ENOSPC', 'listen');
    expect(sim.exists('/g/socket')).to.equal(false);
    // An existing file still opens; a removed one makes room.
    const existing = submit((callback) => io.open('/g/7', 'r', undefined, callback));
    expect(sim.unlink('/g/0')).to.equal(true);
    const again = submit((callback) => io.open('/g/one-more', 'w', undefined, callback));
    runUntil(io, () => existing.done && again.done, 'the opens after a removal');
    expect(existing.error).to.equal(null);
    expect(again.error).to.equal(null);
    expect(sim.exists('/g/one-more')).to.equal(true);
    io.deinit();
  });

  it('an open that finds no free fd (EMFILE) creates and truncates nothing, as the kernel takes the fd first', function () {
    this.timeout(60_000);
    const sim = new Simulation({ seed: 8 });
    const io = sim.io();
    const data = Buffer.alloc(5000, 0x33);
    const writer = succeed(io, 'the data file', (callback) => io.open('/e/data', 'w', undefined, callback));
    expect(succeed(io, 'its bytes', (callback) => io.write(writer, data, 0, callback))).to.equal(data.length);
    // Hold fds on the one file until the world has none left.
    const BATCH = 1024;
    let exhausted = false;
    for (let round = 0; round < 100 && !exhausted; round++) {
      const opens: Outcome[] = [];
      for (let i = 0; i < BATCH; i++) opens.push(submit((callback) => io.open('/e/data', 'r', undefined, callback)));
      runUntil(io, () => opens.every((o) => o.done), 'the opens');
      for (const o of opens) {
        if (o.error === null) continue;
        expectIOError(o.error, 'EMFILE', 'open');
        exhausted = true;
      }
    }
    expect(exhausted, 'the world ran out of fds').to.equal(true);
    expectIOError(fail(io, 'a new file', (callback) => io.open('/e/new', 'w', undefined, callback)), 'EMFILE', 'open');
    expect(sim.exists('/e/new')).to.equal(false);
    expectIOError(fail(io, 'a truncating open', (callback) => io.open('/e/data', 'w', undefined, callback)), 'EMFILE', 'open');
    expect(succeed(io, 'the size', (callback) => io.fileSize(writer, callback))).to.equal(data.length);
    io.deinit();
  });

  it('an unlinked file stays readable through its open fd, and goes with its last close', () => {
    const sim = new Simulation({ seed: 7 });
    const io = sim.io();
    const fd = succeed(io, 'the open', (callback) => io.open('/h/kept', 'w+', undefined, callback));
    const bytes = Buffer.alloc(10_000, 0x5a);
    expect(succeed(io, 'the write', (callback) => io.write(fd, bytes, 0, callback))).to.equal(bytes.length);
    expect(sim.unlink('/h/kept')).to.equal(true);
    expect(sim.exists('/h/kept')).to.equal(false);
    const back = Buffer.alloc(bytes.length);
    expect(succeed(io, 'the read', (callback) => io.read(fd, back, 0, callback))).to.equal(bytes.length);
    expect(back.equals(bytes)).to.equal(true);
    succeed(io, 'the close', (callback) => io.close(fd, callback));
    // A new file by the same name starts empty (it may take the freed slot).
    expectIOError(fail(io, 'the open of a missing name', (callback) => io.open('/h/kept', 'r+', undefined, callback)), 'ENOENT', 'open');
    const made = succeed(io, 'the new file', (callback) => io.open('/h/kept', 'w+', undefined, callback));
    expect(succeed(io, 'its size', (callback) => io.fileSize(made, callback))).to.equal(0);
    io.deinit();
  });
});
