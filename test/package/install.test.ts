// tigerio as a user gets it: the project is packed, the tarball installed
// into an empty temporary project (from the registry only: the addon builds
// from source there, as it does wherever no prebuild matches), and then the
// README's quick start runs as CommonJS, as ESM and through `tsc --strict`,
// and the installed `tigerio-server` command serves a page. One install is
// shared by every test here; the temporary directory and every child
// process are removed at the end, pass or fail.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanEnv, describeRun, npm, run } from './npm';
import { asModule, quickStart } from './quickstart';

const repo = path.join(__dirname, '..', '..', '..');
const INSTALL_TIMEOUT_MS = 10 * 60_000; // a from-source addon build on a slow CI runner
const RUN_TIMEOUT_MS = 30_000;

describe('package: installed from its tarball', function () {
  this.timeout(60_000);
  let tmp = '';
  let project = '';
  const children = new Set<ChildProcess>();

  before(function () {
    this.timeout(INSTALL_TIMEOUT_MS + 60_000);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-package-'));
    // --ignore-scripts: dist/ is already built (npm test runs tsc first).
    const pack = npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], repo, 120_000);
    expect(pack.status, describeRun('npm pack', pack)).to.equal(0);
    const tarball = path.join(tmp, (JSON.parse(pack.stdout) as { filename: string }[])[0].filename);

    project = path.join(tmp, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'tigerio-user', version: '1.0.0', private: true }));
    const install = npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project, INSTALL_TIMEOUT_MS);
    expect(install.status, describeRun('npm install <tarball>', install)).to.equal(0);
    // No prebuild is packed (test/package/files.test.ts), so this is the addon built from source here.
    expect(fs.existsSync(path.join(project, 'node_modules', 'tigerio', 'build', 'Release', 'tigerio.node'))).to.equal(true);
  });

  after(() => {
    for (const child of children) child.kill('SIGKILL');
    if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
  });

  function node(file: string, source: string): string {
    fs.writeFileSync(path.join(project, file), source);
    const result = run(process.execPath, [file], project, RUN_TIMEOUT_MS);
    expect(result.status, describeRun(`node ${file}`, result)).to.equal(0);
    return result.stdout;
  }

  it('runs the quick start as CommonJS (require)', () => {
    expect(node('quickstart.cjs', quickStart(repo))).to.equal('echoed: hello, tigerio\n');
  });

  it('runs the quick start as ESM (import)', () => {
    expect(node('quickstart.mjs', asModule(quickStart(repo)))).to.equal('echoed: hello, tigerio\n');
  });

  it('gives import and require the same module: one addon, the same classes', () => {
    const output = node('same.mjs', [
      "import * as esm from 'tigerio';",
      "import { createRequire } from 'node:module';",
      "const cjs = createRequire(import.meta.url)('tigerio');",
      'console.log(JSON.stringify({',
      '  esm: Object.keys(esm).sort(),',
      '  cjs: Object.keys(cjs).filter((k) => k !== "__esModule").sort(),',
      '  same: Object.keys(esm).every((k) => esm[k] === cjs[k]),',
      '}));',
    ].join('\n'));
    expect(JSON.parse(output)).to.deep.equal({ esm: ['BufferPool', 'IO', 'IOError', 'IOPromises', 'Simulation'], cjs: ['BufferPool', 'IO', 'IOError', 'IOPromises', 'Simulation'], same: true });
  });

  it('lets nothing but the public entry be imported or required', () => {
    const output = node('private.mjs', [
      "import { createRequire } from 'node:module';",
      'const require = createRequire(import.meta.url);',
      "const paths = ['tigerio/dist/io/native.js', 'tigerio/dist/io/index.js', 'tigerio/package.json', 'tigerio/dist/server/main.js'];",
      'const codes = [];',
      'for (const p of paths) {',
      '  try { require(p); codes.push("required " + p); } catch (e) { codes.push(e.code); }',
      '  try { await import(p); codes.push("imported " + p); } catch (e) { codes.push(e.code); }',
      '}',
      'console.log(JSON.stringify(codes));',
    ].join('\n'));
    expect(JSON.parse(output)).to.deep.equal(new Array(8).fill('ERR_PACKAGE_PATH_NOT_EXPORTED'));
  });

  // Both type entries: a .ts file in a CommonJS project resolves the
  // "require" types, a .mts file the "import" types (module node16 follows
  // the exports map as Node does). The expected errors show the types are
  // the real ones, not `any`.
  it('type-checks the quick start with tsc --strict, as CommonJS and as ESM', () => {
    const source = asModule(quickStart(repo));
    fs.writeFileSync(path.join(project, 'quickstart.ts'), source);
    fs.writeFileSync(path.join(project, 'quickstart-esm.mts'), source);
    fs.writeFileSync(path.join(project, 'wrong.mts'), [
      "import { IO, IOError } from 'tigerio';",
      'const io = new IO();',
      '// @ts-expect-error: a recv needs a buffer, not a string',
      "io.recv(0, 'buffer', () => {});",
      '// @ts-expect-error: the callback gets an IOError or null, not a string',
      'io.timeout(0, (error: string) => {});',
      'const check: (e: unknown) => boolean = (e) => e instanceof IOError;',
      'void check;',
    ].join('\n'));
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'node16',
        moduleResolution: 'node16',
        types: ['node'],
        typeRoots: [path.join(repo, 'node_modules', '@types')],
      },
      files: ['quickstart.ts', 'quickstart-esm.mts', 'wrong.mts'],
    }));
    const tsc = run(process.execPath, [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project, 120_000);
    expect(tsc.status, describeRun('tsc --noEmit', tsc)).to.equal(0);
  });

  it('installs the tigerio-server command, with --help', () => {
    const help = npm(['exec', '--no', '--', 'tigerio-server', '--help'], project, RUN_TIMEOUT_MS);
    expect(help.status, describeRun('npx tigerio-server --help', help)).to.equal(0);
    expect(help.stdout).to.include('--port').and.to.include('--root');
  });

  it('tigerio-server --port 0 --root ./public serves a page, and stops on SIGTERM', async () => {
    const page = `<!doctype html><title>tigerio ${process.pid}</title>\n`;
    fs.mkdirSync(path.join(project, 'public'));
    fs.writeFileSync(path.join(project, 'public', 'index.html'), page);
    const args = ['--port', '0', '--host', '127.0.0.1', '--threads', '1', '--root', './public'];
    // The command npm linked; on Windows that is a .cmd shim, which only a
    // shell runs, and a signal would reach the shell, not the server: there
    // the test runs the file the shim runs.
    const child =
      process.platform === 'win32'
        ? spawn(process.execPath, [path.join(project, 'node_modules', 'tigerio', 'dist', 'server', 'bin.js'), ...args], { cwd: project, env: cleanEnv() })
        : spawn(path.join(project, 'node_modules', '.bin', 'tigerio-server'), args, { cwd: project, env: cleanEnv() });
    children.add(child);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    }));
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

    const port = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
        if (match) resolve(Number(match[1]));
      });
      void exited.then((code) => reject(new Error(`tigerio-server exited ${code} before listening: ${stderr}`)));
    });
    expect(port).to.be.above(0);

    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/index.html', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    expect(response).to.deep.equal({ status: 200, body: page });

    child.kill('SIGTERM');
    const code = await exited;
    if (process.platform !== 'win32') expect(code, stderr).to.equal(0); // Windows has no SIGTERM: kill() ends it outright
  });
});
