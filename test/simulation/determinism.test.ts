// Determinism: the same seed and program give the same trace (every
// callback, result, byte and clock move), run after run; different seeds
// give different traces. A failure prints the seed and how to replay it.
import { expect } from 'chai';
import { echoScenario, LOST_CANCEL_FAULTS } from './scenarios';

const SEEDS = 200;
const LOST_CANCEL_SEEDS = 50;

describe('simulation: determinism', () => {
  it(`runs ${SEEDS} seeds of a client/server scenario twice: identical traces per seed, different across seeds`, function () {
    this.timeout(120_000);
    const traces = new Map<string, number>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const first = echoScenario(seed);
      const second = echoScenario(seed);
      const replay = `replay: node -e "console.log(require('./dist/test/simulation/scenarios').echoScenario(${seed}))"`;
      expect(second.trace, `seed ${seed}: the trace differs on a rerun (${replay})`).to.equal(first.trace);
      expect(second.nowNs, `seed ${seed}: the virtual time differs`).to.equal(first.nowNs);
      expect(second.clients.map((c) => [c.echoed.toString('hex'), c.ending])).to.deep.equal(
        first.clients.map((c) => [c.echoed.toString('hex'), c.ending]),
      );
      // TCP's guarantee under every fault: what arrives is a prefix of what was sent, in order.
      for (const client of first.clients) {
        expect(client.sent.subarray(0, client.echoed.length).equals(client.echoed), `seed ${seed}: echo bytes (${replay})`).to.equal(true);
        if (client.ending === null) expect(client.echoed.length).to.equal(client.sent.length);
      }
      expect(first.idle, `seed ${seed}: run() ended with operations pending (${replay})`).to.equal(true);
      const earlier = traces.get(first.trace);
      expect(earlier, `seeds ${earlier} and ${seed} gave the same trace`).to.equal(undefined);
      traces.set(first.trace, seed);
    }
    expect(traces.size).to.equal(SEEDS);
  });

  it(`replays ${LOST_CANCEL_SEEDS} seeds exactly when the kernel loses cancels too (operations abandoned, answered late)`, function () {
    this.timeout(120_000);
    let changed = 0;
    for (let seed = 0; seed < LOST_CANCEL_SEEDS; seed++) {
      const first = echoScenario(seed, LOST_CANCEL_FAULTS);
      const second = echoScenario(seed, LOST_CANCEL_FAULTS);
      expect(second.trace, `seed ${seed}: the trace differs on a rerun`).to.equal(first.trace);
      // A seed whose clients never cancel anything runs as without the fault.
      if (first.trace !== echoScenario(seed).trace) changed++;
      for (const client of first.clients) {
        expect(client.sent.subarray(0, client.echoed.length).equals(client.echoed), `seed ${seed}: echo bytes`).to.equal(true);
      }
      expect(first.idle, `seed ${seed}: run() ended with operations pending`).to.equal(true);
    }
    expect(changed, 'seeds the lost cancels changed').to.be.greaterThan(LOST_CANCEL_SEEDS / 4);
  });
});
