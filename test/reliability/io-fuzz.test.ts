// Model-based fuzzing of the IO API on every backend (see
// support/io-model.ts for the commands and the checks). A short run here,
// a few seconds per backend; `npm run fuzz` runs long. The seed is random
// and printed on failure with the command that replays it
// (TIGERIO_FUZZ_SEED, TIGERIO_FUZZ_PATH); TIGERIO_FUZZ_RUNS and
// TIGERIO_FUZZ_SECONDS change the length of this run.
import { expect } from 'chai';
import { IO } from '../../io';
import { fuzzEnvironment, fuzzIO, openFdCount, runScenario } from './support/io-model';

for (const backend of IO.backends()) {
  describe(backend, () => {
    describe('reliability: model-based fuzzing of the IO API', () => {
      it('keeps the contract over random command sequences (exactly once, order, no loss, no fd leak)', function () {
        const options = fuzzEnvironment({ runs: 150, seconds: 4 });
        this.timeout(options.seconds * 1000 + 60_000);
        const summary = fuzzIO({ backend, ...options });
        expect(summary.runs).to.be.greaterThan(0);
      });

      it('the model sees a clean hand-written scenario as clean, with bytes through and no fd leak', function () {
        const before = openFdCount();
        const report = runScenario(backend, {
          entries: 2,
          operationsMax: 65536,
          commands: [
            { kind: 'connect', wait: true },
            { kind: 'drive', ns: 1_000_000 },
            { kind: 'send', pair: 0, toServer: true, length: 300_000 },
            { kind: 'send', pair: 0, toServer: true, length: 10 },
            { kind: 'recv', pair: 0, toServer: true, length: 7 },
            { kind: 'send', pair: 0, toServer: false, length: 5 },
            { kind: 'timeout', ns: 3600e9 },
            { kind: 'throwNext' },
            { kind: 'drive', ns: 0 },
            { kind: 'close', pair: 0, server: false },
            { kind: 'drive', ns: 1_000_000 },
          ],
        });
        expect(report.violations).to.deep.equal([]);
        expect(report.bytes).to.be.greaterThan(0);
        expect(openFdCount()).to.equal(before);
      });
    });
  });
}
