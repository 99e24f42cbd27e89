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
