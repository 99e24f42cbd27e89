// The IO's per-fd cache of buffer ids (io/buffers.ts), alone, against a
// stand-in for the native layer that numbers each ArrayBuffer it is given:
// whatever the cache holds, evicts or forgets, every answer must be the id
// and offset of the view asked about.
import { expect } from 'chai';
import { BufferRegistry, DIRECTION_IN, DIRECTION_OUT } from '../io/buffers';
import type { NativeIO } from '../io/native';

function newRegistry(): { registry: BufferRegistry; idOf: (buffer: ArrayBuffer) => number } {
  const numbers = new Map<ArrayBuffer, number>();
  const native = {
    registerBuffer: (buffer: ArrayBuffer): number => {
      expect(numbers.has(buffer), 'a buffer is registered once').to.equal(false);
      numbers.set(buffer, numbers.size);
      return numbers.size - 1;
    },
    unregisterBuffer: (): void => {},
  } as unknown as NativeIO;
  return { registry: new BufferRegistry(native), idOf: (buffer) => numbers.get(buffer)! };
}

describe('buffer registry: the per-fd cache', () => {
  it('answers the id and offset of the view asked about, for fds that share a set and views that take turns', () => {
    const { registry, idOf } = newRegistry();
    // 10,000 fds: the cache stops growing at 4,096 sets, so fds share sets
    // and evict each other. Each fd gets views that take turns, in both directions.
    const views = [0, 1, 2, 3, 4].map((i) => new Uint8Array(new ArrayBuffer(4096), 16 * (i + 1), 100));
    const subviews = views.map((view, i) => view.subarray(i + 1, 50));
    let wrong = '';
    let asked = 0;
    for (let round = 0; round < 12 && wrong === ''; round++) {
      for (let k = 0; k < 10_000; k++) {
        const fd = (k * 7919 + round * 13) % 10_000; // every fd once per round, in a scrambled order
        const view = (round + fd) % 3 === 0 ? subviews[(round * 7 + fd) % 5] : views[(round + fd * 3) % 5];
        const direction = (round + fd) % 2 === 0 ? DIRECTION_IN : DIRECTION_OUT;
        const id = registry.idOfTransfer(view, fd, direction);
        asked++;
        if (id !== idOf(view.buffer as ArrayBuffer) || registry.transferOffset !== view.byteOffset) {
          wrong = `round ${round}, fd ${fd}: id ${id}, offset ${registry.transferOffset}; expected ${idOf(view.buffer as ArrayBuffer)}, ${view.byteOffset}`;
          break;
        }
        if (fd % 97 === 5) registry.forget(fd);
      }
    }
    expect(wrong).to.equal('');
    expect(asked).to.equal(120_000);
  });

  it('answers a SharedArrayBuffer view with -1, and its offset', () => {
    const { registry } = newRegistry();
    const shared = new Uint8Array(new SharedArrayBuffer(256), 32, 64);
    for (let i = 0; i < 3; i++) {
      expect(registry.idOfTransfer(shared, 7, DIRECTION_OUT)).to.equal(-1);
      expect(registry.transferOffset).to.equal(32);
    }
  });
});
