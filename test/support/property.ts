// fast-check parameters for the suite's properties, with their seed printed
// BEFORE the property runs: a property that hangs in native code (where
// mocha's timeout cannot fire) prints nothing at its end, so the seed that
// replays its mix must already be in the output. TIGERIO_FUZZ_SEED (and
// TIGERIO_FUZZ_PATH, from a failure's report) replay it, as they replay
// the IO fuzz (reliability/support/io-model.ts).
import type * as fc from 'fast-check';

/** A fresh 32-bit seed, or the one in TIGERIO_FUZZ_SEED. */
export function propertySeed(): number {
  const given = process.env.TIGERIO_FUZZ_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed)) throw new Error(`TIGERIO_FUZZ_SEED=${given} is not an integer`);
    return seed | 0;
  }
  return (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
}

/**
 * The parameters of one property of the suite: `numRuns` runs from a
 * printed seed (see the file comment). `what` names the property in the
 * printed line, so a log with many properties says which seed is whose.
 */
export function propertyParameters<Ts>(what: string, numRuns: number): fc.Parameters<Ts> {
  const seed = propertySeed();
  const path = process.env.TIGERIO_FUZZ_PATH || undefined;
  const replay = path === undefined ? `TIGERIO_FUZZ_SEED=${seed}` : `TIGERIO_FUZZ_SEED=${seed} TIGERIO_FUZZ_PATH=${path}`;
  // stderr: printed at once, between mocha's lines, even if the property never returns.
  process.stderr.write(`      fast-check ${what}: ${numRuns} runs, replay with ${replay}\n`);
  return { seed, path, numRuns, endOnFailure: path !== undefined };
}
