// Static files as browsers and download tools expect (issue 16):
// validators and 304, byte ranges (206/416, If-Range), a directory without
// its trailing slash redirected, `/` serving the root's index.html,
// --cache-control. Through node:http, raw sockets and curl where installed.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { decide, rangeDecision, validatorsOf, type ConditionalFields } from '../../server/http/conditional';
import { makeStaticRoot, mediumFile, type StaticRoot } from './fixtures';
import { killAll, RawClient, request, runCli, startServer, within, type ServerProcess } from './support';

const NONE: ConditionalFields = { ifNoneMatch: null, ifModifiedSince: null, range: null, ifRange: null };

describe('server: conditional requests and ranges (pure)', () => {
  const v = validatorsOf(1000, Date.UTC(2026, 0, 2, 3, 4, 5, 678));

  it('a strong ETag from mtime and size; Last-Modified in whole seconds', () => {
    expect(v.etag).to.match(/^"[0-9a-f]+-3e8"$/);
    expect(v.lastModified).to.equal('Fri, 02 Jan 2026 03:04:05 GMT');
    expect(validatorsOf(1001, Date.UTC(2026, 0, 2, 3, 4, 5, 678)).etag).not.to.equal(v.etag);
    expect(validatorsOf(1000, Date.UTC(2026, 0, 2, 3, 4, 5, 679)).etag).not.to.equal(v.etag);
  });

  it('If-None-Match: a hit (also in a list, weak, or *) is 304 on GET/HEAD; a miss is 200', () => {
    for (const field of [v.etag, `"x", ${v.etag}`, `W/${v.etag}`, '*', ` "a" ,${v.etag} `]) {
      expect(decide('GET', { ...NONE, ifNoneMatch: field }, 1000, v).status, field).to.equal(304);
      expect(decide('HEAD', { ...NONE, ifNoneMatch: field }, 1000, v).status, field).to.equal(304);
    }
    expect(decide('GET', { ...NONE, ifNoneMatch: '"other"' }, 1000, v).status).to.equal(200);
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    expect(decide('GET', { ...NONE, ifNoneMatch: '"other"', ifModifiedSince: 'Fri, 02 Jan 2099 00:00:00 GMT' }, 1000, v).status).to.equal(200);
  });

  it('If-Modified-Since: 304 when the file is not newer; 200 when newer or the date is invalid', () => {
    expect(decide('GET', { ...NONE, ifModifiedSince: v.lastModified }, 1000, v).status).to.equal(304);
    expect(decide('GET', { ...NONE, ifModifiedSince: 'Sat, 03 Jan 2026 00:00:00 GMT' }, 1000, v).status).to.equal(304);
    expect(decide('GET', { ...NONE, ifModifiedSince: 'Fri, 02 Jan 2026 03:04:04 GMT' }, 1000, v).status).to.equal(200);
    expect(decide('GET', { ...NONE, ifModifiedSince: 'yesterday' }, 1000, v).status).to.equal(200);
  });

  it('Range: single, open, suffix, clamped; unsatisfiable 416; several or malformed: 200', () => {
    expect(rangeDecision('bytes=0-99', 1000)).to.deep.equal({ status: 206, start: 0, end: 99 });
    expect(rangeDecision('bytes=900-', 1000)).to.deep.equal({ status: 206, start: 900, end: 999 });
    expect(rangeDecision('bytes=-100', 1000)).to.deep.equal({ status: 206, start: 900, end: 999 });
    expect(rangeDecision('bytes=-5000', 1000)).to.deep.equal({ status: 206, start: 0, end: 999 });
    expect(rangeDecision('bytes=990-5000', 1000)).to.deep.equal({ status: 206, start: 990, end: 999 });
    expect(rangeDecision('bytes=1000-', 1000)).to.deep.equal({ status: 416 });
    expect(rangeDecision('bytes=-0', 1000)).to.deep.equal({ status: 416 });
    expect(rangeDecision('bytes=0-', 0)).to.deep.equal({ status: 416 });
    expect(rangeDecision('bytes=0-1,5-6', 1000)).to.deep.equal({ status: 200 });
    expect(rangeDecision('bytes=5-1', 1000)).to.deep.equal({ status: 200 });
    expect(rangeDecision('items=0-1', 1000)).to.deep.equal({ status: 200 });
    expect(rangeDecision('bytes=x-1', 1000)).to.deep.equal({ status: 200 });
    expect(rangeDecision('bytes=99999999999999999999-', 1000)).to.deep.equal({ status: 200 });
  });

  it('Range only for GET; If-Range: a matching strong ETag or exact date applies it, anything else gives 200', () => {
    expect(decide('HEAD', { ...NONE, range: 'bytes=0-1' }, 1000, v).status).to.equal(200);
    expect(decide('GET', { ...NONE, range: 'bytes=0-1', ifRange: v.etag }, 1000, v).status).to.equal(206);
    expect(decide('GET', { ...NONE, range: 'bytes=0-1', ifRange: v.lastModified }, 1000, v).status).to.equal(206);
    expect(decide('GET', { ...NONE, range: 'bytes=0-1', ifRange: '"stale"' }, 1000, v).status).to.equal(200);
    expect(decide('GET', { ...NONE, range: 'bytes=0-1', ifRange: `W/${v.etag}` }, 1000, v).status).to.equal(200);
    expect(decide('GET', { ...NONE, range: 'bytes=0-1', ifRange: 'Fri, 02 Jan 2026 03:04:06 GMT' }, 1000, v).status).to.equal(200);
  });
});

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return within(
    new Promise((resolve) => {
      execFile('curl', ['-s', '-S', '--max-time', '10', ...args], { encoding: 'utf8' }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), stdout, stderr }),
      );
    }),
    15_000,
    `curl ${args.join(' ')}`,
  );
}

describe('server: static files (issue 16)', function () {
  this.timeout(60_000);
  let root: StaticRoot;
  let server: ServerProcess;
  let port: number;

  before(async () => {
    root = makeStaticRoot();
    fs.writeFileSync(path.join(root.dir, 'index.html'), '<h1>home</h1>\n');
    server = await startServer(['--port', '0', '--threads', '1', '--root', root.dir, '--cache-control', 'public, max-age=3600']);
    port = server.port;
  });

  after(async () => {
    if (server) await server.stop().catch(() => {});
    killAll();
    root?.remove();
  });

  it('200 carries ETag, Last-Modified, Accept-Ranges and the --cache-control value', async () => {
    const res = await request(port, { path: '/hello.txt' });
    expect(res.status).to.equal(200);
    expect(res.headers.etag).to.match(/^"[0-9a-f]+-12"$/);
    const mtime = fs.statSync(path.join(root.dir, 'hello.txt')).mtimeMs;
    expect(res.headers['last-modified']).to.equal(new Date(Math.floor(mtime)).toUTCString());
    expect(res.headers['accept-ranges']).to.equal('bytes');
    expect(res.headers['cache-control']).to.equal('public, max-age=3600');
    // The built-in routes are not static files: no validators there.
    const json = await request(port, { path: '/json' });
    expect(json.headers.etag).to.equal(undefined);
  });

  it('If-None-Match (the tag, a list, *) and If-Modified-Since: 304 without a body, on GET and HEAD', async () => {
    const first = await request(port, { path: '/style.css' });
    const etag = first.headers.etag!;
    for (const inm of [etag, `"nope", ${etag}`, '*']) {
      for (const method of ['GET', 'HEAD']) {
        const res = await request(port, { path: '/style.css', method, headers: { 'if-none-match': inm } });
        expect(res.status, `${method} ${inm}`).to.equal(304);
        expect(res.body.length).to.equal(0);
        expect(res.headers.etag).to.equal(etag);
        expect(res.headers['cache-control']).to.equal('public, max-age=3600');
      }
    }
    expect((await request(port, { path: '/style.css', headers: { 'if-none-match': '"nope"' } })).status).to.equal(200);
    const ims = await request(port, { path: '/style.css', headers: { 'if-modified-since': first.headers['last-modified']! } });
    expect(ims.status).to.equal(304);
    const old = await request(port, { path: '/style.css', headers: { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:01 GMT' } });
    expect(old.status).to.equal(200);
    expect(old.body.toString()).to.equal('body { color: red }\n');
  });

  it('a 304 on a keep-alive connection leaves the connection usable (no body sent)', async () => {
    const etag = (await request(port, { path: '/hello.txt' })).headers.etag!;
    const c = await RawClient.connect(port);
    c.write(`GET /hello.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: ${etag}\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n`);
    const rs = await c.responses(2);
    expect(rs.map((r) => r.status)).to.deep.equal([304, 200]);
    expect(rs[0].headers['content-length']).to.equal(undefined);
    expect(rs[1].body.toString()).to.equal('hello from a file\n');
    c.destroy();
  });

  it('byte ranges: 206 with Content-Range (first-last, open, suffix), 416 with bytes */size, several ranges: 200 whole', async () => {
    const medium = mediumFile(root);
    const size = medium.length;
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=1000000-', 1_000_000, size - 1],
      ['bytes=-500', size - 500, size - 1],
      ['bytes=3000000-3100000', 3_000_000, 3_100_000], // more than one 128 KiB read chunk
      ['bytes=3100000-9999999', 3_100_000, size - 1], // clamped to the file
    ];
    for (const [range, start, end] of cases) {
      const res = await request(port, { path: '/medium.bin', headers: { range } });
      expect(res.status, range).to.equal(206);
      expect(res.headers['content-range'], range).to.equal(`bytes ${start}-${end}/${size}`);
      expect(res.headers['content-length'], range).to.equal(String(end - start + 1));
      expect(res.body.equals(medium.subarray(start, end + 1)), range).to.equal(true);
    }
    const bad = await request(port, { path: '/medium.bin', headers: { range: `bytes=${size}-` } });
    expect(bad.status).to.equal(416);
    expect(bad.headers['content-range']).to.equal(`bytes */${size}`);
    const multi = await request(port, { path: '/hello.txt', headers: { range: 'bytes=0-1,4-5' } });
    expect(multi.status).to.equal(200);
    expect(multi.body.toString()).to.equal('hello from a file\n');
  });

  it('If-Range: the current ETag gives the range, a stale one the whole file', async () => {
    const etag = (await request(port, { path: '/hello.txt' })).headers.etag!;
    const hit = await request(port, { path: '/hello.txt', headers: { range: 'bytes=0-4', 'if-range': etag } });
    expect(hit.status).to.equal(206);
    expect(hit.body.toString()).to.equal('hello');
    const stale = await request(port, { path: '/hello.txt', headers: { range: 'bytes=0-4', 'if-range': '"stale"' } });
    expect(stale.status).to.equal(200);
    expect(stale.body.toString()).to.equal('hello from a file\n');
  });

  it('pipelined ranges keep their order and framing', async () => {
    const c = await RawClient.connect(port);
    c.write(
      'GET /hello.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=6-9\r\n\r\n' +
        'GET /hello.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=-5\r\n\r\n' +
        'GET /hello.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=100-\r\n\r\n',
    );
    const rs = await c.responses(3);
    expect(rs.map((r) => r.status)).to.deep.equal([206, 206, 416]);
    expect(rs[0].body.toString()).to.equal('from');
    expect(rs[1].body.toString()).to.equal('file\n');
    c.destroy();
  });

  it('a directory without its trailing slash: 301 to the slashed path (query kept); with it: its index.html', async () => {
    const res = await request(port, { path: '/sub' });
    expect(res.status).to.equal(301);
    expect(res.headers.location).to.equal('/sub/');
    expect((await request(port, { path: '/sub?x=1' })).headers.location).to.equal('/sub/?x=1');
    const page = await request(port, { path: '/sub/' });
    expect(page.status).to.equal(200);
    expect(page.body.toString()).to.equal('<h1>sub</h1>\n');
    expect((await request(port, { path: '/noindex' })).status).to.equal(301);
    expect((await request(port, { path: '/noindex/' })).status).to.equal(404);
  });

  it('/ serves the root\'s index.html when it has one', async () => {
    const res = await request(port, { path: '/' });
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(res.body.toString()).to.equal('<h1>home</h1>\n');
  });

  it('/ answers the built-in hello when the root has no index.html', async () => {
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-bare-'));
    const own = await startServer(['--port', '0', '--threads', '1', '--root', bare]);
    try {
      expect((await request(own.port, { path: '/' })).body.toString()).to.equal('Hello, World!');
    } finally {
      await own.stop().catch(() => {});
      fs.rmSync(bare, { recursive: true, force: true });
    }
  });

  it('--help says what / serves with --root, and documents --cache-control', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).to.equal(0);
    expect(stdout).to.match(/GET {2}\/ {7}--root's index\.html when --root is given and has one; otherwise/);
    expect(stdout).to.include('--cache-control VALUE');
    expect(stdout).to.include('OPTIONS');
  });

  it('--cache-control refuses a value that would inject header lines', async () => {
    const { code, stderr } = await runCli(['--cache-control', 'max-age=1\r\nSet-Cookie: x=y']);
    expect(code).to.equal(2);
    expect(stderr).to.match(/--cache-control must be printable ASCII/);
  });

  describe('with curl', () => {
    before(async function () {
      const ok = await new Promise<boolean>((resolve) => execFile('curl', ['--version'], (error) => resolve(error === null)));
      if (!ok) this.skip(); // the node:http cases above cover the same behaviour
    });

    it('`curl -C -` resumes a partial download to the exact file', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-curl-'));
      try {
        const out = path.join(dir, 'medium.bin');
        const medium = mediumFile(root);
        fs.writeFileSync(out, medium.subarray(0, 1_234_567)); // an interrupted download
        const r = await curl(['-C', '-', '-o', out, `http://127.0.0.1:${port}/medium.bin`]);
        expect(r.code, r.stderr).to.equal(0);
        expect(fs.readFileSync(out).equals(medium)).to.equal(true);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('curl -z (If-Modified-Since) gets 304 for an unchanged file', async () => {
      const file = path.join(root.dir, 'hello.txt');
      const r = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-z', new Date(fs.statSync(file).mtimeMs + 1000).toUTCString(), `http://127.0.0.1:${port}/hello.txt`]);
      expect(r.stdout).to.equal('304');
    });
  });
});
