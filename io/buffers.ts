// Registered ArrayBuffers: the native layer reaches an operation's bytes by
// number (an id and an offset), not by looking the view up through Node-API
// at the flush. Each ArrayBuffer is registered the first time an operation
// uses it (one native call), remembered in a WeakMap, and unregistered once
// it is collected. Internal.
//
// Finding a view's ArrayBuffer costs: `view.buffer` is a getter V8 does not
// inline (a generic property load, then a C++ builtin), and the WeakMap
// lookup follows. In the sample server under wrk those were 11% of its user
// time. Most programs give each fd the same view over and over (a
// connection's receive buffer, its output buffer), so per fd and direction
// the last two views and their ids are kept: the same view again costs a
// comparison or two. The cache holds at most two views per fd and
// direction, which the fd's operations held anyway; close(fd) and deinit
// drop them.
//
// A SharedArrayBuffer's view is not registered (Node-API cannot read one):
// the flush looks it up in `sides` instead, as for a host or a path.
import type { NativeIO } from './native';

/** The direction of a transfer, for the per-fd cache: what comes in (recv, read) or goes out (send, write). */
export const DIRECTION_IN = 0;
export const DIRECTION_OUT = 1;
/** fds at or past this have no cache entry (their lookups take the WeakMap path): the cache stays bounded. */
const CACHED_FD_LIMIT = 1 << 16;

export class BufferRegistry {
  private readonly ids = new WeakMap<ArrayBuffer, number>();
  private readonly finalizer: FinalizationRegistry<number>;
  /** By (fd * 2 + direction) * 2 + way: the last two views used there and their buffers' ids (dense, grown on demand). */
  private lastViews: (ArrayBufferView | undefined)[] = [];
  private lastIds: number[] = [];
  private lastOffsets: number[] = [];
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
   * idOf(), for a transfer on `fd`: a view among the last two on that fd
   * and direction is answered from the cache (two: a connection commonly
   * alternates between two output buffers, one filling while the other is
   * sent). Its id is still right: the cache holds the view, so its
   * ArrayBuffer cannot have been collected and its id given away. Sets
   * transferOffset. The caller has checked that the view has bytes.
   */
  idOfTransfer(view: ArrayBufferView, fd: number, direction: number): number {
    if (fd >= CACHED_FD_LIMIT) {
      this.transferOffset = view.byteOffset;
      return this.idOf(view);
    }
    const index = (fd * 2 + direction) * 2;
    const views = this.lastViews;
    if (index < views.length) {
      if (views[index] === view) {
        this.transferOffset = this.lastOffsets[index];
        return this.lastIds[index];
      }
      if (views[index + 1] === view) {
        this.transferOffset = this.lastOffsets[index + 1];
        return this.lastIds[index + 1];
      }
    } else {
      while (views.length < index + 2) {
        views.push(undefined);
        this.lastIds.push(-1);
        this.lastOffsets.push(0);
      }
    }
    const id = this.idOf(view);
    const offset = view.byteOffset;
    // The newer entry first; the older one makes room.
    views[index + 1] = views[index];
    this.lastIds[index + 1] = this.lastIds[index];
    this.lastOffsets[index + 1] = this.lastOffsets[index];
    views[index] = view;
    this.lastIds[index] = id;
    this.lastOffsets[index] = offset;
    this.transferOffset = offset;
    return id;
  }

  /** The fd is being closed: its cached views are let go. */
  forget(fd: number): void {
    const views = this.lastViews;
    const first = fd * 4;
    for (let index = first; index < first + 4 && index < views.length; index++) views[index] = undefined;
  }

  /** The IO is gone: no more native calls, nothing kept. */
  close(): void {
    this.native = null;
    this.lastViews = [];
    this.lastIds = [];
    this.lastOffsets = [];
  }

  private register(buffer: ArrayBufferLike): number {
    if (!(buffer instanceof ArrayBuffer) || this.native === null) return -1;
    const id = this.native.registerBuffer(buffer);
    this.ids.set(buffer, id);
    this.finalizer.register(buffer, id);
    return id;
  }
}
