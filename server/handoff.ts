// Handing accepted sockets from the accepting thread to a worker, for
// --accept-mode single (the default where the kernel does not balance
// SO_REUSEPORT: macOS, Windows). One single-producer single-consumer ring
// of fds per worker in a SharedArrayBuffer; after pushing, the acceptor
// wakes the worker's IO with IO.eventTrigger() (the IO's cross-thread
// wake-up, which works whether the worker's IO is attached or in a run
// loop; no structured clone per connection as a postMessage would cost).
//
// IOCP associates a socket with one completion port for good: the accepting
// thread therefore never submits an operation on an accepted socket, so the
// worker's IO is the first and only port it joins.

const HEAD = 0; // next slot to read (consumer)
const TAIL = 1; // next slot to write (producer)
const HEADER = 2;

export class FdRing {
  private readonly words: Int32Array;
  private readonly capacity: number;
  private readonly mask: number;

  constructor(readonly shared: SharedArrayBuffer) {
    this.words = new Int32Array(shared);
    this.capacity = this.words.length - HEADER;
    this.mask = this.capacity - 1;
    if (this.capacity < 1 || (this.capacity & this.mask) !== 0) throw new RangeError('FdRing capacity must be a power of two');
  }

  /** A ring of `capacity` (a power of two) fds. Counters wrap as int32; the mask keeps indexes right. */
  static create(capacity: number): FdRing {
    return new FdRing(new SharedArrayBuffer((capacity + HEADER) * 4));
  }

  /** Producer side. False when full. */
  push(fd: number): boolean {
    const words = this.words;
    const tail = Atomics.load(words, TAIL);
    if (((tail - Atomics.load(words, HEAD)) | 0) >= this.capacity) return false;
    words[HEADER + (tail & this.mask)] = fd;
    Atomics.store(words, TAIL, tail + 1); // publishes the slot
    return true;
  }

  /** Consumer side. -1 when empty. */
  pop(): number {
    const words = this.words;
    const head = Atomics.load(words, HEAD);
    if (head === Atomics.load(words, TAIL)) return -1;
    const fd = words[HEADER + (head & this.mask)];
    Atomics.store(words, HEAD, head + 1);
    return fd;
  }
}
