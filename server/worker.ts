// One worker thread: its own IO, its listener (reuseport mode) or its fd
// ring from the accepting thread (single mode), and its connections.
//
// The IO is driven by Node's event loop (io.attach()), not by a run loop:
// the worker must also take messages from the main thread (shutdown), and
// static files use node:fs for realpath/fstat, both of which need Node's
// loop turning. A blocking run loop would starve them (it would need every
// message to come through eventTrigger instead). attach() costs one extra
// epoll_wait level per loop turn, and completions still cross into JS in
// batches.
import { connectionBuffers } from './connection-buffers';
import { parentPort, workerData } from 'node:worker_threads';
import { IO } from '../io';
import { Acceptor } from './acceptor';
import { Connection, type ConnectionHost } from './connection';
import { FdRing } from './handoff';
import type { ParserLimits } from './http/parser';
import { CannedResponse, DateClock } from './http/response';
import * as limits from './limits';
import type { ServerOptions } from './options';
import { listenFailure } from './startup-errors';
import type { RouteTable } from './routes';
import { RoundClock } from './round-clock';
import { TimeoutQueue } from './timeouts';

export interface WorkerInit {
  index: number;
  options: ServerOptions;
  /** reuseport mode: the port to listen on (0 only for the first worker). */
  port: number;
  /** reuseport mode: listen; single mode: take fds from `ring`. */
  listen: boolean;
  ring: SharedArrayBuffer | null;
  /** Canonical --root, or null. */
  root: string | null;
}

export type WorkerMessage =
  | { type: 'ready'; index: number; port: number; backend: string; event: number }
  | { type: 'error'; index: number; message: string }
  | { type: 'stopped'; index: number };

export type MainMessage = { type: 'shutdown' };

/** Pooled Connection objects kept for reuse beyond the ones in use. */
const POOL_MAX = 256;

class ServerWorker implements ConnectionHost {
  readonly parserLimits: ParserLimits;
  readonly clock = new DateClock();
  readonly routes: RouteTable;
  readonly root: string | null;
  readonly timeouts: TimeoutQueue;
  draining = false;

  private readonly roundClock = new RoundClock();
  /**
   * The connections not yet released, each at its `hostIndex`: an array
   * (a word per connection) rather than a Set (about four).
   */
  private readonly active: Connection[] = [];
  private readonly pool: Connection[] = [];
  private acceptor: Acceptor | null = null;
  private ring: FdRing | null = null;
  private event = 0;
  private listenerOpen = false;
  private finished = false;

  constructor(
    readonly io: IO,
    readonly options: ServerOptions,
    private readonly init: WorkerInit,
    private readonly post: (message: WorkerMessage) => void,
    private readonly onFinished: () => void,
  ) {
    this.root = init.root;
    this.timeouts = new TimeoutQueue(io);
    this.parserLimits = {
      maxHeaderBytes: options.maxHeaderBytes,
      maxHeaderCount: limits.MAX_HEADER_COUNT,
      maxBodyBytes: options.maxBodyBytes,
    };
    this.routes = {
      hello: new CannedResponse(200, 'text/plain', Buffer.from('Hello, World!'), this.clock),
      json: new CannedResponse(200, 'application/json', Buffer.from(JSON.stringify({ message: 'Hello, World!' })), this.clock),
      files: init.root !== null,
    };
  }

  /** Listens (or opens the handoff event); returns the port. Throws IOError on listen failure. */
  start(): number {
    const { io, options } = this;
    // The connections' shared buffers, made now (once) rather than at the first connection.
    connectionBuffers(io, this.parserLimits, limits.OUTPUT_BUFFER_BYTES);
    let port = this.init.port;
    if (this.init.listen) {
      const fd = io.listen(options.host, this.init.port, { reusePort: true });
      port = io.localAddress(fd).port;
      this.acceptor = new Acceptor(io, fd, (socket) => this.accepted(socket), (m) => this.log(m));
    } else {
      this.ring = new FdRing(this.init.ring!);
      this.event = io.eventOpen();
      this.listenEvent();
    }
    this.listenerOpen = true;
    io.attach();
    this.tickDate();
    this.acceptor?.start();
    return port;
  }

  get eventHandle(): number {
    return this.event;
  }

  // ---- Connections ---------------------------------------------------------------

  private accepted(fd: number): void {
    if (this.draining || this.active.length >= this.options.maxConnections) {
      this.io.close(fd, () => {});
      return;
    }
    const connection = this.pool.pop() ?? new Connection(this);
    connection.hostIndex = this.active.length;
    this.active.push(connection);
    connection.open(fd);
    if (this.acceptor !== null && this.active.length >= this.options.maxConnections) this.acceptor.pause();
  }

  nowMs(): number {
    return this.roundClock.nowMs();
  }

  socketClosed(): void {
    this.acceptor?.fdFreed();
  }

  released(connection: Connection): void {
    // The last one takes its place.
    const last = this.active.pop()!;
    if (last !== connection) {
      this.active[connection.hostIndex] = last;
      last.hostIndex = connection.hostIndex;
    }
    connection.hostIndex = -1;
    if (this.pool.length < POOL_MAX) this.pool.push(connection);
    if (!this.draining && this.active.length < this.options.maxConnections) this.acceptor?.resume();
    this.maybeFinish();
  }

  private listenEvent(): void {
    this.io.eventListen(this.event, (error) => {
      if (error !== null) return; // closed at shutdown
      this.listenEvent(); // first: a trigger from now on is not lost
      this.drainRing();
    });
  }

  private drainRing(): void {
    const ring = this.ring!;
    for (let fd = ring.pop(); fd >= 0; fd = ring.pop()) this.accepted(fd);
  }

  // ---- Date -------------------------------------------------------------------------

  private tickDate(): void {
    this.clock.update();
    const now = Date.now();
    const toNextSecond = 1000 - (now % 1000) + 1;
    this.io.timeout(toNextSecond * 1e6, (error) => {
      if (error === null && !this.finished) this.tickDate();
    });
  }

  // ---- Shutdown -----------------------------------------------------------------------

  shutdown(): void {
    if (this.draining) return;
    this.draining = true;
    if (this.acceptor !== null) {
      this.acceptor.stop(() => {
        this.listenerOpen = false;
        this.maybeFinish();
      });
    } else {
      this.io.eventClose(this.event);
      this.drainRing(); // sockets handed over but not yet taken: closed unserved
      this.listenerOpen = false;
    }
    for (const connection of [...this.active]) connection.drain();
    // Said after draining began: from here every response says Connection: close.
    this.log(`shutting down: ${this.active.length} connection(s) still open`);
    this.io.timeout(this.options.shutdownTimeoutMs * 1e6, (error) => {
      if (error !== null || this.finished) return;
      if (this.active.length > 0) this.log(`shutdown: closing ${this.active.length} connection(s) still busy after ${this.options.shutdownTimeoutMs} ms`);
      for (const connection of [...this.active]) connection.closeNow();
    });
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (!this.draining || this.finished || this.listenerOpen || this.active.length > 0) return;
    this.finished = true;
    this.timeouts.stop();
    // Completes the date and shutdown timers with ECANCELED (their callbacks
    // ignore that) and frees the IO; safe inside one of its callbacks.
    this.io.deinit();
    this.post({ type: 'stopped', index: this.init.index });
    this.onFinished();
  }

  log(message: string): void {
    if (!this.options.quiet) console.error(`tigerio-server[${this.init.index}]: ${message}`);
  }
}

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error('server/worker.js runs as a worker thread of server/main.js');
  const init = workerData as WorkerInit;
  const post = (message: WorkerMessage): void => port.postMessage(message);
  let io: IO;
  try {
    io = new IO({
      backend: init.options.backend ?? undefined,
      // Within IO.limits: options.ts caps --max-connections at MAX_CONNECTIONS_LIMIT.
      operationsMax: init.options.maxConnections * limits.OPERATIONS_PER_CONNECTION + limits.OPERATIONS_BESIDE_CONNECTIONS,
    });
  } catch (error) {
    post({ type: 'error', index: init.index, message: `worker ${init.index} could not make its IO: ${(error as Error).message}` });
    return;
  }
  const worker = new ServerWorker(io, init.options, init, post, () => port.close());
  let listeningPort: number;
  try {
    listeningPort = worker.start();
  } catch (error) {
    io.deinit();
    post({ type: 'error', index: init.index, message: listenFailure(init.options.host, init.port, error, true) });
    port.close();
    return;
  }
  port.on('message', (message: MainMessage) => {
    if (message.type === 'shutdown') worker.shutdown();
  });
  post({ type: 'ready', index: init.index, port: listeningPort, backend: io.backend, event: worker.eventHandle });
}

main();
