// The clock timeouts are stamped with at their call. Internal.
//
// A timeout's deadline is the time of its call plus its delay (contract
// rule 8), but the submission reaches the native layer only at the next
// flush: so JS stamps the call. performance.now() and the native clock
// (std::chrono::steady_clock) both read the OS's monotonic clock, from
// different origins; the offset between them is measured once per IO, as
// an upper bound (so that no deadline is ever early, by at most the cost of
// one native call), and every deadline of the IO is shifted by the same
// offset, which keeps them in the order of their calls.
import { performance } from 'node:perf_hooks';
import type { NativeIO } from './native';

// node:perf_hooks' object, not the global: in Node 20 the global `performance`
// is a lazy accessor, and reading it costs a slow global load per call.

const SAMPLES = 16;

/** Now, on JavaScript's monotonic clock, in ns. */
export function jsNowNs(): number {
  return performance.now() * 1e6;
}

/** The native clock minus JS's, in ns: the smallest upper bound of SAMPLES measurements. */
export function clockOffsetNs(native: NativeIO): number {
  let offset = Infinity;
  for (let i = 0; i < SAMPLES; i++) {
    const before = jsNowNs();
    const candidate = native.clock() - before; // the native read came after `before`
    if (candidate < offset) offset = candidate;
  }
  return Math.ceil(offset);
}
