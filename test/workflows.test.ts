// The CI matrix and release workflows are checked here, on every run, with
// an action validator (the GitHub Actions schema), since GitHub cannot be
// reached from this machine.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
const workflows = path.join(root, '.github', 'workflows');
const validator = path.join(root, 'node_modules', '@action-validator', 'cli', 'cli.mjs');

describe('GitHub workflows', () => {
  const files = fs.readdirSync(workflows).filter((name) => name.endsWith('.yml'));

  it('has the CI matrix and the prebuild release workflow', () => {
    expect(files).to.include.members(['ci.yml', 'prebuild.yml']);
  });

  it('CI runs every OS with Node 20, 22 and 24', () => {
    const ci = fs.readFileSync(path.join(workflows, 'ci.yml'), 'utf8');
    expect(ci).to.match(/os: \[ubuntu-latest, macos-latest, windows-latest\]/);
    expect(ci).to.match(/node: \[20, 22, 24\]/);
    expect(ci).to.include('npm test');
  });

  for (const file of files) {
    it(`${file} is a valid workflow`, () => {
      const run = spawnSync(process.execPath, [validator, path.join(workflows, file)], { encoding: 'utf8' });
      expect(run.status, `${run.stdout}${run.stderr}`).to.equal(0);
    });
  }

  it('the validator rejects a broken workflow (so a pass means something)', () => {
    const broken = path.join(require('node:os').tmpdir(), `tigerio-broken-workflow-${process.pid}.yml`);
    fs.writeFileSync(broken, 'name: broken\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n');
    try {
      const run = spawnSync(process.execPath, [validator, broken], { encoding: 'utf8' });
      expect(run.status).to.not.equal(0);
    } finally {
      fs.rmSync(broken, { force: true });
    }
  });
});
