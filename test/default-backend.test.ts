// Which backend an IO gets when its options name none: the first of
// IO.backends(), on Linux io_uring where the kernel lets this process use it,
// and epoll (with one warning saying why) where io_uring is turned off.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IO } from '../io';

const indexJs = path.join(__dirname, '..', 'io', 'index.js');
const helperSource = path.join(__dirname, '..', '..', 'test', 'fixtures', 'no-io-uring.c');

// Two default IOs, one io_uring IO asked for by name; prints what happened as JSON.
const program = `
const { IO } = require(${JSON.stringify(indexJs)});
const first = new IO();
const second = new IO();
let named = null;
try { new IO({ backend: 'io_uring' }).deinit(); named = 'created'; } catch (error) { named = error.constructor.name; }
console.log(JSON.stringify({ backends: IO.backends(), first: first.backend, second: second.backend, named }));
first.deinit();
second.deinit();
`;

describe('the default backend', () => {
  it('is the first of IO.backends(), and the backend option overrides it', () => {
    const io = new IO();
    const named = new IO({ backend: IO.backends()[IO.backends().length - 1] });
    try {
      expect(io.backend).to.equal(IO.backends()[0]);
      expect(named.backend).to.equal(IO.backends()[IO.backends().length - 1]);
      if (process.platform === 'linux') expect(['io_uring', 'epoll']).to.include(io.backend);
    } finally {
      io.deinit();
      named.deinit();
    }
  });

  it('is epoll where io_uring_setup answers EPERM (seccomp, io_uring_disabled), with one warning saying why', function () {
    this.timeout(60_000);
    // A Linux fact; the helper installs a seccomp filter, compiled with the C compiler node-gyp needs anyway.
    if (process.platform !== 'linux') this.skip();
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-no-io-uring-'));
    try {
      const helper = path.join(directory, 'no-io-uring');
      execFileSync('cc', ['-O2', '-o', helper, helperSource], { stdio: 'pipe' });
      const run = spawnSync(helper, [process.execPath, '-e', program], { encoding: 'utf8', timeout: 30_000 });
      expect(run.status, run.stderr).to.equal(0);
      const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
      expect(result.backends).to.not.include('io_uring');
      expect(result.first).to.equal('epoll');
      expect(result.second).to.equal('epoll');
      expect(result.named).to.equal('RangeError');
      const warnings = run.stderr.split('\n').filter((line) => line.includes('TIGERIO_IO_URING_UNAVAILABLE'));
      expect(warnings, run.stderr).to.have.lengthOf(1);
      expect(run.stderr).to.include('EPERM');
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
