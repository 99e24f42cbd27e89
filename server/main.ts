// CLI entry: flags, --help, worker threads, signals, the startup line.
//
// The main thread only supervises: it starts the workers, prints where the
// server listens, and turns SIGINT/SIGTERM into a graceful shutdown. In
// --accept-mode single (the default where SO_REUSEPORT does not balance:
// macOS, Windows) it also accepts, handing each socket to a worker through
// an fd ring and IO.eventTrigger (see handoff.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { IO } from '../io';
import { Acceptor } from './acceptor';
import { FdRing } from './handoff';
import * as limits from './limits';
import { helpText, parseArgs, UsageError, type ServerOptions } from './options';
import { listenFailure, rootFailure } from './startup-errors';
import type { MainMessage, WorkerInit, WorkerMessage } from './worker';

const NAME = 'tigerio-server';
const STARTUP_TIMEOUT_MS = 15_000;
/** After the workers' own shutdown deadline, how long the main thread waits before giving up on them. */
const SHUTDOWN_GRACE_MS = 3_000;
const RING_CAPACITY = 4096;

interface WorkerHandle {
  worker: Worker;
  index: number;
  ring: FdRing | null;
  event: number;
  exited: boolean;
}

/** Prints and exits: status 2 for a bad command line (with a pointer to --help), 1 for anything else. */
function fail(message: string, status = 1): never {
  if (status === 2 && !message.includes('--help')) message += "\nTry '--help'.";
  process.stderr.write(`${NAME}: ${message}\n`);
  process.exit(status);
}

function readOptions(): ServerOptions {
  try {
    const parsed = parseArgs(process.argv.slice(2));
    if (parsed.help) {
      process.stdout.write(helpText());
      process.exit(0);
    }
    return parsed.options;
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, 2);
    throw error;
  }
}

function canonicalRoot(root: string | null): string | null {
  if (root === null) return null;
  let real: string;
  try {
    real = fs.realpathSync.native(path.resolve(root));
  } catch (error) {
    fail(rootFailure(root, (error as NodeJS.ErrnoException).code ?? (error as Error).message), 2);
  }
  if (!fs.statSync(real).isDirectory()) fail(rootFailure(root, null), 2);
  return real;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

class Supervisor {
  private readonly workers: WorkerHandle[] = [];
  private acceptor: Acceptor | null = null;
  private io: IO | null = null;
  private next = 0;
  private stopping = false;
  private backend = '';

  constructor(
    private readonly options: ServerOptions,
    private readonly root: string | null,
  ) {}

  async start(): Promise<void> {
    const options = this.options;
    const startupTimer = setTimeout(
      () => fail(`the workers did not start within ${STARTUP_TIMEOUT_MS / 1000} s; try fewer --threads, or a less loaded machine`),
      STARTUP_TIMEOUT_MS,
    );
    let port: number;
    if (options.acceptMode === 'reuseport') {
      // The first worker binds (port 0: the kernel picks), the others join its port.
      const first = await this.spawn(0, options.port, true);
      port = first.port;
      const rest = [];
      for (let i = 1; i < options.threads; i++) rest.push(this.spawn(i, port, true));
      await Promise.all(rest);
    } else {
      const io = new IO({ backend: options.backend ?? undefined });
      this.io = io;
      let fd: number;
      try {
        fd = io.listen(options.host, options.port);
      } catch (error) {
        fail(listenFailure(options.host, options.port, error, false));
      }
      port = io.localAddress(fd).port;
      const spawned = [];
      for (let i = 0; i < options.threads; i++) spawned.push(this.spawn(i, 0, false));
      await Promise.all(spawned);
      io.attach();
      this.acceptor = new Acceptor(io, fd, (socket) => this.handOff(socket), (m) => this.log(m));
      this.acceptor.start();
    }
    clearTimeout(startupTimer);
    // process.on, not io.signal: Node's loop turns on this thread (every IO
    // here is attached), and one shutdown, with one deadline, is coordinated
    // from here across the workers (server/README.md "Shutdown").
    process.on('SIGINT', () => this.shutdown('SIGINT'));
    process.on('SIGTERM', () => this.shutdown('SIGTERM'));
    process.stdout.write(
      `${NAME} listening on http://${hostForUrl(options.host)}:${port} ` +
        `(backend ${this.backend}, ${options.threads} thread${options.threads === 1 ? '' : 's'}, accept ${options.acceptMode}` +
        `${this.root === null ? '' : `, root ${this.root}`})\n`,
    );
  }

  private spawn(index: number, port: number, listen: boolean): Promise<{ port: number }> {
    const ring = listen ? null : FdRing.create(RING_CAPACITY);
    const init: WorkerInit = { index, options: this.options, port, listen, ring: ring?.shared ?? null, root: this.root };
    const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: limits.YOUNG_GENERATION_MB } });
    const handle: WorkerHandle = { worker, index, ring, event: 0, exited: false };
    this.workers.push(handle);
    return new Promise((resolve) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          handle.event = message.event;
          this.backend = message.backend;
          resolve({ port: message.port });
        } else if (message.type === 'error') {
          fail(message.message);
        }
      });
      worker.on('error', (error) => {
        process.stderr.write(`${NAME}: worker ${index} failed: ${error.stack ?? error.message}\n`);
        this.abort();
      });
      worker.on('exit', (code) => {
        handle.exited = true;
        if (!this.stopping) {
          process.stderr.write(`${NAME}: worker ${index} exited unexpectedly (code ${code})\n`);
          this.abort();
        }
        if (this.workers.every((w) => w.exited)) this.finish();
      });
    });
  }

  /** single mode: the next worker (round robin) takes the socket; the acceptor never touches it. */
  private handOff(fd: number): void {
    const count = this.workers.length;
    for (let tries = 0; tries < count; tries++) {
      const handle = this.workers[this.next];
      this.next = (this.next + 1) % count;
      if (!handle.exited && handle.ring!.push(fd)) {
        IO.eventTrigger(handle.event);
        return;
      }
    }
    this.io!.close(fd, () => {}); // every worker's ring is full: shed the connection
  }

  private shutdown(signal: string): void {
    if (this.stopping) {
      process.stderr.write(`${NAME}: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    this.stopping = true;
    this.log(`${signal}: shutting down (in-flight requests get ${this.options.shutdownTimeoutMs} ms)`);
    this.acceptor?.stop(() => {});
    for (const handle of this.workers) handle.worker.postMessage({ type: 'shutdown' } satisfies MainMessage);
    setTimeout(() => {
      process.stderr.write(`${NAME}: workers did not stop in time, exiting\n`);
      process.exit(1);
    }, this.options.shutdownTimeoutMs + SHUTDOWN_GRACE_MS).unref();
  }

  private abort(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const handle of this.workers) void handle.worker.terminate();
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 1000).unref();
  }

  private finish(): void {
    // The acceptor's IO (single mode) is not deinit()ed: it would close
    // every fd number it ever accepted, and those now belong to nobody or,
    // worse, to someone else (see the report on fd ownership). The process
    // ends here anyway.
    process.exit(process.exitCode ?? 0);
  }

  private log(message: string): void {
    if (!this.options.quiet) process.stderr.write(`${NAME}: ${message}\n`);
  }
}

function main(): void {
  const options = readOptions();
  if (options.backend !== null && !IO.backends().includes(options.backend)) {
    fail(`--backend ${options.backend} is not available here; available: ${IO.backends().join(', ')}`, 2);
  }
  const root = canonicalRoot(options.root);
  new Supervisor(options, root).start().catch((error: Error) => fail(error.stack ?? error.message));
}

main();
