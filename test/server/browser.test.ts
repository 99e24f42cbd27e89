// A real browser against the static file server (issue 16): Debian's
// chromium-headless-shell loads pages with --dump-dom (no puppeteer, no
// browser download) and the test reads the DOM its scripts changed. Each
// page's script is loaded by a relative URL, so it runs only if the page's
// base URL is right and the script's bytes come with a type the browser
// accepts. Skipped where no headless Chromium is installed
// (apt-get install chromium-headless-shell); the same behaviour is tested
// without a browser in static.test.ts.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { killAll, startServer, within, type ServerProcess } from './support';

const BROWSERS = ['chromium-headless-shell', 'chromium'];

function findBrowser(): Promise<string | null> {
  return new Promise((resolve) =>
    execFile('bash', ['-c', `for b in ${BROWSERS.join(' ')}; do command -v "$b" && exit 0; done; exit 1`], { encoding: 'utf8' }, (error, stdout) =>
      resolve(error === null ? stdout.trim() : null),
    ),
  );
}

/** The DOM of `url` once loaded, as the browser serializes it. */
function dumpDom(browser: string, profile: string, url: string): Promise<string> {
  const args = ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${profile}`, '--virtual-time-budget=5000', '--dump-dom', url];
  return within(
    new Promise((resolve, reject) =>
      execFile(browser, args, { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) =>
        error === null ? resolve(stdout) : reject(new Error(`${browser}: ${error.message}\n${stderr.slice(-500)}`)),
      ),
    ),
    70_000,
    `${browser} --dump-dom ${url}`,
  );
}

function page(id: string, script: string, module = false): string {
  return `<!doctype html><html><body><p id="${id}">not run</p><script ${module ? 'type="module" ' : ''}src="${script}"></script></body></html>\n`;
}

const setText = (id: string, text: string): string => `document.getElementById(${JSON.stringify(id)}).textContent = ${JSON.stringify(text)};\n`;

describe('server: a real browser (headless Chromium)', function () {
  this.timeout(120_000);
  let browser: string | null;
  let site: string;
  let server: ServerProcess;

  before(async function () {
    browser = await findBrowser();
    if (browser === null) this.skip(); // no headless Chromium on this machine: see the file comment
    site = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-site-'));
    fs.mkdirSync(path.join(site, 'sub'));
    fs.mkdirSync(path.join(site, 'profile'));
    fs.writeFileSync(path.join(site, 'index.html'), page('root', 'app.js'));
    fs.writeFileSync(path.join(site, 'app.js'), setText('root', 'root script ran'));
    fs.writeFileSync(path.join(site, 'sub', 'index.html'), page('sub', 'sub.js'));
    fs.writeFileSync(path.join(site, 'sub', 'sub.js'), setText('sub', 'sub script ran'));
    fs.writeFileSync(path.join(site, 'module.html'), page('mod', 'mod.mjs', true));
    fs.writeFileSync(path.join(site, 'mod.mjs'), setText('mod', 'module ran'));
    server = await startServer(['--port', '0', '--threads', '1', '--root', site]);
  });

  after(async () => {
    if (server) await server.stop().catch(() => {});
    killAll();
    if (site) fs.rmSync(site, { recursive: true, force: true });
  });

  const url = (p: string): string => `http://127.0.0.1:${server.port}${p}`;
  const profile = (): string => fs.mkdtempSync(path.join(site, 'profile', 'p-'));

  it('/ shows the root\'s index.html, and its relative script runs', async () => {
    const dom = await dumpDom(browser!, profile(), url('/'));
    expect(dom).to.include('<p id="root">root script ran</p>');
  });

  it('a directory without its slash is redirected, so the page\'s relative script resolves inside it', async () => {
    const dom = await dumpDom(browser!, profile(), url('/sub'));
    expect(dom).to.include('<p id="sub">sub script ran</p>');
  });

  it('a .mjs module runs (served as JavaScript)', async () => {
    const dom = await dumpDom(browser!, profile(), url('/module.html'));
    expect(dom).to.include('<p id="mod">module ran</p>');
  });
});
