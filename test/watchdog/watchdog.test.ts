// The test watchdog (main.ts) on a planted hang: a mocha run whose test or
// hook blocks its thread in native code must fail, naming the test or hook
// and its file, with the native stacks where this OS has a tool for them.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'chai';
import { fixturePath, runScript } from '../support/child';
import { ptraceRefusal } from './stacks';

const packageRoot = path.join(__dirname, '..', '..', '..');
const fixtureFile = path.relative(packageRoot, fixturePath('watchdog-suite'));

interface WatchdogRun {
  code: number | null;
  /** Its stdout (mocha's report), then its stderr (the watchdog's). */
  output: string;
}

/** Runs the fixture suite's tests matching `grep` through the watchdog, with a quiet time of 3 s and a mocha timeout of 1 s. */
async function runWatchdog(grep: string): Promise<WatchdogRun> {
  const run = await runScript(path.join(__dirname, 'main.js'), ['--no-config', '--timeout', '1000', fixtureFile, '--grep', grep], {
    cwd: packageRoot,
    env: { ...process.env, TIGERIO_WATCHDOG_SECONDS: '3' },
    // A hang guard for this test: the watchdog failing to fire would be caught here.
    killAfterMs: 90_000,
  });
  return { code: run.code, output: run.stdout + run.stderr };
}

/** Whether the watchdog can print native stacks here: Linux, a stack tool installed, ptrace allowed. */
function stacksPossible(): boolean {
  if (process.platform !== 'linux' || ptraceRefusal() !== null) return false;
  return ['eu-stack', 'gdb'].some((tool) => spawnSync(tool, ['--version']).error === undefined);
}

describe('test watchdog', function () {
  this.timeout(120_000);

  it('passes a run whose tests finish through, with mocha\'s status', async function () {
    const run = await runWatchdog('finishes at once');
    expect(run.code, run.output).to.equal(0);
    expect(run.output).to.contain('1 passing');
    expect(run.output).not.to.contain('watchdog:');
  });

  it('waits for a test that blocks longer than the quiet time, within the timeout it set in its body', async function () {
    const run = await runWatchdog('raising its own timeout');
    expect(run.code, run.output).to.equal(0);
    expect(run.output).to.contain('1 passing');
    expect(run.output).not.to.contain('watchdog:');
  });

  it('fails a run whose test blocks in native code, naming the test and its file, with its native stack', async function () {
    const run = await runWatchdog('blocks its thread in a native wait');
    expect(run.code, run.output).to.equal(1);
    expect(run.output).to.contain(`BLOCKED: test "watchdog fixture blocks its thread in a native wait" in ${fixtureFile}`);
    expect(run.output).to.contain('killing the run');
    if (stacksPossible()) {
      // The main thread's stack: V8's Atomics.wait builtin, blocked in a futex.
      expect(run.output).to.match(/AtomicsWait/);
    } else {
      expect(run.output).to.contain('no native stack');
    }
  });

  it('fails a run whose afterEach hook blocks, naming the hook and the test it follows', async function () {
    const run = await runWatchdog('finishes, then its hook blocks');
    expect(run.code, run.output).to.equal(1);
    expect(run.output).to.contain(
      `BLOCKED: hook "watchdog fixture with an afterEach hook that blocks "after each" hook for "finishes, then its hook blocks"" in ${fixtureFile}`,
    );
  });

  it('fails a run whose process does not exit after its last test, naming that test', async function () {
    const run = await runWatchdog('keeps the process alive');
    expect(run.code, run.output).to.equal(1);
    expect(run.output).to.contain('1 passing');
    expect(run.output).to.contain(
      `every test ran (the last to finish: test "watchdog fixture leaves a timer that keeps the process alive after the run" in ${fixtureFile})`,
    );
  });
});
