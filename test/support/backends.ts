// Runs a suite once per backend this machine can run: the same tests for
// epoll, io_uring, kqueue and iocp, with no change when a backend is added.
import { IO, type IOOptions } from '../../io';

/** Creates the IOs of one test and deinitializes all of them after it, so no fd or operation leaks into the next test. */
export class IOScope {
  private readonly ios: IO[] = [];

  constructor(readonly backend: string) {}

  /** A new IO on this scope's backend; deinitialized after the current test. */
  create(options: Omit<IOOptions, 'backend'> = {}): IO {
    const io = new IO({ ...options, backend: this.backend });
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
