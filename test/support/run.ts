// Driving an IO in tests: every wait is bounded, so a bug fails with a clear
// message instead of hanging the suite. The bounds are hang guards, not
// timing assertions: a correct backend finishes far inside them.
import type { IO, IOError, OperationId } from '../../io';

export interface RunLimits {
  /** Most runForNs() steps before giving up. Default 5,000. */
  stepsMax?: number;
  /** Nanoseconds of one step. Default 1 ms. */
  stepNs?: number;
}

/** Runs `io` in runForNs steps until `done()` holds; throws after `stepsMax` steps. */
export function runUntil(io: IO, done: () => boolean, what: string, limits: RunLimits = {}): void {
  const stepsMax = limits.stepsMax ?? 5_000;
  const stepNs = limits.stepNs ?? 1_000_000;
  for (let step = 0; !done(); step++) {
    if (step >= stepsMax) {
      throw new Error(`runUntil: gave up waiting for ${what} after ${stepsMax} steps of runForNs(${stepNs}); io.pending = ${io.pending}`);
    }
    io.runForNs(stepNs);
  }
}

/** Runs until no operation is pending, bounded (unlike io.run()). */
export function runUntilIdle(io: IO, what: string, limits: RunLimits = {}): void {
  runUntil(io, () => io.pending === 0, what, limits);
}

/** What one operation's callback got, and how often it was called. */
export class Outcome {
  calls = 0;
  error: IOError | null = null;
  result = -1;
  /** True if the callback ran while the submitting call was still on the stack. */
  ranInsideSubmit = false;
  id: OperationId = -1;

  get done(): boolean {
    return this.calls > 0;
  }
}

/**
 * Submits one operation with a recording callback. The callback never throws
 * (it records), so a failed expectation shows up in the test, not in tick().
 */
export function submit(start: (callback: (error: IOError | null, result: number) => void) => OperationId): Outcome {
  const outcome = new Outcome();
  let submitting = true;
  outcome.id = start((error, result) => {
    outcome.calls++;
    outcome.error = error;
    outcome.result = result;
    if (submitting) outcome.ranInsideSubmit = true;
  });
  submitting = false;
  return outcome;
}

/** Submits one operation and runs `io` until its callback ran. */
export function complete(
  io: IO,
  what: string,
  start: (callback: (error: IOError | null, result: number) => void) => OperationId,
  limits?: RunLimits,
): Outcome {
  const outcome = submit(start);
  runUntil(io, () => outcome.done, what, limits);
  return outcome;
}

/** Like {@link complete}, and throws unless the operation succeeded; returns its result. */
export function succeed(
  io: IO,
  what: string,
  start: (callback: (error: IOError | null, result: number) => void) => OperationId,
  limits?: RunLimits,
): number {
  const outcome = complete(io, what, start, limits);
  if (outcome.error !== null) {
    throw new Error(`${what}: expected success, got ${outcome.error.code} (${outcome.error.message})`);
  }
  return outcome.result;
}

/** Like {@link complete}, and throws unless the operation failed; returns its error. */
export function fail(
  io: IO,
  what: string,
  start: (callback: (error: IOError | null, result: number) => void) => OperationId,
  limits?: RunLimits,
): IOError {
  const outcome = complete(io, what, start, limits);
  if (outcome.error === null) throw new Error(`${what}: expected an error, got result ${outcome.result}`);
  return outcome.error;
}
