// Contract rule 1: exactly one callback per submitted operation, over a
// random mixed workload (timeouts, sends, recvs, cancels, ticks, closes).
import { expect } from 'chai';
import * as fc from 'fast-check';
import { IO } from '../io';
import { forEachBackend } from './support/backends';
import { propertyParameters } from './support/property';
import { runUntil, submit, type Outcome } from './support/run';
import { connectedPair } from './support/sockets';

type Step =
  | { kind: 'timeout'; ns: number }
  | { kind: 'send'; length: number }
  | { kind: 'recv'; length: number }
  | { kind: 'cancel'; index: number }
  | { kind: 'tick' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('timeout' as const), ns: fc.integer({ min: 0, max: 2_000_000 }) }),
  fc.record({ kind: fc.constant('send' as const), length: fc.integer({ min: 1, max: 100_000 }) }),
  fc.record({ kind: fc.constant('recv' as const), length: fc.integer({ min: 1, max: 100_000 }) }),
  fc.record({ kind: fc.constant('cancel' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('tick' as const) }),
);

function runWorkload(backend: string, steps: Step[]): void {
  const io = new IO({ backend });
  try {
    const { client, server } = connectedPair(io);
    const outcomes: Outcome[] = [];
    for (const s of steps) {
      switch (s.kind) {
        case 'timeout':
          outcomes.push(submit((callback) => io.timeout(s.ns, callback)));
          break;
        case 'send':
          outcomes.push(submit((callback) => io.send(client, Buffer.alloc(s.length, 0x41), callback)));
          break;
        case 'recv':
          outcomes.push(submit((callback) => io.recv(server, Buffer.alloc(s.length), callback)));
          break;
        case 'cancel':
          if (outcomes.length > 0) io.cancel(outcomes[s.index % outcomes.length].id);
          break;
        case 'tick':
          io.tick();
          break;
      }
    }
    // Closing both ends finishes whatever still waits (ECANCELED or a result).
    const closes = [submit((callback) => io.close(client, callback)), submit((callback) => io.close(server, callback))];
    runUntil(io, () => io.pending === 0, 'the workload to drain', { stepsMax: 10_000 });
    io.runForNs(2_000_000);
    for (const [index, outcome] of [...outcomes, ...closes].entries()) {
      expect(outcome.calls, `operation ${index} callbacks`).to.equal(1);
      expect(outcome.ranInsideSubmit, `operation ${index} ran inside its submit`).to.equal(false);
      if (outcome.error !== null) expect(outcome.error.code).to.be.a('string');
    }
  } finally {
    io.deinit();
  }
}

forEachBackend('exactly one callback per operation', (scope) => {
  it('calls each callback exactly once across a random mixed workload (fast-check)', function () {
    this.timeout(60_000);
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => runWorkload(scope.backend, steps)),
      propertyParameters(`exactly once, mixed workload, ${scope.backend}`, 30),
    );
  });

  it('calls each callback exactly once when deinit() ends a busy workload', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 50; i++) {
      outcomes.push(submit((callback) => io.timeout((i % 5) * 500_000, callback)));
      outcomes.push(submit((callback) => io.send(client, Buffer.alloc(10_000, i), callback)));
      outcomes.push(submit((callback) => io.recv(server, Buffer.alloc(7_000), callback)));
    }
    io.runForNs(1_000_000);
    io.deinit();
    for (const [index, outcome] of outcomes.entries()) expect(outcome.calls, `operation ${index}`).to.equal(1);
  });
});
