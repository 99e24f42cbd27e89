// The buffers of abandoned operations. An operation whose kernel never
// answered its cancel (native/core/loop.h: asked again every 100 ms, given
// up after about 5 s) completes with ECANCELED while the kernel may still
// write into its buffer: that buffer must then never be collected and
// reused. They are kept here, for the life of the process: the kernel says
// when it is done only to the native layer, and this happens only when a
// kernel breaks its word, so a few buffers kept for good cost nothing. Internal.

const kept: unknown[] = [];

/** Keeps `side` (an operation's buffer, or whatever it held) reachable until the process exits. */
export function keepAbandoned(side: unknown): void {
  if (side !== undefined) kept.push(side);
}

/** True if `side` is kept for an abandoned operation (for tests). */
export function isKeptAbandoned(side: unknown): boolean {
  return kept.includes(side);
}

