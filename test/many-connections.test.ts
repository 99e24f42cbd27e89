// 1,000 connections open at once through one IO.
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { describeExit, lastJsonLine, runFixture } from './support/child';
import { manyConnections, type ManyConnectionsReport } from './support/many-connections';

const COUNT = 1000;
/** 2 fds per connection, the listener, and room for Node's own. */
const FDS_NEEDED = 2 * COUNT + 100;

/** The soft RLIMIT_NOFILE this process inherited (POSIX); Infinity where fds are not so limited. */
function fdLimit(): number {
  if (process.platform === 'win32') return Infinity;
  const out = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  return out === 'unlimited' ? Infinity : Number(out);
}

forEachBackend('many connections', (scope) => {
  it(`opens ${COUNT} connections at once, echoes a message on each, and closes them all`, async function () {
    this.timeout(120_000);
    let report: ManyConnectionsReport;
    if (fdLimit() >= FDS_NEEDED) {
      report = manyConnections(scope.create(), COUNT);
    } else {
      // Node cannot raise its own limit: run this one test in a child under a higher one.
      const result = await runFixture('many-connections', [scope.backend, String(COUNT)], {
        shellPrefix: 'ulimit -Sn 4096',
        killAfterMs: 100_000,
      });
      expect(result.killed, describeExit(result)).to.equal(false);
      expect(result.code, describeExit(result)).to.equal(0);
      report = lastJsonLine(result) as ManyConnectionsReport;
    }
    expect(report.errors).to.deep.equal([]);
    expect(report).to.deep.equal({
      count: COUNT,
      connected: COUNT,
      accepted: COUNT,
      echoed: COUNT,
      closed: 2 * COUNT + 1,
      errors: [],
    });
  });
});
