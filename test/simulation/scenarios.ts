// Small programs run on a Simulation, for the determinism test, the fault
// tests, the server fuzz and the benchmark. Each returns what it observed;
// the callers assert. Everything a scenario does is decided by its seed.
import { IO, Simulation, type IOError, type SimulationFaults } from '../../io';

/** Faults on for the network, at rates that hit a short scenario many times. */
export const NETWORK_FAULTS: SimulationFaults = {
  networkDelayMinNs: 10_000,
  networkDelayMeanNs: 200_000,
  partialSendProbability: 0.2,
  shortRecvProbability: 0.2,
  resetProbability: 0.01,
  connectRefusedProbability: 0.05,
  connectDelayMeanNs: 1_000_000,
  acceptEmfileProbability: 0.05,
  partitionProbability: 0.01,
  partitionMinNs: 1_000_000,
  partitionMaxNs: 50_000_000,
  clogProbability: 0.02,
  clogMeanNs: 5_000_000,
  timerLateProbability: 0.1,
  timerLateMeanNs: 1_000_000,
};

/**
 * NETWORK_FAULTS, and a kernel that loses cancels: some requests lost (the
 * IO asks again 100 ms later), some operations' cancels never answered (the
 * IO gives up after about 5 s: ECANCELED, abandoned; the world answers later).
 */
export const LOST_CANCEL_FAULTS: SimulationFaults = {
  ...NETWORK_FAULTS,
  cancelLostProbability: 0.3,
  cancelIgnoredProbability: 0.3,
};

/** What one echo client saw. */
export interface EchoClient {
  sent: Buffer;
  echoed: Buffer;
  /** The error that ended it, or 'end' (the server closed), or null (it finished). */
  ending: string | null;
}

export interface EchoReport {
  trace: string;
  nowNs: number;
  clients: EchoClient[];
  /** run() ended with nothing pending. */
  idle: boolean;
}

/**
 * An echo server on one IO and `clientCount` clients on another, each
 * sending a few seeded messages and reading the echo; a server-side
 * timeout closes idle connections. Byte contents and sizes come from the seed.
 */
export function echoScenario(seed: number, faults: SimulationFaults = NETWORK_FAULTS, clientCount = 3): EchoReport {
  const sim = new Simulation({ seed, faults });
  const server = sim.io();
  const clientIO = sim.io();
  let state = seed * 2654435761 + 1;
  const random = (below: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % below;
  };
  const listener = server.listen('127.0.0.1', 0);
  const { port } = server.localAddress(listener);
  let serving = 0;
  const accept = (): void => {
    server.accept(listener, (error, fd) => {
      if (error !== null) {
        // EMFILE (a fault): back off and accept again; anything else ends the listener.
        if (error.code === 'EMFILE') server.timeout(1_000_000, accept);
        return;
      }
      serving++;
      accept();
      echo(fd);
    });
  };
  const echo = (fd: number): void => {
    const buffer = Buffer.alloc(4096);
    server.recv(fd, buffer, (error, n) => {
      if (error !== null || n === 0) return void server.close(fd, () => {});
      sendAll(server, fd, buffer.subarray(0, n), (sendError) => {
        if (sendError !== null) return void server.close(fd, () => {});
        echo(fd);
      });
    });
  };
  accept();
  const clients: EchoClient[] = [];
  let finished = 0;
  for (let c = 0; c < clientCount; c++) {
    const message = Buffer.alloc(1 + random(20_000));
    for (let i = 0; i < message.length; i++) message[i] = random(256);
    const client: EchoClient = { sent: message, echoed: Buffer.alloc(0), ending: null };
    clients.push(client);
    const fd = clientIO.socket('ipv4');
    let ended = false;
    // The first ending counts: the close then cancels the client's other op.
    const done = (ending: string | null): void => {
      if (ended) return;
      ended = true;
      client.ending = ending;
      clientIO.close(fd, () => {
        if (++finished === clientCount) server.close(listener, () => {});
      });
    };
    clientIO.connect(fd, '127.0.0.1', port, (error) => {
      if (error !== null) return done(error.code);
      sendAll(clientIO, fd, message, (sendError) => {
        if (sendError !== null) return done(sendError.code);
      });
      const chunks: Buffer[] = [];
      let received = 0;
      const read = (): void => {
        const buffer = Buffer.alloc(1 + random(8192));
        clientIO.recv(fd, buffer, (recvError, n) => {
          if (recvError !== null) return done(recvError.code);
          if (n === 0) return done('end');
          chunks.push(buffer.subarray(0, n));
          received += n;
          client.echoed = Buffer.concat(chunks);
          if (received >= message.length) return done(null);
          read();
        });
      };
      read();
    });
  }
  const idle = sim.run();
  const report = { trace: sim.trace, nowNs: sim.nowNs, clients, idle };
  void serving;
  server.deinit();
  clientIO.deinit();
  return report;
}

/** Sends all of `data`, resubmitting after partial sends; `done` gets the first error or null. */
export function sendAll(io: IO, fd: number, data: Uint8Array, done: (error: IOError | null) => void): void {
  io.send(fd, data, (error, n) => {
    if (error !== null) return done(error);
    if (n === data.length) return done(null);
    sendAll(io, fd, data.subarray(n), done);
  });
}

/** What the mixed-sockets scenario observed: the trace, and what each channel delivered. */
export interface MixedSocketsReport {
  trace: string;
  nowNs: number;
  /** Indices of the datagrams received, in arrival order. */
  datagrams: number[];
  /** Bytes that came over the Unix socket, and over TCP by sendFile. */
  unixBytes: number;
  fileBytes: number;
  idle: boolean;
}

/**
 * Datagrams, a Unix socket and sendFile between two IOs under network faults plus UDP's:
 * 50 datagrams, an echo over a Unix socket, and a file sent by sendFile.
 * Everything is decided by the seed (test/windows/run.sh compares its
 * traces across OSes, as the echo scenario's).
 */
export function mixedSocketsScenario(seed: number): MixedSocketsReport {
  const sim = new Simulation({
    seed,
    faults: { ...NETWORK_FAULTS, resetProbability: 0, connectRefusedProbability: 0, datagramLossProbability: 0.1, datagramDuplicateProbability: 0.05 },
  });
  const a = sim.io();
  const b = sim.io();
  const report: MixedSocketsReport = { trace: '', nowNs: 0, datagrams: [], unixBytes: 0, fileBytes: 0, idle: false };
  // UDP: b receives what a sends, until a closes the receiver after a while.
  const receiver = b.udpSocket('ipv4');
  b.bind(receiver, '127.0.0.1', 0);
  const port = b.localAddress(receiver).port;
  const sender = a.udpSocket('ipv4');
  const inbox = new Uint8Array(16);
  const from = b.addressBuffer();
  const next = (): void => {
    b.recvFrom(receiver, inbox, from, (error, size) => {
      if (error !== null) return;
      report.datagrams.push(Buffer.from(inbox.buffer, inbox.byteOffset, size).readUInt32LE(0));
      next();
    });
  };
  next();
  for (let i = 0; i < 50; i++) {
    const datagram = Buffer.alloc(4);
    datagram.writeUInt32LE(i, 0);
    a.sendTo(sender, datagram, '127.0.0.1', port, () => {});
  }
  b.timeout(100_000_000, (error) => {
    if (error === null) b.close(receiver, () => {});
  });
  // Unix: a connects to b's socket and sends 100 KiB.
  const listener = b.listenUnix(`/tmp/scenario-${seed}.sock`);
  const acceptUnix = (): void => {
    b.accept(listener, (error, fd) => {
      if (error !== null) return void (error.code === 'EMFILE' && b.timeout(1_000, acceptUnix)); // the fault: try again
      const buffer = Buffer.alloc(65536);
      const recv = (): void => {
        b.recv(fd, buffer, (error, n) => {
          if (error?.code === 'ECANCELED') return;
          if (error !== null || n === 0) return void b.close(fd, () => b.close(listener, () => {}));
          report.unixBytes += n;
          recv();
        });
      };
      recv();
    });
  };
  acceptUnix();
  const unix = a.socket('unix');
  a.connectUnix(unix, `/tmp/scenario-${seed}.sock`, (error) => {
    if (error !== null) return;
    sendAll(a, unix, Buffer.alloc(100 << 10, 0x75), (error) => {
      if (error?.code !== 'ECANCELED') a.close(unix, () => {});
    });
  });
  // sendFile: b writes a file and sends it to a over TCP.
  const content = Buffer.alloc(200 << 10, 0x66);
  const tcp = b.listen('127.0.0.1', 0);
  b.open('/srv/scenario', 'w+', undefined, (error, file) => {
    if (error !== null) return;
    b.write(file, content, 0, (error) => {
      if (error !== null) return;
      const acceptTcp = (): void => void b.accept(tcp, (error, fd) => {
        if (error !== null) return void (error.code === 'EMFILE' && b.timeout(1_000, acceptTcp));
        let offset = 0;
        const send = (): void => {
          b.sendFile(fd, file, offset, content.length - offset, (error, n) => {
            if (error?.code === 'ECANCELED') return;
            if (error === null && n > 0 && (offset += n) < content.length) return send();
            b.close(fd, () => b.close(file, () => b.close(tcp, () => {})));
          });
        };
        send();
      });
      acceptTcp();
    });
  });
  const client = a.socket('ipv4');
  a.connect(client, '127.0.0.1', b.localAddress(tcp).port, (error) => {
    if (error !== null) return;
    const buffer = Buffer.alloc(65536);
    const recv = (): void => {
      a.recv(client, buffer, (error, n) => {
        if (error?.code === 'ECANCELED') return;
        if (error !== null || n === 0) return void a.close(client, () => {});
        report.fileBytes += n;
        recv();
      });
    };
    recv();
  });
  report.idle = sim.run();
  report.trace = sim.trace;
  report.nowNs = sim.nowNs;
  a.deinit();
  b.deinit();
  return report;
}
