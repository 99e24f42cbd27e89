// Contract rule 8, the same on every backend: a timeout's deadline is the
// monotonic time of the call plus its delay, and callbacks come in
// (deadline, submission) order, timeout(0) included. Times are bracketed by
// clock reads around each call, so preemption between the read and the call
// can widen a bracket but never fake a disorder. No timing threshold: every
// check is an order, or "not before the deadline".
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { runUntil } from './support/run';
import { seededRandom } from './support/random';

const MS = 1_000_000;

forEachBackend('deadlines measured from the call', (scope) => {
  // The scope's clock: the monotonic one, or the simulation's virtual clock.
  const nowNs = (): number => Number(scope.nowNs());
  // Synchronous work: the IO is not driven meanwhile.
  const busyWaitNs = (ns: number): void => scope.busyWaitNs(ns);

  it('fires 10,000 timeouts of 0-49 ms in deadline order, each deadline taken at its call', function () {
    const io = scope.create({ operationsMax: 16_384 });
    const count = 10_000;
    const random = seededRandom(11);
    const low = new Float64Array(count); // clock before the call + delay: the earliest the deadline can be
    const high = new Float64Array(count); // clock after the call + delay: the latest it can be
    const fired: number[] = [];
    const firedAt = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const delayNs = Math.floor(random() * 50) * MS;
      const before = nowNs();
      io.timeout(delayNs, (error) => {
        expect(error).to.equal(null);
        firedAt[i] = nowNs();
        fired.push(i);
      });
      const after = nowNs();
      low[i] = before + delayNs;
      high[i] = after + delayNs;
    }
    runUntil(io, () => fired.length === count, 'the 10,000 timeouts');
    // None early.
    for (let i = 0; i < count; i++) expect(firedAt[i], `timeout ${i} early`).to.be.at.least(low[i]);
    // In order: a timeout whose deadline is surely earlier than another's
    // (its latest possible deadline before the other's earliest) fired first.
    // Walking the firing order backwards keeps the smallest `high` of the
    // timeouts fired after each one.
    let laterHighMin = Infinity;
    let laterIndex = -1;
    for (let position = count - 1; position >= 0; position--) {
      const i = fired[position];
      expect(laterHighMin, `timeout ${laterIndex} (surely earlier) fired after timeout ${i}`).to.be.at.least(low[i]);
      if (high[i] < laterHighMin) {
        laterHighMin = high[i];
        laterIndex = i;
      }
    }
  });

  it('a timeout submitted before blocking work fires at the first tick after it', function () {
    const io = scope.create();
    let fired = false;
    io.timeout(10 * MS, (error) => {
      expect(error).to.equal(null);
      fired = true;
    });
    busyWaitNs(50 * MS); // the deadline passes while JavaScript is busy
    io.tick(); // does not block: the deadline, taken at the call, has passed
    expect(fired, 'fired in the first tick after the blocking work').to.equal(true);
  });

  it('timeout(0) submitted after a timeout expired runs after it', function () {
    const io = scope.create();
    const order: string[] = [];
    io.timeout(1 * MS, () => order.push('1 ms, submitted first'));
    busyWaitNs(30 * MS);
    io.timeout(0, () => order.push('0 ms, submitted 30 ms later'));
    runUntil(io, () => order.length === 2, 'both timeouts');
    expect(order).to.deep.equal(['1 ms, submitted first', '0 ms, submitted 30 ms later']);
  });

  it('timeout(0) after a 1 ns timeout and blocking work runs after it, however many timeout(0)s came before', function () {
    // A zero-delay timeout may reuse the IO's last clock read only while no
    // timeout with a delay is due after that read: here one is (by 1 ns).
    const io = scope.create();
    const order: string[] = [];
    for (let i = 0; i < 3; i++) io.timeout(0, () => order.push(`0 ns #${i}`));
    busyWaitNs(5 * MS);
    io.timeout(1, () => order.push('1 ns'));
    busyWaitNs(5 * MS);
    io.timeout(0, () => order.push('0 ns, 5 ms after the 1 ns one'));
    io.timeout(0, () => order.push('0 ns, last'));
    runUntil(io, () => order.length === 6, 'the six timeouts');
    expect(order).to.deep.equal(['0 ns #0', '0 ns #1', '0 ns #2', '1 ns', '0 ns, 5 ms after the 1 ns one', '0 ns, last']);
  });

  it('zero-delay timeouts run in submission order among timeouts already due', function () {
    const io = scope.create();
    const order: number[] = [];
    io.timeout(2 * MS, () => order.push(0));
    io.timeout(0, () => order.push(1));
    busyWaitNs(5 * MS);
    io.timeout(0, () => order.push(2));
    io.timeout(1 * MS, () => order.push(3)); // due 1 ms after the call: after everything due now
    runUntil(io, () => order.length === 4, 'the four timeouts');
    expect(order).to.deep.equal([1, 0, 2, 3]);
  });
});
