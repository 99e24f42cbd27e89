// Runs a suite once per backend this machine can run: the same tests for
// epoll, io_uring, kqueue and iocp, with no change when a backend is added.
import * as fs from 'node:fs';
import { IO, Simulation, type IOOptions } from '../../io';
import { runUntil, succeed } from './run';

/** Creates the IOs of one test and deinitializes all of them after it, so no fd or operation leaks into the next test. */
export class IOScope {
  private readonly ios: IO[] = [];
  /** On 'simulation': the world the IOs of the current test share, as processes share a kernel. */
  private world: Simulation | null = null;

  constructor(readonly backend: string) {}

  /** True on the simulation backend (a test about the OS itself skips there, saying why). */
  get simulated(): boolean {
    return this.backend === 'simulation';
  }

  /** The simulated world of the current test (made on first use). */
  private simulation(): Simulation {
    this.world ??= new Simulation({ seed: 0 });
    return this.world;
  }

  /** The clock this scope's timeouts run on: the monotonic clock, or the simulation's virtual one. */
  nowNs(): bigint {
    return this.simulated ? BigInt(this.simulation().nowNs) : process.hrtime.bigint();
  }

  /**
   * Synchronous work that takes `ns` while no IO is driven: a busy loop on
   * a real clock; on the simulation, its clock moved forward (virtual time
   * passes only when something moves it).
   */
  busyWaitNs(ns: number): void {
    if (this.simulated) {
      this.simulation().advanceNs(ns);
      return;
    }
    const until = process.hrtime.bigint() + BigInt(ns);
    while (process.hrtime.bigint() < until) {
      // Synchronous work: the IO is not driven meanwhile.
    }
  }

  /**
   * `signal` reaches `io` as if another process had sent it: on a real
   * backend process.kill of this very process (POSIX only: Windows cannot
   * send a signal, see signalsCanBeSent); on the simulation, its world's
   * Simulation.signal.
   */
  sendSignal(io: IO, signal: NodeJS.Signals): void {
    if (this.simulated) {
      this.simulation().signal(io, signal);
    } else {
      process.kill(process.pid, signal);
    }
  }

  /** False on Windows: no process can send another a signal there (process.kill terminates it). */
  get signalsCanBeSent(): boolean {
    return this.simulated || process.platform !== 'win32';
  }

  /** A new IO on this scope's backend; deinitialized after the current test. */
  create(options: Omit<IOOptions, 'backend'> = {}): IO {
    let io: IO;
    if (this.simulated) {
      io = this.simulation().io(options);
    } else {
      io = new IO({ ...options, backend: this.backend });
    }
    this.ios.push(io);
    return io;
  }

  // ---- The machine's files, or the simulated world's --------------------------
  // A simulated world has a file namespace of its own (files and Unix socket
  // paths): a test that prepares or inspects files goes through these, so
  // that it runs unchanged on every backend.

  /** Writes `bytes` to the file at `path` (node:fs; on the simulation, through `io` into its world). */
  writeFile(io: IO, path: string, bytes: Uint8Array): void {
    if (!this.simulated) {
      fs.writeFileSync(path, bytes);
      return;
    }
    const fd = succeed(io, 'open for writeFile', (cb) => io.open(path, 'w', undefined, cb));
    let written = 0;
    while (written < bytes.byteLength) {
      written += succeed(io, 'write for writeFile', (cb) => io.write(fd, bytes.subarray(written), written, cb));
    }
    succeed(io, 'close for writeFile', (cb) => io.close(fd, cb));
  }

  /** The bytes of the file at `path`. */
  readFile(io: IO, path: string): Buffer {
    if (!this.simulated) return fs.readFileSync(path);
    const fd = succeed(io, 'open for readFile', (cb) => io.open(path, 'r', undefined, cb));
    let size = -1;
    io.fileSize(fd, (error, result) => {
      if (error !== null) throw error;
      size = result;
    });
    runUntil(io, () => size >= 0, 'fileSize for readFile');
    const bytes = Buffer.alloc(size);
    let read = 0;
    while (read < size) read += succeed(io, 'read for readFile', (cb) => io.read(fd, bytes.subarray(read), read, cb));
    succeed(io, 'close for readFile', (cb) => io.close(fd, cb));
    return bytes;
  }

  /** True if something (a file, a Unix socket) is at `path`. */
  exists(path: string): boolean {
    return this.simulated ? this.simulation().exists(path) : fs.existsSync(path);
  }

  /** Removes what is at `path`; throws if nothing is. */
  unlink(path: string): void {
    if (!this.simulated) {
      fs.unlinkSync(path);
    } else if (!this.simulation().unlink(path)) {
      throw new Error(`ENOENT: nothing at ${path} in the simulated world`);
    }
  }

  /**
   * Closes `fd` behind the back of the IO that made it (rule 9): node:fs on
   * a real machine; on the simulation, another IO of the same world closes
   * it (a world's fds are its own).
   */
  closeBehindBack(fd: number): void {
    if (!this.simulated) {
      fs.closeSync(fd);
      return;
    }
    const other = this.create();
    succeed(other, 'close behind the back', (cb) => other.close(fd, cb));
  }

  /**
   * Deinitializes every IO created since the last call; rethrows the first
   * failure after all are done, unless `quiet` (the test failed already:
   * its leftover callbacks may throw, and a failing hook would make mocha
   * skip the rest of the suite).
   */
  deinitAll(quiet = false): void {
    let failure: unknown = null;
    this.world = null;
    for (const io of this.ios.splice(0)) {
      try {
        io.deinit();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== null && !quiet) throw failure;
  }
}

/**
 * `describe(backend, () => describe(title, body))` for every backend in
 * `IO.backends()`. The body gets an {@link IOScope} whose IOs are
 * deinitialized in `afterEach`.
 */
export function forEachBackend(title: string, body: (scope: IOScope) => void): void {
  for (const backend of IO.backends()) {
    describe(backend, () => {
      describe(title, () => {
        const scope = new IOScope(backend);
        afterEach(function () {
          scope.deinitAll(this.currentTest?.state === 'failed');
        });
        body(scope);
      });
    });
  }
}
