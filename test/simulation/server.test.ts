// The sample server under the simulation with network faults on: a few
// seeds here, several hundred in `npm run fuzz` (server-main.ts). Every
// request gets a complete, correct answer or its connection ends; nothing
// hangs; nothing leaks (slots, timers, fds). A failure names its seed and
// the command that replays it.
import { expect } from 'chai';
import { LOST_CANCEL_FAULTS } from './scenarios';
import { replayCommand, serverScenario } from './server-scenario';

const SEEDS = Number(process.env.TIGERIO_SIM_SEEDS ?? 40);
const FIRST_SEED = Number(process.env.TIGERIO_SIM_SEED ?? 0);
const LOST_CANCEL_SEEDS = Math.max(1, Math.round(SEEDS / 2));

describe('simulation: the sample server under network faults', () => {
  it(`answers every request or ends the connection, and leaks nothing, over ${SEEDS} seeds`, function () {
    this.timeout(120_000);
    let answered = 0;
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      const report = serverScenario(seed);
      expect(report.violations, `seed ${seed}; replay: ${replayCommand(seed)}`).to.deep.equal([]);
      expect(serverScenario(seed).trace, `seed ${seed} replays to the same trace`).to.equal(report.trace);
      answered += report.answered;
    }
    expect(answered).to.be.greaterThan(SEEDS);
  });

  it(`also when the kernel loses cancels (some never answered: abandoned), over ${LOST_CANCEL_SEEDS} seeds`, function () {
    this.timeout(120_000);
    let answered = 0;
    for (let seed = FIRST_SEED; seed < FIRST_SEED + LOST_CANCEL_SEEDS; seed++) {
      const report = serverScenario(seed, LOST_CANCEL_FAULTS);
      expect(report.violations, `seed ${seed}; replay: ${replayCommand(seed, true)}`).to.deep.equal([]);
      expect(serverScenario(seed, LOST_CANCEL_FAULTS).trace, `seed ${seed} replays to the same trace`).to.equal(report.trace);
      answered += report.answered;
    }
    expect(answered).to.be.greaterThan(LOST_CANCEL_SEEDS);
  });
});
