// Datagrams, Unix sockets and sendFile in the simulated world, where faults matter: UDP
// keeps only UDP's promises (datagrams lost, duplicated, reordered, each
// drawn from the seed, so a seed replays exactly which), Unix sockets cross
// no network (no network fault touches them), and sendFile reads the
// world's disk (its faults apply). Counts and bytes, never timings.
import { expect } from 'chai';
import { IO, Simulation, type SimulationFaults } from '../../io';
import { expectIOError, expectThrows } from '../support/assertions';
import { complete, succeed } from '../support/run';
import { mixedSocketsScenario } from './scenarios';

const ROUNDS = 10;
const PER_ROUND = 100; // 100 small datagrams fit a receive buffer: only the faults lose any

interface Campaign {
  /** The index carried by each datagram received, in arrival order. */
  received: number[];
  trace: string;
  nowNs: number;
}

/**
 * One IO sends ROUNDS x PER_ROUND numbered datagrams to another over UDP;
 * after each round the world runs until nothing more can arrive.
 */
function udpCampaign(seed: number, faults: SimulationFaults): Campaign {
  const sim = new Simulation({ seed, faults });
  const sender = sim.io();
  const receiver = sim.io();
  const from = sender.udpSocket('ipv4');
  sender.bind(from, '127.0.0.1', 0);
  const to = receiver.udpSocket('ipv4');
  receiver.bind(to, '127.0.0.1', 0);
  const { port } = receiver.localAddress(to);
  const senderPort = sender.localAddress(from).port;
  const received: number[] = [];
  const inbox = new Uint8Array(64);
  const address = receiver.addressBuffer();
  const next = (): void => {
    receiver.recvFrom(to, inbox, address, (error, size) => {
      if (error !== null) {
        expectIOError(error, 'ECANCELED', 'recvFrom');
        return;
      }
      expect(size, 'a datagram arrives whole').to.equal(8);
      expect(IO.addressPort(address)).to.equal(senderPort);
      received.push(Buffer.from(inbox.buffer, inbox.byteOffset, size).readUInt32LE(0));
      next();
    });
  };
  next();
  const outbox = Buffer.alloc(ROUNDS * PER_ROUND * 8);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < PER_ROUND; k++) {
      const i = round * PER_ROUND + k;
      outbox.writeUInt32LE(i, i * 8);
      sender.sendTo(from, outbox.subarray(i * 8, i * 8 + 8), '127.0.0.1', port, (error, sent) => {
        // A datagram the network loses was still sent, whole: UDP never tells.
        expect(error).to.equal(null);
        expect(sent).to.equal(8);
      });
    }
    // Every send completes and every datagram that will arrive arrives; the recvFrom waits on.
    expect(sim.run(), 'only the recvFrom is left, waiting').to.equal(false);
    expect(sim.pending).to.equal(1);
  }
  const result = { received, trace: sim.trace, nowNs: sim.nowNs };
  sender.deinit();
  receiver.deinit();
  return result;
}

const TOTAL = ROUNDS * PER_ROUND;

describe('simulation: datagrams, Unix sockets and sendFile', () => {
  it('delivers every datagram once, in order, with every fault off', () => {
    const run = udpCampaign(1, {});
    expect(run.received).to.deep.equal(Array.from({ length: TOTAL }, (_, i) => i));
    expect(run.nowNs).to.equal(0);
  });

  it('loses datagrams under datagramLossProbability: the same ones for a seed, others for another seed', () => {
    const lostBySeed: number[][] = [];
    for (const seed of [1, 2, 3]) {
      const first = udpCampaign(seed, { datagramLossProbability: 0.1 });
      const again = udpCampaign(seed, { datagramLossProbability: 0.1 });
      expect(again.received, `seed ${seed} replays exactly which datagrams arrive`).to.deep.equal(first.received);
      expect(again.trace).to.equal(first.trace);
      // What arrives is in order, each once, and some (not all) are lost.
      for (let i = 1; i < first.received.length; i++) expect(first.received[i]).to.be.greaterThan(first.received[i - 1]);
      const arrived = new Set(first.received);
      const lost = Array.from({ length: TOTAL }, (_, i) => i).filter((i) => !arrived.has(i));
      expect(lost.length, `seed ${seed}: about a tenth is lost`).to.be.within(20, 250);
      lostBySeed.push(lost);
    }
    expect(lostBySeed[0]).to.not.deep.equal(lostBySeed[1]);
    expect(lostBySeed[1]).to.not.deep.equal(lostBySeed[2]);
  });

  it('duplicates datagrams under datagramDuplicateProbability, each at most twice, none lost', () => {
    const run = udpCampaign(7, { datagramDuplicateProbability: 0.2 });
    const counts = new Map<number, number>();
    for (const i of run.received) counts.set(i, (counts.get(i) ?? 0) + 1);
    expect(counts.size, 'every datagram arrives').to.equal(TOTAL);
    const twice = [...counts.values()].filter((n) => n === 2).length;
    expect([...counts.values()].every((n) => n === 1 || n === 2)).to.equal(true);
    expect(twice).to.be.within(50, 400);
    expect(run.received.length).to.equal(TOTAL + twice);
    expect(udpCampaign(7, { datagramDuplicateProbability: 0.2 }).received).to.deep.equal(run.received);
  });

  it('reorders datagrams under random delays (each its own), losing none, replayed by the seed', () => {
    const run = udpCampaign(3, { networkDelayMeanNs: 100_000 });
    expect([...run.received].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: TOTAL }, (_, i) => i));
    const inversions = run.received.filter((value, i) => i > 0 && value < run.received[i - 1]).length;
    expect(inversions, 'some datagrams overtook others').to.be.greaterThan(0);
    expect(run.nowNs).to.be.greaterThan(0);
    expect(udpCampaign(3, { networkDelayMeanNs: 100_000 }).received).to.deep.equal(run.received);
  });

  it('loses the datagrams a partition cuts off, where a TCP segment would wait for the heal', () => {
    const faults = { partitionProbability: 1, partitionMinNs: 1_000_000_000, partitionMaxNs: 1_000_000_000 };
    const run = udpCampaign(5, faults);
    expect(run.received).to.deep.equal([]);
  });

  it('reports ECONNREFUSED to a connected sender between two IOs, and never to an unconnected one', () => {
    const sim = new Simulation({ seed: 4, faults: { networkDelayMeanNs: 50_000 } });
    const a = sim.io();
    const b = sim.io();
    const nobody = b.udpSocket('ipv4');
    b.bind(nobody, '127.0.0.1', 0);
    const port = b.localAddress(nobody).port;
    succeed(b, 'close', (cb) => b.close(nobody, cb));
    const unconnected = a.udpSocket('ipv4');
    succeed(a, 'sendTo', (cb) => a.sendTo(unconnected, Buffer.from('x'), '127.0.0.1', port, cb));
    const connected = a.udpSocket('ipv4');
    succeed(a, 'connect', (cb) => a.connect(connected, '127.0.0.1', port, cb));
    succeed(a, 'send', (cb) => a.send(connected, Buffer.from('y'), cb));
    const refused = complete(a, 'recv', (cb) => a.recv(connected, Buffer.alloc(8), cb));
    expectIOError(refused.error, 'ECONNREFUSED', 'recv');
    // Reported once (SO_ERROR): the next send goes.
    expect(succeed(a, 'send', (cb) => a.send(connected, Buffer.from('z'), cb))).to.equal(1);
    let pending = true;
    a.recvFrom(unconnected, Buffer.alloc(8), a.addressBuffer(), (error) => {
      expectIOError(error, 'ECANCELED', 'recvFrom');
      pending = false;
    });
    expect(sim.run(), 'the unconnected socket hears nothing').to.equal(false);
    a.deinit();
    b.deinit();
    expect(pending).to.equal(false);
  });

  it('moves Unix socket bytes between two IOs untouched by network faults', () => {
    const faults = {
      networkDelayMeanNs: 10_000_000,
      resetProbability: 1,
      partitionProbability: 1,
      partitionMinNs: 1_000_000_000,
      partitionMaxNs: 1_000_000_000,
      connectRefusedProbability: 1,
    };
    const sim = new Simulation({ seed: 9, faults });
    const server = sim.io();
    const client = sim.io();
    const listener = server.listenUnix('/run/app.sock');
    let accepted = -1;
    server.accept(listener, (error, fd) => {
      expect(error).to.equal(null);
      accepted = fd;
    });
    const fd = client.socket('unix');
    succeed(client, 'connectUnix', (cb) => client.connectUnix(fd, '/run/app.sock', cb));
    sim.run();
    expect(accepted).to.be.greaterThan(0);
    const startNs = sim.nowNs;
    const data = Buffer.alloc(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const received = Buffer.alloc(data.length);
    let sent = 0;
    let got = 0;
    const send = (): void => {
      client.send(fd, data.subarray(sent), (error, n) => {
        expect(error).to.equal(null);
        sent += n;
        if (sent < data.length) send();
      });
    };
    const recv = (): void => {
      server.recv(accepted, received.subarray(got), (error, n) => {
        expect(error).to.equal(null);
        got += n;
        if (got < data.length && n > 0) recv();
      });
    };
    send();
    recv();
    expect(sim.run()).to.equal(true);
    expect(received.equals(data)).to.equal(true);
    expect(sim.nowNs, 'no network delay: a Unix socket is local').to.equal(startNs);
    server.deinit();
    client.deinit();
  });

  it('keeps Unix socket paths in the world file namespace: stale files, ENXIO on open, unlink', () => {
    const sim = new Simulation({ seed: 2 });
    const io = sim.io();
    const behind = sim.io();
    const listener = io.listenUnix('/tmp/s.sock');
    expect(sim.exists('/tmp/s.sock')).to.equal(true);
    const opened = complete(io, 'open of a socket', (cb) => io.open('/tmp/s.sock', 'r', undefined, cb));
    expectIOError(opened.error, 'ENXIO', 'open');
    // Closed behind the IO's back (another IO of the world): the socket file stays, stale.
    succeed(behind, 'close', (cb) => behind.close(listener, cb));
    expect(sim.exists('/tmp/s.sock')).to.equal(true);
    expectIOError(expectThrows(() => io.listenUnix('/tmp/s.sock'), Error), 'EADDRINUSE', 'listen');
    const refused = complete(io, 'connectUnix', (cb) => io.connectUnix(io.socket('unix'), '/tmp/s.sock', cb));
    expectIOError(refused.error, 'ECONNREFUSED', 'connectUnix');
    expect(sim.unlink('/tmp/s.sock')).to.equal(true);
    expect(sim.unlink('/tmp/s.sock')).to.equal(false);
    const again = io.listenUnix('/tmp/s.sock');
    succeed(io, 'close', (cb) => io.close(again, cb));
    expect(sim.exists('/tmp/s.sock'), 'the IO that bound it removes it at close').to.equal(false);
    if (process.platform === 'linux') {
      // The abstract namespace is apart from the files and gone with its socket.
      const abstract = io.listenUnix('\0sim-abstract');
      expect(sim.exists('\0sim-abstract')).to.equal(false);
      expectIOError(expectThrows(() => io.listenUnix('\0sim-abstract'), Error), 'EADDRINUSE', 'listen');
      succeed(io, 'close', (cb) => io.close(abstract, cb));
      const gone = complete(io, 'connectUnix', (cb) => io.connectUnix(io.socket('unix'), '\0sim-abstract', cb));
      expectIOError(gone.error, 'ECONNREFUSED', 'connectUnix');
    }
    io.deinit();
    behind.deinit();
  });

  it('sends a file from the world disk through partial sends, and fails with EIO under read faults', () => {
    const run = (seed: number, faults: SimulationFaults): { bytes: Buffer; error: string | null; trace: string } => {
      const sim = new Simulation({ seed, faults });
      const server = sim.io();
      const client = sim.io();
      const content = Buffer.alloc(300_000);
      for (let i = 0; i < content.length; i++) content[i] = (i * 13 + seed) & 0xff;
      const file = succeed(server, 'open', (cb) => server.open('/srv/file', 'w+', undefined, cb));
      succeed(server, 'write', (cb) => server.write(file, content, 0, cb));
      const listener = server.listen('127.0.0.1', 0);
      let socket = -1;
      server.accept(listener, (error, fd) => {
        expect(error).to.equal(null);
        socket = fd;
      });
      const fd = client.socket('ipv4');
      succeed(client, 'connect', (cb) => client.connect(fd, '127.0.0.1', server.localAddress(listener).port, cb));
      sim.run();
      let offset = 0;
      let error: string | null = null;
      const next = (): void => {
        server.sendFile(socket, file, offset, content.length - offset, (failure, n) => {
          if (failure !== null) {
            error = failure.code;
            return;
          }
          offset += n;
          if (offset < content.length && n > 0) next();
          else server.close(socket, () => {});
        });
      };
      next();
      const received: Buffer[] = [];
      const recv = (): void => {
        const chunk = Buffer.alloc(65536);
        client.recv(fd, chunk, (failure, n) => {
          if (failure !== null || n === 0) return;
          received.push(chunk.subarray(0, n));
          recv();
        });
      };
      recv();
      sim.run();
      const bytes = Buffer.concat(received);
      const trace = sim.trace;
      server.deinit();
      client.deinit();
      if (error === null) expect(bytes.equals(content)).to.equal(true);
      return { bytes, error, trace };
    };
    const partial = { partialSendProbability: 0.3, shortRecvProbability: 0.3, networkDelayMeanNs: 20_000 };
    const first = run(11, partial);
    expect(first.error).to.equal(null);
    expect(run(11, partial).trace).to.equal(first.trace);
    const faulty = run(11, { readErrorProbability: 1 });
    expect(faulty.error).to.equal('EIO');
    expect(faulty.bytes.length).to.equal(0);
  });

  it('replays a UDP run under delays, loss, duplication and partial sends exactly, seed by seed', () => {
    const faults: SimulationFaults = {
      networkDelayMeanNs: 30_000,
      datagramLossProbability: 0.05,
      datagramDuplicateProbability: 0.05,
      partialSendProbability: 0.1,
    };
    const traces = new Set<string>();
    for (let seed = 0; seed < 10; seed++) {
      const a = udpCampaign(seed, faults);
      const b = udpCampaign(seed, faults);
      expect(b.trace, `seed ${seed}`).to.equal(a.trace);
      expect(b.received).to.deep.equal(a.received);
      traces.add(a.trace);
    }
    expect(traces.size).to.equal(10);
  });

  it('runs the mixed-sockets scenario (UDP, Unix socket, sendFile under faults) twice per seed: equal traces, and streams whole', () => {
    const traces = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      const first = mixedSocketsScenario(seed);
      const again = mixedSocketsScenario(seed);
      const replay = `replay: node -e "console.log(require('./dist/test/simulation/scenarios').mixedSocketsScenario(${seed}))"`;
      expect(again.trace, `seed ${seed} (${replay})`).to.equal(first.trace);
      expect(again.datagrams).to.deep.equal(first.datagrams);
      expect(first.idle, `seed ${seed}: operations left pending (${replay})`).to.equal(true);
      // Streams keep their guarantees under the faults; datagrams only UDP's.
      expect(first.unixBytes, `seed ${seed}`).to.equal(100 << 10);
      expect(first.fileBytes, `seed ${seed}`).to.equal(200 << 10);
      expect(first.datagrams.every((i) => i >= 0 && i < 50)).to.equal(true);
      traces.add(first.trace);
    }
    expect(traces.size).to.equal(30);
  });
});
