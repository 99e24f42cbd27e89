// What goes into the npm tarball is decided by package.json's "files", not
// by whatever lies in the working tree: this packs the project (dry run,
// fast) and checks the list against what a user needs and nothing more.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeRun, npm, packList } from './npm';

const root = path.join(__dirname, '..', '..', '..');

/** Every path the tarball may hold; anything else is an accident. */
const ALLOWED: RegExp[] = [
  /^(LICENSE|NOTICE|README\.md|package\.json|binding\.gyp)$/,
  /^dist\/io\/[\w-]+\.(js|mjs|d\.ts|d\.mts)$/,
  /^dist\/server\/([\w-]+\/)*[\w-]+\.js$/,
  /^native\/([\w-]+\/)*[\w-]+\.(cc|h)$/,
  /^native\/README\.md$/, // npm packs every folder's README; this one is the native layer's guide
];

/** The sources binding.gyp compiles on any OS (it is JSON plus # comments). */
function gypSources(): string[] {
  const text = fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8').replace(/#.*$/gm, '');
  const sources = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'sources' && Array.isArray(inner)) inner.forEach((s) => sources.add(String(s)));
        else walk(inner);
      }
    }
  };
  walk(JSON.parse(text));
  return [...sources];
}

describe('package: tarball contents', function () {
  this.timeout(120_000);
  let files: string[];

  before(() => {
    files = packList(root).map((file) => file.path);
  });

  it('holds only allowed paths: no tests, maps, builds, prebuilds or stray binaries', () => {
    const unexpected = files.filter((file) => !ALLOWED.some((pattern) => pattern.test(file)));
    expect(unexpected).to.deep.equal([]);
    expect(files.filter((file) => /(^|\/)test\/|\.test\.|\.node$|\.map$|^build\/|^prebuilds\//.test(file))).to.deep.equal([]);
  });

  it('holds the license, notice, readme and the public entries', () => {
    expect(files).to.include.members([
      'LICENSE', 'NOTICE', 'README.md', 'package.json', 'binding.gyp',
      'dist/io/index.js', 'dist/io/index.mjs', 'dist/io/index.d.ts', 'dist/io/index.d.mts',
      'dist/server/bin.js', 'dist/server/main.js', 'dist/server/worker.js',
    ]);
  });

  it('holds every source binding.gyp compiles, so `npm install` can build from source', () => {
    const sources = gypSources();
    expect(sources).to.include('native/addon.cc');
    expect(files).to.include.members(sources);
  });

  it('holds every file package.json points at (exports, bin, main, types)', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      main: string; types: string; bin: Record<string, string>; exports: unknown;
    };
    const targets: string[] = [manifest.main, manifest.types, ...Object.values(manifest.bin)];
    const collect = (value: unknown): void => {
      if (typeof value === 'string') targets.push(value);
      else if (value !== null && typeof value === 'object') Object.values(value).forEach(collect);
    };
    collect(manifest.exports);
    expect(targets.length).to.be.at.least(7);
    expect(files).to.include.members(targets.map((target) => path.posix.normalize(target)));
  });

  // A prebuilds/ directory in a working tree (npm run test:windows leaves
  // one) must not be packed; the release workflow adds the binaries it built
  // with one command, which is run here as the workflow writes it.
  it('packs prebuilds/ only after the release workflow adds it', () => {
    const workflow = fs.readFileSync(path.join(root, '.github', 'workflows', 'prebuild.yml'), 'utf8');
    const step = /run: npm pkg set '(files\[\]=[^']+)'/.exec(workflow);
    expect(step, 'prebuild.yml adds the prebuilds to "files" before publishing').to.not.equal(null);
    expect(workflow.indexOf(step![0])).to.be.below(workflow.indexOf('npm publish'));

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-files-'));
    try {
      fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
      fs.writeFileSync(path.join(dir, 'LICENSE'), 'license\n');
      fs.mkdirSync(path.join(dir, 'prebuilds', 'linux-x64'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'prebuilds', 'linux-x64', 'tigerio.napi.glibc.node'), 'binary');
      fs.writeFileSync(path.join(dir, 'prebuilds', 'linux-x64', 'notes.txt'), 'stray');

      const before = packList(dir).map((file) => file.path);
      expect(before).to.include('LICENSE');
      expect(before.filter((file) => file.startsWith('prebuilds/'))).to.deep.equal([]);

      const set = npm(['pkg', 'set', step![1]], dir, 60_000);
      expect(set.status, describeRun('npm pkg set', set)).to.equal(0);
      const after = packList(dir).map((file) => file.path);
      expect(after.filter((file) => file.startsWith('prebuilds/'))).to.deep.equal(['prebuilds/linux-x64/tigerio.napi.glibc.node']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
