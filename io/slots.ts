// Operation slots and ids, allocated in JavaScript so that submitting an
// operation makes no native call (the submission queue, native/core/layout.h).
// Internal: the public API is io/index.ts.
//
// An id is generation << slotBits | slot, a V8 small integer, so returning
// one allocates nothing. The generation has idGenerationBits and wraps, so
// slots are reused first-in first-out with at least REUSE_DISTANCE_MIN
// others free before them: an id names its operation, and no other, for at
// least 2^idGenerationBits * REUSE_DISTANCE_MIN (2^20) later operations.
import { binding } from './native';

const SLOT_BITS = binding.layout.slotBits;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
const GENERATION_MASK = (1 << binding.layout.idGenerationBits) - 1;
/** Free slots kept before one is reused (slots are ~200 bytes of native memory each). */
const REUSE_DISTANCE_MIN = 1024;

export class OperationSlots {
  private readonly generations: Uint16Array;
  /** A ring of free slots, oldest first. */
  private readonly free: Int32Array;
  private freeHead = 0;
  private freeCount = 0;
  /** Slots never handed out yet are fresh..capacity-1. */
  private fresh = 0;

  /** capacity: operationsMax + entries (the ops in flight and one batch being delivered). */
  constructor(readonly capacity: number) {
    if (!(capacity >= 1 && capacity <= SLOT_MASK + 1)) throw new RangeError(`tigerio: slot capacity ${capacity} out of range`);
    this.generations = new Uint16Array(capacity);
    this.free = new Int32Array(capacity);
  }

  /** A slot for a new operation. The caller keeps fewer than `capacity` in use. */
  allocate(): number {
    if (this.freeCount > REUSE_DISTANCE_MIN || (this.fresh === this.capacity && this.freeCount > 0)) {
      const slot = this.free[this.freeHead];
      this.freeHead = this.freeHead + 1 === this.capacity ? 0 : this.freeHead + 1;
      this.freeCount--;
      return slot;
    }
    if (this.fresh === this.capacity) throw new Error('tigerio: no free operation slot (an internal accounting bug)');
    return this.fresh++;
  }

  /** Frees a slot whose operation's callback is being delivered: its id goes stale. */
  release(slot: number): void {
    this.generations[slot] = (this.generations[slot] + 1) & GENERATION_MASK;
    let tail = this.freeHead + this.freeCount;
    if (tail >= this.capacity) tail -= this.capacity;
    this.free[tail] = slot;
    this.freeCount++;
  }

  /** The id of the operation now in `slot`. */
  id(slot: number): number {
    return (this.generations[slot] << SLOT_BITS) | slot;
  }

  /** The slot of `id` if it still names the operation there (its generation matches), else -1. */
  slotOf(id: number): number {
    const slot = id & SLOT_MASK;
    if (slot >= this.fresh || this.generations[slot] !== id >>> SLOT_BITS) return -1;
    return slot;
  }
}
