// Loading the addon: a prebuild when no local build exists, and a clear
// error (platform, what was tried, how to build) when nothing loads. Each
// case runs in a child process against a temporary package root.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
const loader = path.join(root, 'dist', 'io', 'load.js');
const platform = `${process.platform}-${process.arch}`;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const builtAddon = (require('node-gyp-build') as { resolve(dir: string): string }).resolve(root);

function loadIn(packageRoot: string, env: NodeJS.ProcessEnv = {}): { status: number | null; output: string } {
  const program =
    `const binding = require(${JSON.stringify(loader)}).loadNativeAddon(${JSON.stringify(packageRoot)});` +
    'console.log("backends:" + binding.backends().join(","));';
  const childEnv = { ...process.env, ...env };
  if (!('PREBUILDS_ONLY' in env)) delete childEnv.PREBUILDS_ONLY;
  const run = spawnSync(process.execPath, ['-e', program], { encoding: 'utf8', env: childEnv, timeout: 20000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('addon loader', () => {
  let temporary: string;

  beforeEach(() => {
    temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-loader-'));
  });
  afterEach(() => fs.rmSync(temporary, { recursive: true, force: true }));

  it('loads a prebuild for this platform when there is no local build', () => {
    const directory = path.join(temporary, 'prebuilds', platform);
    fs.mkdirSync(directory, { recursive: true });
    fs.copyFileSync(builtAddon, path.join(directory, 'node.napi.node'));
    const { status, output } = loadIn(temporary);
    expect(status, output).to.equal(0);
    expect(output).to.match(/^backends:\w+/);
  });

  it('says which platform, what was tried and how to build when nothing loads', () => {
    const { status, output } = loadIn(temporary);
    expect(status).to.not.equal(0);
    expect(output).to.include(`could not load its native addon on ${platform}`);
    expect(output).to.include(path.join(temporary, 'build', 'Release', 'tigerio.node'));
    expect(output).to.include(path.join(temporary, 'prebuilds', platform));
    expect(output).to.include('npm rebuild tigerio');
    expect(output).to.include('No native build was found');
  });

  it('with PREBUILDS_ONLY ignores a local build, and says it tried only the prebuilds', () => {
    const directory = path.join(temporary, 'build', 'Release');
    fs.mkdirSync(directory, { recursive: true });
    fs.copyFileSync(builtAddon, path.join(directory, 'tigerio.node'));
    const { status, output } = loadIn(temporary, { PREBUILDS_ONLY: '1' });
    expect(status).to.not.equal(0);
    expect(output).to.include(path.join(temporary, 'prebuilds', platform));
    expect(output).to.not.include(path.join(temporary, 'build', 'Release', 'tigerio.node') + ' (a build');
  });
});
