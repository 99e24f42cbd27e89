// The durable replacement of a file under simulated crashes (see
// replace-scenario.ts): with the directory's fsync the new contents always
// survive; without it, the crash rolls the rename back on some seeds.
import { expect } from 'chai';
import { replaceScenario, replaceSeeds } from './replace-scenario';

const SEEDS = 60;

describe('simulation: replacing a file durably across a crash', () => {
  it(`with the directory synced after the rename, ${SEEDS} seeds all read the new contents`, () => {
    const seen = replaceSeeds(0, SEEDS, true);
    expect([...seen.entries()]).to.deep.equal([['new', SEEDS]]);
  });

  it(`without the directory sync, the crash loses the rename on some of ${SEEDS} seeds (the old contents come back)`, () => {
    const seen = replaceSeeds(0, SEEDS, false);
    expect(seen.get('old') ?? 0, 'seeds that lost the rename').to.be.greaterThan(0);
    // Never anything but one version or the other: the rename is atomic and both files were fsynced.
    expect([...seen.keys()].every((outcome) => outcome === 'old' || outcome === 'new'), [...seen.keys()].join(', ')).to.equal(true);
  });

  it('is deterministic: a seed gives the same outcome every time', () => {
    for (const seed of [1, 2, 3, 17]) expect(replaceScenario(seed, false)).to.equal(replaceScenario(seed, false));
  });
});
