// The worker's TimeoutQueue (server/timeouts.ts) on a real IO driven by
// io.run(): every entry is looked at once its time has come, never before,
// in deadline order; removed entries never are; a deadline moved earlier
// is kept (the one armed timer is replaced, or run() would wait for it).
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { IO } from '../../io';
import { TimeoutQueue, type TimeoutEntry } from '../../server/timeouts';

class Probe implements TimeoutEntry {
  timeoutIndex = -1;
  timeoutAt = 0;
  firedAt: number | null = null;
  constructor(
    readonly name: number,
    private readonly log: Probe[],
  ) {}

  onTimeout(now: number): void {
    this.firedAt = now;
    this.log.push(this);
  }
}

describe('server: timeout queue', function () {
  this.timeout(20_000);
  let io: IO;
  beforeEach(() => (io = new IO()));
  afterEach(() => io.deinit());

  it('looks at 500 entries once each, none early, in deadline order, with one timer armed at a time', () => {
    const queue = new TimeoutQueue(io);
    const log: Probe[] = [];
    const start = performance.now();
    const probes = Array.from({ length: 500 }, (_, i) => new Probe(i, log));
    for (const p of probes) queue.schedule(p, start + ((p.name * 7919) % 300) / 10); // 0..30 ms, shuffled
    expect(io.pending).to.equal(1);
    io.run();
    expect(log).to.have.length(500);
    for (const p of probes) expect(p.firedAt!, `probe ${p.name}`).to.be.at.least(p.timeoutAt);
    for (let i = 1; i < log.length; i++) expect(log[i].timeoutAt).to.be.at.least(log[i - 1].timeoutAt);
    expect(queue.size).to.equal(0);
  });

  it('a removed entry is never looked at; the rest still are', () => {
    const queue = new TimeoutQueue(io);
    const log: Probe[] = [];
    const now = performance.now();
    const probes = Array.from({ length: 100 }, (_, i) => new Probe(i, log));
    for (const p of probes) queue.schedule(p, now + (p.name % 10));
    for (const p of probes) if (p.name % 3 === 0) queue.remove(p);
    io.run();
    expect(log.map((p) => p.name).sort((a, b) => a - b)).to.deep.equal(probes.filter((p) => p.name % 3 !== 0).map((p) => p.name));
  });

  it('moving a deadline earlier replaces the armed timer (run() does not wait for the old one)', () => {
    const queue = new TimeoutQueue(io);
    const log: Probe[] = [];
    const p = new Probe(1, log);
    const now = performance.now();
    queue.schedule(p, now + 60_000); // a minute away: run() would outlast this test's timeout
    queue.schedule(p, now + 5);
    io.run();
    expect(log).to.deep.equal([p]);
    expect(p.firedAt!).to.be.at.least(now + 5);
  });

  it('an entry re-queued from its own callback is looked at again later', () => {
    const queue = new TimeoutQueue(io);
    let calls = 0;
    const entry: TimeoutEntry = {
      timeoutIndex: -1,
      timeoutAt: 0,
      onTimeout(now: number) {
        if (++calls < 3) queue.schedule(entry, now + 2);
      },
    };
    queue.schedule(entry, performance.now() + 1);
    io.run();
    expect(calls).to.equal(3);
  });
});
