// Each fault of the simulation does what it says, drawn from the seed, and
// none breaks TCP's guarantees (bytes in order, none lost or duplicated
// inside a connection that goes on). Counts, not timings: every check is on
// results, errors, bytes and the virtual clock.
import { expect } from 'chai';
import { IO, Simulation, type SimulationFaults } from '../../io';
import { expectIOError } from '../support/assertions';
import { submit, succeed } from '../support/run';
import { echoScenario, sendAll } from './scenarios';

/** A world with a listener on one IO and a connected client on another. */
function pair(faults: SimulationFaults, seed = 1): { sim: Simulation; server: IO; client: IO; serverFd: number; clientFd: number } {
  const sim = new Simulation({ seed, faults });
  const server = sim.io();
  const client = sim.io();
  const listener = server.listen('127.0.0.1', 0);
  const { port } = server.localAddress(listener);
  let serverFd = -1;
  const accept = (): void => {
    server.accept(listener, (error, fd) => {
      if (error !== null) return void server.timeout(1_000, accept);
      serverFd = fd;
    });
  };
  accept();
  const clientFd = client.socket('ipv4');
  let connected = false;
  const connect = (): void => {
    client.connect(clientFd, '127.0.0.1', port, (error) => {
      if (error === null) connected = true;
    });
  };
  connect();
  sim.run();
  if (!connected || serverFd < 0) throw new Error('pair: no connection');
  return { sim, server, client, serverFd, clientFd };
}

/** Moves `size` seeded bytes from client to server; returns the send and recv results and the bytes. */
function transfer(faults: SimulationFaults, size: number, seed = 1) {
  const { sim, server, client, serverFd, clientFd } = pair(faults, seed);
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + seed) & 0xff;
  const sends: number[] = [];
  const recvs: number[] = [];
  const send = (offset: number): void => {
    if (offset === size) return;
    client.send(clientFd, data.subarray(offset), (error, n) => {
      if (error !== null) return;
      sends.push(n);
      send(offset + n);
    });
  };
  send(0);
  const received = Buffer.alloc(size);
  let at = 0;
  const recv = (): void => {
    server.recv(serverFd, received.subarray(at, Math.min(size, at + 65536)), (error, n) => {
      if (error !== null || n === 0) return;
      recvs.push(n);
      at += n;
      if (at < size) recv();
    });
  };
  recv();
  sim.run();
  const report = { sends, recvs, data, received: received.subarray(0, at), nowNs: sim.nowNs };
  server.deinit();
  client.deinit();
  return report;
}

describe('simulation: faults', () => {
  it('are all off by default: 1 MiB goes in whole sends and recvs at once, at virtual time 0', () => {
    const report = transfer({}, 1 << 20);
    expect(report.received.equals(report.data)).to.equal(true);
    expect(report.sends).to.deep.equal([1 << 20]);
    expect(report.recvs.every((n) => n === 65536)).to.equal(true);
    expect(report.nowNs).to.equal(0);
  });

  it('partial sends and short recvs: many partial results, the stream intact and in order', () => {
    let partialSends = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const report = transfer({ partialSendProbability: 0.5, shortRecvProbability: 0.5 }, 1 << 20, seed);
      expect(report.received.equals(report.data), `seed ${seed}`).to.equal(true);
      partialSends += report.sends.length - 1;
      expect(report.recvs.filter((n) => n < 65536).length).to.be.greaterThan(report.recvs.length / 4);
    }
    expect(partialSends).to.be.greaterThan(0);
  });

  it('network delay: the bytes arrive no earlier than the least delay, in order', () => {
    const report = transfer({ networkDelayMinNs: 5_000_000, networkDelayMeanNs: 1_000_000, partialSendProbability: 0.3 }, 200_000);
    expect(report.received.equals(report.data)).to.equal(true);
    // The connect (one way) and the data (one way) each took at least the minimum.
    expect(report.nowNs).to.be.at.least(10_000_000);
  });

  it('partitions and clogging delay delivery but never lose or reorder a byte', () => {
    const faults = { partitionProbability: 0.2, partitionMinNs: 10_000_000, partitionMaxNs: 100_000_000, clogProbability: 0.2, clogMeanNs: 20_000_000, partialSendProbability: 0.5 };
    let delayed = 0;
    for (let seed = 1; seed <= 5; seed++) {
      const report = transfer(faults, 300_000, seed);
      expect(report.received.equals(report.data), `seed ${seed}`).to.equal(true);
      if (report.nowNs >= 10_000_000) delayed++;
    }
    expect(delayed).to.be.greaterThan(0);
  });

  it('refused connects: ECONNREFUSED though something listens', () => {
    const sim = new Simulation({ seed: 3, faults: { connectRefusedProbability: 1 } });
    const io = sim.io();
    const listener = io.listen('127.0.0.1', 0);
    const fd = io.socket('ipv4');
    const connect = submit((callback) => io.connect(fd, '127.0.0.1', io.localAddress(listener).port, callback));
    sim.run();
    expectIOError(connect.error, 'ECONNREFUSED', 'connect');
    io.deinit();
  });

  it('slow connects: the connect completes later on the virtual clock', () => {
    const sim = new Simulation({ seed: 4, faults: { connectDelayMeanNs: 1_000_000_000 } });
    const io = sim.io();
    const listener = io.listen('127.0.0.1', 0);
    const fd = io.socket('ipv4');
    const connect = submit((callback) => io.connect(fd, '127.0.0.1', io.localAddress(listener).port, callback));
    io.accept(listener, () => {});
    sim.run();
    expect(connect.error).to.equal(null);
    expect(sim.nowNs).to.be.greaterThan(0);
    io.deinit();
  });

  it('accept EMFILE: the callback gets EMFILE, and the connection stays queued for the next accept', () => {
    const sim = new Simulation({ seed: 5, faults: { acceptEmfileProbability: 0.7 } });
    const io = sim.io();
    const listener = io.listen('127.0.0.1', 0);
    const fd = io.socket('ipv4');
    io.connect(fd, '127.0.0.1', io.localAddress(listener).port, () => {});
    const errors: string[] = [];
    let accepted = -1;
    const accept = (): void => {
      io.accept(listener, (error, socket) => {
        if (error !== null) {
          errors.push(error.code);
          return accept();
        }
        accepted = socket;
      });
    };
    accept();
    sim.run();
    expect(errors.length).to.be.greaterThan(0);
    expect(new Set(errors)).to.deep.equal(new Set(['EMFILE']));
    expect(accepted).to.be.at.least(0);
    io.deinit();
  });

  it('resets mid-stream: both ends see ECONNRESET, and what arrived before is a prefix of what was sent', () => {
    let resets = 0;
    for (let seed = 0; seed < 20; seed++) {
      const report = echoScenario(seed, { resetProbability: 0.2, partialSendProbability: 0.5 }, 2);
      for (const client of report.clients) {
        expect(client.sent.subarray(0, client.echoed.length).equals(client.echoed), `seed ${seed}`).to.equal(true);
        if (client.ending === 'ECONNRESET' || client.ending === 'EPIPE') resets++;
        else expect([null, 'end'], `seed ${seed}: ${client.ending}`).to.include(client.ending);
      }
    }
    expect(resets).to.be.greaterThan(0);
  });

  it('disk: EIO on reads and writes at the set rates, and latency on the virtual clock', () => {
    const sim = new Simulation({ seed: 6, faults: { readErrorProbability: 0.3, writeErrorProbability: 0.3, diskLatencyMinNs: 100_000, diskLatencyMeanNs: 50_000 } });
    const io = sim.io();
    const fd = succeed(io, 'open', (callback) => io.open('/data', 'w+', undefined, callback));
    const codes = { ok: 0, EIO: 0 };
    for (let i = 0; i < 50; i++) {
      const write = submit((callback) => io.write(fd, Buffer.from([i]), i, callback));
      const read = submit((callback) => io.read(fd, Buffer.alloc(1), i, callback));
      sim.run();
      for (const op of [write, read]) {
        if (op.error === null) codes.ok++;
        else {
          expect(op.error.code).to.equal('EIO');
          codes.EIO++;
        }
      }
    }
    expect(codes.EIO).to.be.greaterThan(10);
    expect(codes.ok).to.be.greaterThan(10);
    expect(sim.nowNs).to.be.at.least(100 * 100_000);
    io.deinit();
  });

  it('a failed sync (the close of a written file) leaves the writes un-synced: a crash may then lose them', () => {
    const sim = new Simulation({ seed: 7, faults: { syncErrorProbability: 1, crashLostSectorProbability: 1 } });
    const io = sim.io();
    const fd = succeed(io, 'open', (callback) => io.open('/wal', 'w', undefined, callback));
    succeed(io, 'write', (callback) => io.write(fd, Buffer.alloc(1024, 7), 0, callback));
    const close = submit((callback) => io.close(fd, callback));
    sim.run();
    expectIOError(close.error, 'EIO', 'close');
    sim.crash(io);
    const after = sim.io();
    const reader = succeed(after, 'open', (callback) => after.open('/wal', 'r', undefined, callback));
    expect(succeed(after, 'read', (callback) => after.read(reader, Buffer.alloc(1024), 0, callback))).to.equal(0);
    after.deinit();
  });

  it('torn writes: with half the sectors lost, a crash keeps some sectors of a write and loses others', () => {
    const sim = new Simulation({ seed: 8, faults: { crashLostSectorProbability: 0.5 } });
    const io = sim.io();
    const fd = succeed(io, 'open', (callback) => io.open('/table', 'w', undefined, callback));
    succeed(io, 'write', (callback) => io.write(fd, Buffer.alloc(64 * 512, 0xab), 0, callback));
    sim.crash(io);
    const after = sim.io();
    const reader = succeed(after, 'open', (callback) => after.open('/table', 'r', undefined, callback));
    const buffer = Buffer.alloc(64 * 512);
    const n = succeed(after, 'read', (callback) => after.read(reader, buffer, 0, callback));
    let kept = 0;
    for (let sector = 0; sector * 512 < n; sector++) {
      const bytes = buffer.subarray(sector * 512, (sector + 1) * 512);
      // A sector is all new or all old (zeros): tears fall on sector boundaries.
      expect(bytes.every((b) => b === 0xab) || bytes.every((b) => b === 0), `sector ${sector}`).to.equal(true);
      if (bytes[0] === 0xab) kept++;
    }
    expect(kept).to.be.greaterThan(0);
    expect(kept).to.be.lessThan(64);
    after.deinit();
  });

  it('timers fire late at the set rate, never early', () => {
    const sim = new Simulation({ seed: 9, faults: { timerLateProbability: 1, timerLateMeanNs: 10_000_000 } });
    const io = sim.io();
    let late = 0;
    for (let i = 0; i < 20; i++) {
      const start = sim.nowNs;
      const timeout = submit((callback) => io.timeout(1_000_000, callback));
      sim.run();
      expect(timeout.calls).to.equal(1);
      expect(sim.nowNs - start).to.be.at.least(1_000_000);
      if (sim.nowNs - start > 1_000_000) late++;
    }
    expect(late).to.be.greaterThan(10);
    io.deinit();
  });

  it('sendAll under every network fault at once delivers every byte in order or ends the connection', () => {
    for (let seed = 0; seed < 20; seed++) {
      const report = echoScenario(seed, undefined, 4);
      for (const client of report.clients) {
        expect(client.sent.subarray(0, client.echoed.length).equals(client.echoed), `seed ${seed}`).to.equal(true);
      }
    }
    void sendAll;
  });
});
