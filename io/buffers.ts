// Registered ArrayBuffers: the native layer reaches an operation's bytes by
// number (an id and an offset), not by looking the view up through Node-API
// at the flush. Each ArrayBuffer is registered the first time an operation
// uses it (one native call), remembered in a WeakMap, and unregistered once
// it is collected. Internal.
//
// A SharedArrayBuffer's view is not registered (Node-API cannot read one):
// the flush looks it up in `sides` instead, as for a host or a path.
import type { NativeIO } from './native';

export class BufferRegistry {
  private readonly ids = new WeakMap<ArrayBuffer, number>();
  private readonly finalizer: FinalizationRegistry<number>;

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

  /** The IO is gone: no more native calls. */
  close(): void {
    this.native = null;
  }

  private register(buffer: ArrayBufferLike): number {
    if (!(buffer instanceof ArrayBuffer) || this.native === null) return -1;
    const id = this.native.registerBuffer(buffer);
    this.ids.set(buffer, id);
    this.finalizer.register(buffer, id);
    return id;
  }
}
