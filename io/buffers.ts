// Registered ArrayBuffers: the native layer reaches an operation's bytes by
// number (an id and an offset), not by looking the view up through Node-API
// at the flush. Each ArrayBuffer is registered the first time an operation
// uses it (one native call), remembered in a WeakMap, and unregistered once
// it is collected. Internal.
//
// Finding a view's ArrayBuffer costs: `view.buffer` is a getter V8 does not
// inline (a generic property load, then a C++ builtin), and the WeakMap
// lookup follows. In the sample server under wrk those were 11% of its user
// time. Most programs give each fd the same views over and over (a
// connection's receive buffer; its output buffers, often two that take
// turns, one filling while the other is sent), so per fd the last receiving
// view and the last two sending views are kept with their ids and offsets:
// the same view again costs a comparison or two. The cache holds at most
// three views per fd (and 4,096 fds), which the fd's operations held
// anyway; close(fd) and deinit drop them.
//
// A SharedArrayBuffer's view is not registered (Node-API cannot read one):
// the flush looks it up in `sides` instead, as for a host or a path.
import type { NativeIO } from './native';

/** The direction of a transfer, for the per-fd cache: what comes in (recv, read, recvFrom) or goes out (send, write, sendTo). */
export const DIRECTION_IN = 0;
export const DIRECTION_OUT = 1;
/** Cache entries per fd: one receiving view, two sending views. */
const ENTRIES_PER_FD = 3;
/** Sets of the cache at first use, and at most (a power of two each). */
const SETS_MIN = 32;
const SETS_MAX = 4096;
/** The largest offset the cache keeps (a Uint32Array entry). */
const OFFSET_CACHED_MAX = 0xffffffff;

/**
 * The set of `fd`: POSIX fds are small and dense, and x ^ (x >> 2) keeps
 * those below `sets` apart (it maps [0, sets) onto itself one to one);
 * Windows' handles are multiples of 4, which it spreads over every set.
 */
function setOf(fd: number, sets: number): number {
  return (fd ^ (fd >>> 2)) & (sets - 1);
}

export class BufferRegistry {
  private readonly ids = new WeakMap<ArrayBuffer, number>();
  private readonly finalizer: FinalizationRegistry<number>;
  /**
   * A direct-mapped cache: setOf(fd) picks a set, which holds one fd's
   * entries (tags: that fd, or -1): at set * 3, the receiving view; at
   * +1 and +2, the sending views, newer first; with each view its buffer's
   * id and its offset. The sets double with the fds used up to 4,096, so
   * the cache is at most 213 KB however many connections an IO has (in the
   * 10,000 idle connections benchmark, a cache indexed by fd cost 95 more
   * bytes per connection, this one 30-40). Two fds of one set evict each
   * other: a miss, never a wrong answer (an entry answers for its view
   * object, whichever fd put it there; the tag only says whose views a
   * close lets go). A view at an offset past 2^32 - 1 is not cached.
   */
  private tags = new Int32Array(0);
  private lastViews: (ArrayBufferView | undefined)[] = [];
  private lastIds = new Int32Array(0);
  private lastOffsets = new Uint32Array(0);
  /**
   * The byteOffset of the view the last idOfTransfer() was given (kept in
   * the cache with its id: a view's offset never changes while it has bytes,
   * and V8 reads the getter slowly, see validate.ts's checkBuffer).
   */
  transferOffset = 0;

  constructor(private native: NativeIO | null) {
    // The ArrayBuffer is gone: its id may name another one.
    this.finalizer = new FinalizationRegistry((id: number) => this.native?.unregisterBuffer(id));
  }

  /** The id of the ArrayBuffer under `view`, registering it on first use; -1 for a SharedArrayBuffer. */
  idOf(view: ArrayBufferView): number {
    const buffer = view.buffer; // also moves a small on-heap typed array's bytes off the heap, for good
    const id = this.ids.get(buffer as ArrayBuffer);
    if (id !== undefined) return id;
    return this.register(buffer);
  }

  /**
   * idOf(), for a transfer on `fd`, answered from the fd's cache when the
   * view is there. Its id is still right: the cache holds the view, so its
   * ArrayBuffer cannot have been collected and its id given away. Sets
   * transferOffset. The caller has checked that the view has bytes.
   */
  idOfTransfer(view: ArrayBufferView, fd: number, direction: number): number {
    let sets = this.tags.length;
    if (fd >= sets && sets < SETS_MAX) sets = this.grow(fd);
    const set = setOf(fd, sets);
    const base = set * ENTRIES_PER_FD;
    const views = this.lastViews;
    if (this.tags[set] === fd) {
      if (direction === DIRECTION_IN) {
        if (views[base] === view) {
          this.transferOffset = this.lastOffsets[base];
          return this.lastIds[base];
        }
      } else {
        if (views[base + 1] === view) {
          this.transferOffset = this.lastOffsets[base + 1];
          return this.lastIds[base + 1];
        }
        if (views[base + 2] === view) {
          this.transferOffset = this.lastOffsets[base + 2];
          return this.lastIds[base + 2];
        }
      }
    }
    const offset = view.byteOffset;
    if (offset > OFFSET_CACHED_MAX) return this.uncached(view);
    const id = this.idOf(view);
    const ids = this.lastIds;
    const offsets = this.lastOffsets;
    if (this.tags[set] !== fd) {
      // The set is another fd's (or nobody's): it becomes this fd's.
      this.tags[set] = fd;
      views[base] = views[base + 1] = views[base + 2] = undefined;
    }
    let entry = base;
    if (direction !== DIRECTION_IN) {
      // The newer sending view first; the older one makes room.
      entry = base + 1;
      views[base + 2] = views[base + 1];
      ids[base + 2] = ids[base + 1];
      offsets[base + 2] = offsets[base + 1];
    }
    views[entry] = view;
    ids[entry] = id;
    offsets[entry] = offset;
    this.transferOffset = offset;
    return id;
  }

  /** The fd is being closed: its cached views are let go. */
  forget(fd: number): void {
    const sets = this.tags.length;
    if (sets === 0) return;
    const set = setOf(fd, sets);
    if (this.tags[set] !== fd) return;
    this.tags[set] = -1;
    const base = set * ENTRIES_PER_FD;
    for (let entry = base; entry < base + ENTRIES_PER_FD; entry++) this.lastViews[entry] = undefined;
  }

  /** The IO is gone: no more native calls, nothing kept. */
  close(): void {
    this.native = null;
    this.tags = new Int32Array(0);
    this.lastViews = [];
    this.lastIds = new Int32Array(0);
    this.lastOffsets = new Uint32Array(0);
  }

  /** idOf() and transferOffset, with no cache. */
  private uncached(view: ArrayBufferView): number {
    this.transferOffset = view.byteOffset;
    return this.idOf(view);
  }

  /**
   * Enough sets for `fd` to have its own, up to SETS_MAX; returns their
   * count. What was cached is dropped (a cache: growing happens at most
   * eight times in an IO's life).
   */
  private grow(fd: number): number {
    let sets = Math.max(SETS_MIN, this.tags.length);
    while (sets <= fd && sets < SETS_MAX) sets *= 2;
    this.tags = new Int32Array(sets).fill(-1);
    this.lastViews = new Array<ArrayBufferView | undefined>(sets * ENTRIES_PER_FD).fill(undefined);
    this.lastIds = new Int32Array(sets * ENTRIES_PER_FD);
    this.lastOffsets = new Uint32Array(sets * ENTRIES_PER_FD);
    return sets;
  }

  private register(buffer: ArrayBufferLike): number {
    if (!(buffer instanceof ArrayBuffer) || this.native === null) return -1;
    const id = this.native.registerBuffer(buffer);
    this.ids.set(buffer, id);
    this.finalizer.register(buffer, id);
    return id;
  }
}
