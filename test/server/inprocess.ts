// A server worker's parts run in the test's own process, on a real IO
// attached to Node's loop, so that tests can look inside: count the IO
// operations a connection submits, the timers pending, the objects reused.
import * as net from 'node:net';
import { IO, type BufferPool, type IOError, type PooledCallback } from '../../io';
import { Connection, type ConnectionHost } from '../../server/connection';
import type { ParserLimits } from '../../server/http/parser';
import { CannedResponse, DateClock } from '../../server/http/response';
import { defaultOptions, type ServerOptions } from '../../server/options';
import type { RouteTable } from '../../server/routes';
import { RoundClock } from '../../server/round-clock';
import { TimeoutQueue } from '../../server/timeouts';
import { within } from './support';

export class InProcessServer implements ConnectionHost {
  readonly io: IO;
  readonly options: ServerOptions;
  readonly parserLimits: ParserLimits;
  readonly clock = new DateClock();
  readonly routes: RouteTable;
  readonly root = null;
  readonly timeouts: TimeoutQueue;
  readonly draining = false;
  readonly connections: Connection[] = [];
  /** Sends submitted, and recvs that completed with data, per fd. */
  readonly sends = new Map<number, number>();
  readonly dataRecvs = new Map<number, number>();
  readonly port: number;
  private readonly listener: number;
  private stopped = false;
  private readonly roundClock = new RoundClock();

  constructor(overrides: Partial<ServerOptions> = {}) {
    this.io = new IO();
    this.options = { ...defaultOptions(), ...overrides };
    this.parserLimits = { maxHeaderBytes: this.options.maxHeaderBytes, maxHeaderCount: 100, maxBodyBytes: this.options.maxBodyBytes };
    this.routes = {
      hello: new CannedResponse(200, 'text/plain', Buffer.from('Hello, World!'), this.clock),
      json: new CannedResponse(200, 'application/json', Buffer.from('{"message":"Hello, World!"}'), this.clock),
      files: false,
    };
    this.timeouts = new TimeoutQueue(this.io);
    this.countOperations();
    this.listener = this.io.listen('127.0.0.1', 0);
    this.port = this.io.localAddress(this.listener).port;
    this.io.attach();
    this.accept();
  }

  /** Wraps io.send, io.recv and io.recvPooled to count, per fd, what the connections submit and receive. */
  private countOperations(): void {
    const io = this.io;
    const send = io.send.bind(io);
    const recv = io.recv.bind(io);
    const recvPooled = io.recvPooled.bind(io);
    io.recvPooled = (fd: number, pool: BufferPool, callback: PooledCallback): number =>
      recvPooled(fd, pool, (error, n, buffer) => {
        if (error === null && n > 0) this.dataRecvs.set(fd, (this.dataRecvs.get(fd) ?? 0) + 1);
        callback(error, n, buffer);
      });
    io.send = (fd: number, buffer: Uint8Array, callback: (error: IOError | null, n: number) => void): number => {
      this.sends.set(fd, (this.sends.get(fd) ?? 0) + 1);
      return send(fd, buffer, callback);
    };
    io.recv = (fd: number, buffer: Uint8Array, callback: (error: IOError | null, n: number) => void): number =>
      recv(fd, buffer, (error, n) => {
        if (error === null && n > 0) this.dataRecvs.set(fd, (this.dataRecvs.get(fd) ?? 0) + 1);
        callback(error, n);
      });
  }

  private accept(): void {
    this.io.accept(this.listener, (error, fd) => {
      if (error !== null || this.stopped) {
        if (error === null) this.io.close(fd, () => {});
        return;
      }
      const connection = new Connection(this);
      this.connections.push(connection);
      connection.open(fd);
      this.accept();
    });
  }

  nowMs(): number {
    return this.roundClock.nowMs();
  }

  socketClosed(): void {}

  released(): void {}

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // As the worker does: connections closed first (their pending ops then
    // complete with ECANCELED inside deinit, which they expect).
    for (const connection of this.connections) connection.closeNow();
    this.timeouts.stop();
    this.io.deinit();
  }
}

/** A raw client that counts complete responses to `GET /` style requests by their bodies. */
export async function rawClient(port: number): Promise<{ socket: net.Socket; received: () => string; until: (count: number, body: string) => Promise<void> }> {
  const socket = await within(
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.on('error', reject);
    }),
    10_000,
    'connect',
  );
  let data = '';
  const waiters: (() => void)[] = [];
  socket.setEncoding('latin1').on('data', (chunk: string) => {
    data += chunk;
    for (const w of waiters.splice(0)) w();
  });
  const count = (body: string): number => data.split(body).length - 1;
  return {
    socket,
    received: () => data,
    until: (n, body) =>
      within(
        new Promise<void>((resolve) => {
          const check = (): void => (count(body) >= n ? resolve() : void waiters.push(check));
          check();
        }),
        10_000,
        `${n} responses`,
      ),
  };
}
