// The bench's CPU readings (process-cpu.ts): what the HTTP rows' "CPU per
// request" and wrk's ceiling are computed from.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { processTreeCpuSeconds, TICKS_PER_SECOND, WAITED_CPU_PREFIX, waitedCpuSeconds, withWaitedCpu } from './process-cpu';

const linux = process.platform === 'linux';

describe('bench CPU readings', () => {
  it('reads cutime + cstime from a stat line whose command name holds spaces and parentheses', function () {
    if (!linux) this.skip(); // no /proc elsewhere: every reading is null (checked below)
    // Fields 3 to 15, then cutime (16) = 3 s and cstime (17) = 1 s, in ticks.
    const fields = ['S', ...Array.from({ length: 12 }, (_, i) => String(i + 1)), String(3 * TICKS_PER_SECOND), String(TICKS_PER_SECOND), '0'];
    const line = `${WAITED_CPU_PREFIX}4242 (odd (name) x) ${fields.join(' ')}`;
    expect(waitedCpuSeconds(`Running 5s test\n${line}\n`)).to.equal(4);
    expect(waitedCpuSeconds('no such line')).to.equal(null);
  });

  it("reads a command's own CPU time through the waiting shell", function () {
    if (!linux) {
      expect(withWaitedCpu('true', [])).to.equal(null);
      expect(processTreeCpuSeconds(process.pid)).to.equal(null);
      return;
    }
    // A child that spins until its own clock says it used 300 ms of CPU, and prints that.
    const spin = 'const t = process.cpuUsage(); while (process.cpuUsage(t).user < 300000) {} console.log(process.cpuUsage(t).user)';
    const [file, argv] = withWaitedCpu(process.execPath, ['-e', spin])!;
    const run = spawnSync(file, argv, { encoding: 'utf8' });
    expect(run.status).to.equal(0);
    const waited = waitedCpuSeconds(run.stdout);
    expect(waited).to.be.a('number');
    // The waited time holds the child's whole life, so at least what it counted itself (to a tick).
    expect(waited!).to.be.at.least(Number(run.stdout.split('\n')[0]) / 1e6 - 1 / TICKS_PER_SECOND);
  });

  it('reads a live process tree, never going backwards', function () {
    if (!linux) this.skip(); // covered by the null check above
    const before = processTreeCpuSeconds(process.pid);
    expect(before).to.be.a('number');
    const t = process.cpuUsage();
    while (process.cpuUsage(t).user < 50_000) {
      // use some CPU
    }
    expect(processTreeCpuSeconds(process.pid)!).to.be.at.least(before!);
    expect(processTreeCpuSeconds(2 ** 22 + 12345)).to.equal(null); // no such pid
  });
});
