// The soak's memory verdict (support/plateau.ts) on RSS series shaped like
// the soak's: a heap that breathes passes, a small per-connection leak on
// top of the same breathing fails.
import { expect } from 'chai';
import { judgePlateau, type RoundSample } from './support/plateau';

const connectionsPerRound = 8_400;
const marginKiB = 2 * 1024;

/** RSS that climbs 300 KiB a round from 75 MiB and falls back every 8 rounds (what the soak shows on main). */
function breathing(rounds: number, leakBytesPerConnection = 0): RoundSample[] {
  return Array.from({ length: rounds }, (_, round) => ({
    rssKiB: 75 * 1024 + (round % 8) * 300 + Math.floor((round * connectionsPerRound * leakBytesPerConnection) / 1024),
    connections: connectionsPerRound,
  }));
}

describe('soak: RSS plateau verdict', function () {
  it('passes a heap that breathes (rises and falls back) over 40 rounds', function () {
    const verdict = judgePlateau(breathing(40), marginKiB);
    expect(verdict.ok, JSON.stringify(verdict)).to.equal(true);
    expect(verdict.warmupRounds).to.equal(10);
    expect(verdict.riseKiB).to.equal(0);
  });

  it('fails the same heap with a leak of 64 B per connection on top', function () {
    const verdict = judgePlateau(breathing(40, 64), marginKiB);
    expect(verdict.ok, JSON.stringify(verdict)).to.equal(false);
    // 15 rounds of 8,400 connections at 64 B: about 7.9 MiB higher.
    expect(verdict.riseKiB).to.be.greaterThan(7 * 1024);
  });

  it('names the smallest leak per connection the run could show', function () {
    const verdict = judgePlateau(breathing(40), marginKiB);
    expect(verdict.laterConnections).to.equal(15 * connectionsPerRound);
    expect(verdict.detectableLeakBytes).to.equal(Math.ceil((marginKiB * 1024) / (15 * connectionsPerRound)));
  });

  it('refuses too few rounds to compare, or a negative margin', function () {
    expect(() => judgePlateau(breathing(5), marginKiB)).to.throw(RangeError);
    expect(() => judgePlateau(breathing(8), -1)).to.throw(RangeError);
  });
});
