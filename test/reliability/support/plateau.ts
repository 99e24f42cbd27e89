// The soak's memory verdict: RSS must plateau. A heap that breathes (V8's
// and malloc's arenas grow a while, then give back) rises and falls; a leak
// of per-connection state only rises, with the connections served. So,
// after the warm-up rounds, the rounds are cut in two halves, and the
// highest RSS of the later half must not exceed the highest of the earlier
// half by more than a small margin. Both halves must be long enough to hold
// a breath (RSS falls back every 8 or so rounds in the soak); a leak raises
// the later peak by about the leak times the connections of a half.

/** One round of the soak, as measured after its clients are gone. */
export interface RoundSample {
  rssKiB: number;
  /** Connections the round opened to the server. */
  connections: number;
}

export interface PlateauVerdict {
  /** Rounds left out at the start (heap and JIT growing to their working size). */
  warmupRounds: number;
  earlierPeakKiB: number;
  laterPeakKiB: number;
  /** laterPeakKiB - earlierPeakKiB. */
  riseKiB: number;
  marginKiB: number;
  /** Connections served in the later half: a leak of L bytes each raises its peak by about L times this. */
  laterConnections: number;
  /** The smallest leak per connection this run would show: marginKiB over laterConnections, in bytes. */
  detectableLeakBytes: number;
  ok: boolean;
}

/** The rounds a plateau check needs at least: two of warm-up and two halves of two. */
export const plateauRoundsMin = 6;

/** Judges `rounds` (in order) with `marginKiB`; the first quarter (at least 2 rounds) is warm-up. */
export function judgePlateau(rounds: readonly RoundSample[], marginKiB: number): PlateauVerdict {
  if (rounds.length < plateauRoundsMin) {
    throw new RangeError(`a plateau check needs at least ${plateauRoundsMin} rounds, not ${rounds.length}`);
  }
  if (!(marginKiB >= 0)) throw new RangeError(`marginKiB must be >= 0, not ${marginKiB}`);
  const warmupRounds = Math.max(2, Math.floor(rounds.length / 4));
  const measured = rounds.slice(warmupRounds);
  const half = Math.floor(measured.length / 2);
  const earlier = measured.slice(0, half);
  const later = measured.slice(half);
  const earlierPeakKiB = Math.max(...earlier.map((round) => round.rssKiB));
  const laterPeakKiB = Math.max(...later.map((round) => round.rssKiB));
  const laterConnections = later.reduce((sum, round) => sum + round.connections, 0);
  const riseKiB = laterPeakKiB - earlierPeakKiB;
  return {
    warmupRounds,
    earlierPeakKiB,
    laterPeakKiB,
    riseKiB,
    marginKiB,
    laterConnections,
    detectableLeakBytes: laterConnections > 0 ? Math.ceil((marginKiB * 1024) / laterConnections) : Infinity,
    ok: riseKiB <= marginKiB,
  };
}
