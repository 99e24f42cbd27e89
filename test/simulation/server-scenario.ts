// The sample server (server/connection.ts and server/acceptor.ts, through
// their exported classes) on a simulated world with faults, against seeded
// HTTP clients. The server's own clock (performance.now) is pointed at the
// world's virtual clock for the run, so its timeouts are virtual too and a
// seed replays the run exactly. Checks: every request gets a complete,
// correct response in order, or its connection ends; nothing hangs; once
// the clients are done and the server drained, nothing is pending and no fd
// is open (no leaked slot, timer or fd).
import { connectionBuffers } from '../../server/connection-buffers';
import { performance } from 'node:perf_hooks';
import { IO, Simulation, type SimulationFaults } from '../../io';
import { Acceptor } from '../../server/acceptor';
import { Connection, type ConnectionHost } from '../../server/connection';
import { TimeoutQueue } from '../../server/timeouts';
import { CannedResponse, DateClock } from '../../server/http/response';
import * as limits from '../../server/limits';
import { defaultOptions } from '../../server/options';
import { NETWORK_FAULTS, sendAll } from './scenarios';

/** A client gives up after this long without finishing: with these faults only a hang takes it. */
const CLIENT_DEADLINE_NS = 120e9;
const CONNECT_ATTEMPTS = 4;

interface Expected {
  status: number;
  body: Buffer;
}

export interface ServerReport {
  seed: number;
  trace: string;
  requests: number;
  answered: number;
  /** Connections that ended (reset, refused, closed) before every answer came. */
  endedEarly: number;
  violations: string[];
}

/** The replay command for a seed (with LOST_CANCEL_FAULTS when `lostCancels`). */
export function replayCommand(seed: number, lostCancels = false): string {
  return `node dist/test/simulation/server-main.js --seed ${seed} --seeds 1${lostCancels ? ' --lost-cancels' : ''}`;
}

export function serverScenario(seed: number, faults: SimulationFaults = NETWORK_FAULTS, clientCount = 4): ServerReport {
  const sim = new Simulation({ seed, faults });
  const ownNow = Object.getOwnPropertyDescriptor(performance, 'now');
  Object.defineProperty(performance, 'now', { value: () => sim.nowNs / 1e6, configurable: true, writable: true });
  try {
    return run(sim, seed, clientCount);
  } finally {
    if (ownNow === undefined) delete (performance as { now?: unknown }).now;
    else Object.defineProperty(performance, 'now', ownNow);
  }
}

function run(sim: Simulation, seed: number, clientCount: number): ServerReport {
  const violations: string[] = [];
  const io = sim.io();
  const clock = new DateClock();
  clock.update(0); // a fixed Date header: the response bytes depend on the seed alone
  const options = { ...defaultOptions(), quiet: true };
  const active = new Set<Connection>();
  let acceptor: Acceptor | null = null;
  let draining = false;
  const host: ConnectionHost = {
    io,
    options,
    parserLimits: { maxHeaderBytes: options.maxHeaderBytes, maxHeaderCount: limits.MAX_HEADER_COUNT, maxBodyBytes: options.maxBodyBytes },
    clock,
    routes: {
      hello: new CannedResponse(200, 'text/plain', Buffer.from('Hello, World!'), clock),
      json: new CannedResponse(200, 'application/json', Buffer.from(JSON.stringify({ message: 'Hello, World!' })), clock),
      files: false,
    },
    timeouts: new TimeoutQueue(io),
    root: null,
    get draining() {
      return draining;
    },
    // The world's virtual clock, read fresh: the whole run is one JS call, so
    // a clock that refreshes between event-loop rounds (the worker's) would stand still.
    nowMs: () => performance.now(),
    socketClosed: () => acceptor?.fdFreed(),
    released: (connection) => void active.delete(connection),
  };
  // A receive pool of 1 to 3 buffers for 4 clients: receives completed in
  // one harvest outnumber it, so seeds run it empty (a receive then waits
  // for a buffer, losing nothing).
  connectionBuffers(io, host.parserLimits, limits.OUTPUT_BUFFER_BYTES, 1 + (seed % 3));
  const listener = io.listen('127.0.0.1', 0);
  const { port } = io.localAddress(listener);
  acceptor = new Acceptor(io, listener, (fd) => {
    const connection = new Connection(host);
    active.add(connection);
    connection.open(fd);
  }, () => {});
  acceptor.start();

  let state = (seed * 2654435761 + 7) % 2147483648;
  const random = (below: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % below;
  };
  const clients = sim.io();
  let requests = 0;
  let answered = 0;
  let endedEarly = 0;
  let finished = 0;
  for (let c = 0; c < clientCount; c++) {
    const { wire, expected } = makeRequests(random);
    requests += expected.length;
    runClient(sim, clients, port, wire, expected, (got, ended, failure) => {
      answered += got;
      if (failure !== null) violations.push(`client ${c}: ${failure}`);
      else if (got < expected.length && !ended) violations.push(`client ${c}: ${got} of ${expected.length} answers and the connection did not end`);
      if (got < expected.length) endedEarly++;
      finished++;
    });
  }
  sim.run();
  if (finished !== clientCount) violations.push(`${clientCount - finished} clients never finished (a hang)`);
  // Drain the server: stop accepting, close idle connections; the rest end by their timeouts.
  draining = true;
  acceptor.stop(() => {});
  for (const connection of active) connection.drain();
  const idle = sim.run();
  if (!idle) violations.push(`the server did not wind down: ${sim.pending} operations pending`);
  if (active.size !== 0) violations.push(`${active.size} connections never released`);
  if (io.pending !== 0 || clients.pending !== 0) violations.push(`operations pending: server ${io.pending}, clients ${clients.pending}`);
  if (sim.openFds !== 0) violations.push(`${sim.openFds} fds left open`);
  // Abandoned operations (a cancel never answered) were all answered late, when their socket closed.
  if (sim.cancelsIgnored !== 0 || sim.abandonedOperations !== 0) {
    violations.push(`the world still holds ${sim.cancelsIgnored} operations whose cancels it ignored; ${sim.abandonedOperations} abandoned ones not freed`);
  }
  const trace = sim.trace;
  io.deinit();
  clients.deinit();
  return { seed, trace, requests, answered, endedEarly, violations };
}

/** 1-6 pipelined requests of the four kinds, the last with `Connection: close` half the time. */
function makeRequests(random: (below: number) => number): { wire: Buffer; expected: Expected[] } {
  const parts: Buffer[] = [];
  const expected: Expected[] = [];
  const count = 1 + random(6);
  for (let i = 0; i < count; i++) {
    const close = i === count - 1 && random(2) === 0 ? 'Connection: close\r\n' : '';
    switch (random(4)) {
      case 0:
        parts.push(Buffer.from(`GET / HTTP/1.1\r\nHost: sim\r\n${close}\r\n`));
        expected.push({ status: 200, body: Buffer.from('Hello, World!') });
        break;
      case 1:
        parts.push(Buffer.from(`GET /json HTTP/1.1\r\nHost: sim\r\n${close}\r\n`));
        expected.push({ status: 200, body: Buffer.from(JSON.stringify({ message: 'Hello, World!' })) });
        break;
      case 2: {
        const body = Buffer.alloc(random(30_000));
        for (let b = 0; b < body.length; b++) body[b] = random(256);
        parts.push(Buffer.from(`POST /echo HTTP/1.1\r\nHost: sim\r\nContent-Length: ${body.length}\r\n${close}\r\n`), body);
        expected.push({ status: 200, body });
        break;
      }
      default:
        parts.push(Buffer.from(`GET /nothing-here HTTP/1.1\r\nHost: sim\r\n${close}\r\n`));
        expected.push({ status: 404, body: Buffer.from('Not Found\n') });
    }
  }
  return { wire: Buffer.concat(parts), expected };
}

/**
 * Connects (retrying refusals), sends the pipelined requests, reads until
 * every answer came or the connection ended. `done(answers, ended, failure)`:
 * failure is a wrong or malformed answer, or the deadline (a hang).
 */
function runClient(sim: Simulation, io: IO, port: number, wire: Buffer, expected: Expected[],
  done: (answers: number, ended: boolean, failure: string | null) => void): void {
  let fd = -1;
  let finished = false;
  let received = Buffer.alloc(0);
  let answers = 0;
  let deadline = -1;
  const finish = (ended: boolean, failure: string | null): void => {
    if (finished) return;
    finished = true;
    if (deadline >= 0) io.cancel(deadline);
    io.close(fd, () => done(answers, ended, failure));
  };
  const attempt = (tries: number): void => {
    fd = io.socket('ipv4');
    io.connect(fd, '127.0.0.1', port, (error) => {
      if (error !== null) {
        io.close(fd, () => {});
        if (tries + 1 < CONNECT_ATTEMPTS) return void io.timeout(1_000_000, () => attempt(tries + 1));
        finished = true;
        return done(0, true, null);
      }
      deadline = io.timeout(CLIENT_DEADLINE_NS, (timeoutError) => {
        if (timeoutError === null) finish(false, `no answer after ${CLIENT_DEADLINE_NS / 1e9} s of virtual time (a hang)`);
      });
      sendAll(io, fd, wire, () => {});
      read();
    });
  };
  const read = (): void => {
    const buffer = Buffer.alloc(16 * 1024);
    io.recv(fd, buffer, (error, n) => {
      if (finished) return;
      if (error !== null || n === 0) return finish(true, null);
      received = Buffer.concat([received, buffer.subarray(0, n)]);
      const failure = consume();
      if (failure !== null) return finish(false, failure);
      if (answers === expected.length) return finish(false, null);
      read();
    });
  };
  // Takes every complete response off `received` and checks it against the request it answers.
  const consume = (): string | null => {
    for (;;) {
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd < 0) return null;
      const head = received.toString('latin1', 0, headEnd);
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(head);
      const length = /\r\ncontent-length: (\d+)/i.exec(head);
      if (status === null || length === null) return `answer ${answers}: malformed head ${JSON.stringify(head.slice(0, 80))}`;
      const bodyEnd = headEnd + 4 + Number(length[1]);
      if (received.length < bodyEnd) return null;
      const want = expected[answers];
      if (want === undefined) return `an answer nobody asked for: ${JSON.stringify(head.slice(0, 80))}`;
      const body = received.subarray(headEnd + 4, bodyEnd);
      if (Number(status[1]) !== want.status || !body.equals(want.body)) {
        return `answer ${answers}: status ${status[1]}, ${body.length} body bytes; wanted ${want.status}, ${want.body.length}`;
      }
      answers++;
      received = received.subarray(bodyEnd);
    }
  };
  void sim;
  attempt(0);
}
