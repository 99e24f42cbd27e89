// The worker's RoundClock (server/round-clock.ts): one clock read per
// event-loop round, never ahead of performance.now(), and fresh again in
// the next round, including a round of an attached IO's callbacks.
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { IO } from '../../io';
import { RoundClock } from '../../server/round-clock';

/** Spins until performance.now() has moved past `ms` (the clock is coarse on some machines). */
function spinPast(ms: number): void {
  while (performance.now() <= ms) {
    // busy: the point is that time passes inside one synchronous stretch
  }
}

describe('server: round clock', () => {
  it('reads the clock once per synchronous stretch, and never ahead of it', () => {
    const clock = new RoundClock();
    const first = clock.nowMs();
    expect(first).to.be.at.most(performance.now());
    spinPast(first + 1);
    expect(clock.nowMs()).to.equal(first);
    expect(clock.nowMs()).to.be.below(performance.now());
  });

  it('reads it again after the microtasks of the stretch have run', async () => {
    const clock = new RoundClock();
    const first = clock.nowMs();
    spinPast(first + 1);
    await Promise.resolve();
    const second = clock.nowMs();
    expect(second).to.be.above(first);
    expect(second).to.be.at.most(performance.now());
  });

  it('is fresh in each round of an attached IO', async () => {
    const io = new IO();
    try {
      io.attach();
      const clock = new RoundClock();
      const seen: number[] = [];
      await new Promise<void>((resolve, reject) => {
        const round = (left: number): void => {
          io.timeout(1_000_000, (error) => {
            if (error !== null) return reject(error);
            const now = clock.nowMs();
            expect(now).to.be.at.most(performance.now());
            seen.push(now);
            if (left > 1) round(left - 1);
            else resolve();
          });
        };
        round(3);
      });
      // Each timeout is 1 ms after the one before: its round's stamp is later.
      expect(seen[1]).to.be.at.least(seen[0] + 1);
      expect(seen[2]).to.be.at.least(seen[1] + 1);
    } finally {
      io.deinit();
    }
  });
});
