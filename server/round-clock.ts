// The time a connection stamps its activity with, read once per round of
// the event loop instead of once per stamp (libuv's uv_now() is the same
// idea). Under wrk the sample server stamped three times per request, and
// those clock reads were 7% of its user time.
//
// The first read in a round reads performance.now() and queues a microtask
// that forgets it; Node runs microtasks after every callback it makes into
// JS, so the next round reads the clock again. A stamp is therefore at
// most one round old and never ahead of the clock: deadlines computed from
// it come no later than with a fresh read, so no timeout gets looser.
import { performance } from 'node:perf_hooks';

export class RoundClock {
  private cachedMs = -1;
  private readonly forget = (): void => {
    this.cachedMs = -1;
  };

  /** performance.now() as of this round's first read. */
  nowMs(): number {
    if (this.cachedMs < 0) {
      this.cachedMs = performance.now();
      queueMicrotask(this.forget);
    }
    return this.cachedMs;
  }
}
