// The buffers a worker's connections share, so that an idle keep-alive
// connection holds none (the design's rule 11): a connection receives into
// a buffer of the IO's pool, taken by the IO only when bytes arrive, and
// parses them there; only a request that spans receives copies its own
// bytes into a buffer of its own (from `recvStock`) until it is complete.
// Output buffers take their memory from `outStock` while a response is
// being written or sent, and give it back once it is sent. Everything else a
// request in progress needs is in a work state (connection-work.ts), kept
// here between uses.
import type { BufferPool, IO } from '../io';
import type { ConnectionWork } from './connection-work';
import type { ParserLimits } from './http/parser';

/** Reusable Buffers of one size: a connection holds one only while it has bytes in it. */
export class BufferStock {
  private readonly free: Buffer[] = [];

  constructor(
    /** Bytes per buffer. */
    readonly size: number,
    /** Buffers kept for reuse at most; more are left to the GC. */
    private readonly keepMax: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Keeps `buffer` for reuse if it is one of this stock's size (one grown past it is dropped). */
  give(buffer: Buffer): void {
    if (buffer.length === this.size && this.free.length < this.keepMax) this.free.push(buffer);
  }
}

/** What one IO's connections share. */
export interface ConnectionBuffers {
  /** Receive buffers, lent by a pooled receive until the connection has parsed what they hold. */
  readonly recvPool: BufferPool;
  /** recvPool.buffers as Buffers (the parser reads with Buffer's methods), by index: made once. */
  readonly recvViews: readonly Buffer[];
  /** A request's own bytes while it spans receives: room for a whole head plus one receive. */
  readonly recvStock: BufferStock;
  /** Output buffers' memory while a response is written or sent. */
  readonly outStock: BufferStock;
  /** Spare work states (each with its parser and output buffer objects, made on first use): a connection holds one only while it has something in progress. */
  readonly works: ConnectionWork[];
}

/** Bytes per pooled receive: one receive's worth of pipelined requests. */
const RECV_POOL_BUFFER_BYTES = 16 * 1024;
/**
 * Buffers in the pool. A connection gives its buffer back inside the
 * callback that got it, so only the receives completed and not yet
 * dispatched hold one (io_uring picks them as data arrives): one harvest.
 * Fewer only make receives wait their turn, never lose bytes.
 */
const RECV_POOL_BUFFERS = 256;
const STOCK_KEEP_MAX = 256;

const byIO = new WeakMap<IO, Map<string, ConnectionBuffers>>();

/**
 * The buffers of `io`'s connections (made on first use, one set per IO and
 * sizes). `recvPoolBuffers` (first call only) sizes the receive pool: the
 * simulation makes it tiny, so that a seed runs it empty.
 */
export function connectionBuffers(io: IO, limits: ParserLimits, outputBytes: number, recvPoolBuffers = RECV_POOL_BUFFERS): ConnectionBuffers {
  const maxHeaderBytes = limits.maxHeaderBytes;
  let sets = byIO.get(io);
  if (sets === undefined) {
    sets = new Map();
    byIO.set(io, sets);
  }
  const key = `${maxHeaderBytes}/${limits.maxHeaderCount}/${limits.maxBodyBytes}/${outputBytes}`;
  let buffers = sets.get(key);
  if (buffers === undefined) {
    // Room for a whole head plus one receive: a head that fills it is over the limit.
    const ownBytes = maxHeaderBytes + 4096;
    const recvPool = io.bufferPool({ count: recvPoolBuffers, size: Math.min(RECV_POOL_BUFFER_BYTES, ownBytes) });
    buffers = {
      recvPool,
      recvViews: recvPool.buffers.map((view) => Buffer.from(view.buffer, view.byteOffset, view.byteLength)),
      recvStock: new BufferStock(ownBytes, STOCK_KEEP_MAX),
      outStock: new BufferStock(outputBytes, STOCK_KEEP_MAX),
      works: [],
    };
    sets.set(key, buffers);
  }
  return buffers;
}
