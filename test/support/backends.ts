// Runs a suite once per backend this machine can run: the same tests for
// epoll, io_uring, kqueue and iocp, with no change when a backend is added.
import { IO, Simulation, type IOOptions } from '../../io';

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
