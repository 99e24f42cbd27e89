// The core's timer heap, on every backend: many timeouts, many equal
// durations, cancels from the middle of the heap, fire in deadline order,
// ties in submission order. A timeout submitted earlier with a duration no
// longer than a later one's has the earlier (or equal, then the
// earlier-submitted) deadline, so its callback must run first.
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { runUntil } from './support/run';

forEachBackend('timer order', (scope) => {
  it('fires 20,000 timeouts of 16 durations in deadline order, ties FIFO, with a third cancelled', function () {
    const io = scope.create({ operationsMax: 32_768 });
    const count = 20_000;
    const durations = 16;
    const stepNs = 100_000; // 0.1 ms apart: 0.1..1.6 ms
    const duration = new Uint8Array(count);
    const ids: number[] = [];
    const fired: number[] = []; // indexes, in callback order
    const errors: string[] = [];
    let seed = 7;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 8;
    };
    for (let i = 0; i < count; i++) {
      duration[i] = next() % durations;
      ids.push(
        io.timeout((duration[i] + 1) * stepNs, (error) => {
          if (error === null) fired.push(i);
          else errors.push(error.code);
        }),
      );
    }
    const cancelled = new Uint8Array(count);
    let cancelledCount = 0;
    for (let i = 0; i < count; i++) {
      if (next() % 3 === 0) {
        expect(io.cancel(ids[i]), `cancel ${i}`).to.equal(true);
        cancelled[i] = 1;
        cancelledCount++;
      }
    }
    runUntil(io, () => io.pending === 0, 'the 20,000 timeouts');
    expect(errors.length).to.equal(cancelledCount);
    expect(errors.every((code) => code === 'ECANCELED')).to.equal(true);
    expect(fired.length).to.equal(count - cancelledCount);
    const rank = new Int32Array(count).fill(-1);
    fired.forEach((index, position) => (rank[index] = position));
    // For each timeout, every earlier-submitted one with a duration <= its own fired before it.
    const latestRank = new Int32Array(durations).fill(-1); // per duration: the largest rank seen so far
    for (let i = 0; i < count; i++) {
      if (cancelled[i]) {
        expect(rank[i], `cancelled timeout ${i} fired`).to.equal(-1);
        continue;
      }
      let mustFollow = -1;
      for (let d = 0; d <= duration[i]; d++) mustFollow = Math.max(mustFollow, latestRank[d]);
      expect(rank[i] > mustFollow, `timeout ${i} (duration ${duration[i]}) fired out of order`).to.equal(true);
      latestRank[duration[i]] = Math.max(latestRank[duration[i]], rank[i]);
    }
  });
});
