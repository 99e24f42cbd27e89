// Getting Bun for the Bun.serve peer: the `bun` on PATH if there is one,
// else the npm package @oven/bun-linux-x64 (a single static binary)
// installed on demand into the runner's temporary directory with npm, as
// the runner installs wrk and nginx with apt-get; removed with that
// directory. Only on Linux x64 (the package's platform); anywhere else, or
// when npm cannot fetch it, the Bun rows are skipped with the reason.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const PACKAGE = '@oven/bun-linux-x64';

export function ensureBun(tmp: string, which: (name: string) => string | null, note: (text: string) => void): string | null {
  const onPath = which('bun');
  if (onPath !== null) return onPath;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    note(`Bun.serve peer skipped: no bun on PATH, and ${PACKAGE} is for Linux x64 only (this is ${process.platform}-${process.arch})`);
    return null;
  }
  const dir = path.join(tmp, 'bun');
  fs.mkdirSync(dir, { recursive: true });
  note(`bun missing: installing the npm package ${PACKAGE} into a temporary directory (npm install --prefix ${dir})`);
  const install = spawnSync('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', PACKAGE], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    timeout: 300_000,
  });
  const binary = path.join(dir, 'node_modules', '@oven', 'bun-linux-x64', 'bin', 'bun');
  if (install.status !== 0 || !fs.existsSync(binary)) {
    const reason = install.error?.message ?? install.stderr?.trim().split('\n').pop() ?? `exit ${install.status}`;
    note(`Bun.serve peer skipped: npm could not install ${PACKAGE} (${reason})`);
    return null;
  }
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (version.status !== 0) {
    note(`Bun.serve peer skipped: the installed bun does not run here (${version.stderr?.trim() ?? version.error?.message})`);
    return null;
  }
  note(`installed bun ${version.stdout.trim()}`);
  return binary;
}
