// Buffer pools for recvPooled: a receive whose buffer is chosen when data
// arrives, so that a connection with nothing to read holds no buffer. The
// memory is one ArrayBuffer made once, at creation; each buffer is a view
// of it made once too, so that a completion hands one over without
// allocating. Who has a buffer is kept natively (native/core/buffer_pools.h):
// the pool (free), or the caller (from the completion that filled it until
// `release`). This side knows which buffers the caller holds too, so that
// `release` checks them itself and gives the buffer back through the
// submission queue (the next flush), with no native call per buffer.
import { binding, type NativeIO } from './native';
import { deinitializedError } from './errors';
import { checkInteger, describe } from './validate';

const POOL_BUFFERS_MAX = binding.layout.poolBuffersMax;

/** The size of a buffer pool: see {@link IO.bufferPool}. */
export interface BufferPoolOptions {
  /** Buffers in the pool: 1 to 32,768. Every buffer the callers hold at once comes from it. */
  count: number;
  /** Bytes per buffer: 1 to the IO's `bufferSizeMax`. A receive reads at most this much. */
  size: number;
}

/**
 * Receive buffers one IO lends to {@link IO.recvPooled} when data arrives.
 * A buffer is the pool's until a completion hands it over, then the
 * caller's until {@link BufferPool.release}; nothing else writes it. When
 * every buffer is lent, pooled receives wait (their data stays in the
 * socket) until one comes back.
 */
export class BufferPool {
  /** Buffers in the pool. */
  readonly count: number;
  /** Bytes per buffer. */
  readonly size: number;
  /** Buffer `i` as a view of `size` bytes, the same object each time (a completion names it). */
  readonly buffers: readonly Uint8Array[];
  /** @internal */
  readonly owner: object;
  /** @internal */
  readonly id: number;
  private readonly memory: ArrayBuffer;
  private readonly native: () => NativeIO | null;
  /** Queues the give-back of buffer `index` for the native side (io.ts). */
  private readonly submitRelease: (id: number, index: number) => void;
  /** Per buffer: 1 while the caller holds it. */
  private readonly held: Uint8Array;
  private lent = 0;

  /** @internal Made by {@link IO.bufferPool}. */
  constructor(
    owner: object,
    native: () => NativeIO | null,
    submitRelease: (id: number, index: number) => void,
    options: BufferPoolOptions,
    bufferSizeMax: number,
  ) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`tigerio: bufferPool takes { count, size }, got ${describe(options)}`);
    }
    const count = checkInteger('count', options.count, 1, POOL_BUFFERS_MAX);
    const size = checkInteger('size', options.size, 1, bufferSizeMax);
    const io = native();
    if (io === null) throw deinitializedError('bufferPool');
    this.owner = owner;
    this.native = native;
    this.submitRelease = submitRelease;
    this.count = count;
    this.held = new Uint8Array(count);
    this.size = size;
    this.memory = new ArrayBuffer(count * size);
    this.id = io.poolCreate(this.memory, count, size);
    const buffers: Uint8Array[] = new Array(count);
    for (let i = 0; i < count; i++) buffers[i] = new Uint8Array(this.memory, i * size, size);
    this.buffers = buffers;
  }

  /** Buffers the callers hold now (handed over by a completion and not yet released). */
  get lentCount(): number {
    return this.lent;
  }

  /**
   * Gives a buffer back to the pool: one a pooled receive handed over (or a
   * view of it starting at its first byte), or its index. Throws, and
   * changes nothing, for a buffer given back twice or one of another pool.
   */
  release(buffer: Uint8Array | number): void {
    const native = this.native();
    if (native === null) throw deinitializedError('release');
    const index = typeof buffer === 'number' ? this.checkIndex(buffer) : this.indexOf(buffer);
    if (this.held[index] === 0) {
      const error = new RangeError(`tigerio: buffer ${index} of this pool is not lent to the caller: given back twice, or never received into`);
      (error as RangeError & { code: string }).code = 'ERR_BUFFER_NOT_LENT';
      throw error;
    }
    this.held[index] = 0;
    this.lent--;
    this.submitRelease(this.id, index);
  }

  /** @internal A completion handed buffer `index` over. */
  lend(index: number): Uint8Array {
    this.held[index] = 1;
    this.lent++;
    return this.buffers[index];
  }

  private checkIndex(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new RangeError(`tigerio: a buffer index of this pool is an integer 0..${this.count - 1}, got ${describe(index)}`);
    }
    return index;
  }

  private indexOf(buffer: Uint8Array): number {
    if (!(buffer instanceof Uint8Array)) {
      throw new TypeError(`tigerio: release takes a buffer of this pool or its index, got ${describe(buffer)}`);
    }
    const offset = buffer.byteOffset;
    // The usual case, the very view a completion handed over, needs no
    // look at its ArrayBuffer (a call into C++ for `.buffer`).
    if (this.buffers[offset / this.size] === buffer) return offset / this.size;
    if (buffer.buffer !== this.memory || offset % this.size !== 0 || buffer.byteLength > this.size) {
      const error = new RangeError('tigerio: that buffer is not one of this pool');
      (error as RangeError & { code: string }).code = 'ERR_BUFFER_NOT_OF_POOL';
      throw error;
    }
    return offset / this.size;
  }
}
