// Every connection's deadline (idle, header, send, linger) in one min-heap
// per worker, with one io.timeout armed for the earliest: no timer per
// connection (uSockets sweeps its sockets from one loop timer; this is the
// same idea with the heap making each expiry exact instead of rounded to a
// sweep period, so no limit is looser than configured).
//
// Entries are re-queued lazily, as the per-connection timers were before:
// a connection whose deadline moves later (the usual case: every request
// pushes the idle deadline forward) stays where it is, and is looked at
// when its old deadline comes, then queued again for the new one. Only a
// deadline that moves earlier (a partial head: the header timeout starts)
// moves the entry. So a keep-alive request answered at once touches the
// heap not at all, and the heap wakes about once per timeout period per
// connection, not once per request.
import { performance } from 'node:perf_hooks';
import type { IO, IOError } from '../io';

/** What the queue holds: a connection. */
export interface TimeoutEntry {
  /** Position in the heap; -1 when not queued. Owned by the queue. */
  timeoutIndex: number;
  /** When the queue looks at it next (performance.now() ms). Owned by the queue. */
  timeoutAt: number;
  /** Its time came: expire if its real deadline has passed, else schedule() again. */
  onTimeout(now: number): void;
}

export class TimeoutQueue {
  private readonly heap: TimeoutEntry[] = [];
  private armed = false;
  private armedAt = Infinity;
  private armedId = 0;
  private seq = 0;
  private stopped = false;
  /** Inside onTimer's loop: arm once after it, not per re-queued entry. */
  private sweeping = false;

  constructor(private readonly io: IO) {}

  get size(): number {
    return this.heap.length;
  }

  /** Whether the entry is queued to be looked at no later than `at` (then nothing needs doing). */
  covers(entry: TimeoutEntry, at: number): boolean {
    return entry.timeoutIndex >= 0 && entry.timeoutAt <= at;
  }

  /** Queues the entry to be looked at at `at`, or moves it there. */
  schedule(entry: TimeoutEntry, at: number): void {
    const heap = this.heap;
    if (entry.timeoutIndex < 0) {
      entry.timeoutAt = at;
      entry.timeoutIndex = heap.length;
      heap.push(entry);
      this.up(entry.timeoutIndex);
    } else {
      const earlier = at < entry.timeoutAt;
      entry.timeoutAt = at;
      if (earlier) this.up(entry.timeoutIndex);
      else this.down(entry.timeoutIndex);
    }
    this.arm();
  }

  /** Takes the entry out (a closed connection). */
  remove(entry: TimeoutEntry): void {
    const i = entry.timeoutIndex;
    if (i < 0) return;
    const heap = this.heap;
    const last = heap.pop()!;
    entry.timeoutIndex = -1;
    if (last !== entry) {
      heap[i] = last;
      last.timeoutIndex = i;
      this.up(i);
      this.down(last.timeoutIndex);
    }
    // The armed timer stays: when it fires with nothing due it re-arms for
    // the new earliest entry, which is cheaper than a cancel per close.
  }

  /** Shutdown: no more timers (deinit completes the armed one). */
  stop(): void {
    this.stopped = true;
  }

  private arm(): void {
    if (this.stopped || this.sweeping || this.heap.length === 0) return;
    const at = this.heap[0].timeoutAt;
    if (this.armed) {
      if (this.armedAt <= at) return; // fires first; re-arms for the rest then
      this.io.cancel(this.armedId);
    }
    const seq = ++this.seq;
    this.armed = true;
    this.armedAt = at;
    const delayNs = Math.ceil(Math.max(0, at - performance.now()) * 1e6);
    this.armedId = this.io.timeout(delayNs, (error) => this.onTimer(seq, error));
  }

  private onTimer(seq: number, error: IOError | null): void {
    if (seq !== this.seq) return; // superseded by an earlier deadline
    this.armed = false;
    this.armedAt = Infinity;
    if (error !== null || this.stopped) return;
    const heap = this.heap;
    const now = performance.now();
    this.sweeping = true;
    try {
      while (heap.length > 0 && heap[0].timeoutAt <= now) {
        const entry = heap[0];
        this.remove(entry);
        entry.onTimeout(now);
      }
    } finally {
      this.sweeping = false;
    }
    this.arm();
  }

  private up(i: number): void {
    const heap = this.heap;
    const entry = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (p.timeoutAt <= entry.timeoutAt) break;
      heap[i] = p;
      p.timeoutIndex = i;
      i = parent;
    }
    heap[i] = entry;
    entry.timeoutIndex = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1].timeoutAt < heap[child].timeoutAt) child++;
      const c = heap[child];
      if (c.timeoutAt >= entry.timeoutAt) break;
      heap[i] = c;
      c.timeoutIndex = i;
      i = child;
    }
    heap[i] = entry;
    entry.timeoutIndex = i;
  }
}
