// The server's HTTP/1.1 behaviour through real clients: node:http, raw
// sockets, curl where installed. Run in both accept modes: reuseport (each
// worker listens) and single (the main thread accepts and hands off).
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { expect } from 'chai';
import { makeStaticRoot, mediumFile, type StaticRoot } from './fixtures';
import { IO } from '../../io';
import { killAll, parseResponses, RawClient, request, startServer, within, type ServerProcess } from './support';

const HELLO = 'Hello, World!';

function curlAvailable(): Promise<boolean> {
  return new Promise((resolve) => execFile('curl', ['--version'], (error) => resolve(error === null)));
}

function curl(args: string[]): Promise<{ code: number; stdout: string }> {
  return within(
    new Promise((resolve) => {
      execFile('curl', ['-s', '--max-time', '10', ...args], { encoding: 'utf8' }, (error, stdout) =>
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), stdout }),
      );
    }),
    15_000,
    `curl ${args.join(' ')}`,
  );
}

for (const mode of ['reuseport', 'single'] as const) {
  describe(`server: HTTP/1.1 (accept-mode ${mode})`, function () {
    this.timeout(30_000);
    let root: StaticRoot;
    let server: ServerProcess;
    let port: number;

    before(async () => {
      root = makeStaticRoot();
      server = await startServer([
        '--port', '0', '--threads', '2', '--accept-mode', mode, '--root', root.dir,
        '--max-body-bytes', '262144', '--header-timeout-ms', '2000', '--idle-timeout-ms', '3000',
      ]);
      port = server.port;
    });

    after(async () => {
      if (server) await server.stop().catch(() => {});
      killAll();
      root?.remove();
    });

    it('prints a startup line with the address, backend, thread count and accept mode', () => {
      expect(server.startupLine).to.match(/listening on http:\/\/127\.0\.0\.1:\d+ \(backend \w+, 2 threads, accept /);
      expect(server.startupLine).to.include(`accept ${mode}`);
    });

    it('GET / answers "Hello, World!" with Date, Server, Content-Type and Content-Length', async () => {
      const res = await request(port, { path: '/' });
      expect(res.status).to.equal(200);
      expect(res.body.toString()).to.equal(HELLO);
      expect(res.headers['content-type']).to.equal('text/plain');
      expect(res.headers['content-length']).to.equal('13');
      expect(res.headers.server).to.equal('tigerio');
      const date = Date.parse(res.headers.date!);
      expect(Math.abs(date - Date.now())).to.be.below(60_000);
      expect(res.headers.date).to.match(/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    });

    it('GET /json answers a small JSON object', async () => {
      const res = await request(port, { path: '/json' });
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal('application/json');
      expect(JSON.parse(res.body.toString())).to.deep.equal({ message: HELLO });
    });

    it('GET with a query string and an absolute-form target route by path', async () => {
      expect((await request(port, { path: '/json?x=1' })).status).to.equal(200);
      const c = await RawClient.connect(port);
      c.write(`GET http://127.0.0.1:${port}/json HTTP/1.1\r\nHost: x\r\n\r\n`);
      const [r] = await c.responses(1);
      expect(r.status).to.equal(200);
      expect(JSON.parse(r.body.toString())).to.deep.equal({ message: HELLO });
      c.destroy();
    });

    it('POST /echo echoes a Content-Length body and a chunked body', async () => {
      const body = crypto.randomBytes(100_000);
      const res = await request(port, { method: 'POST', path: '/echo', body, headers: { 'content-type': 'application/x-test' } });
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal('application/x-test');
      expect(res.body.equals(body)).to.equal(true);
      const parts = [crypto.randomBytes(10), crypto.randomBytes(70_000), crypto.randomBytes(1)];
      const chunked = await request(port, { method: 'POST', path: '/echo', chunks: parts, headers: { 'transfer-encoding': 'chunked' } });
      expect(chunked.status).to.equal(200);
      expect(chunked.headers['content-type']).to.equal('application/octet-stream');
      expect(chunked.body.equals(Buffer.concat(parts))).to.equal(true);
    });

    it('HEAD answers the headers of GET without a body', async () => {
      const res = await request(port, { method: 'HEAD', path: '/' });
      expect(res.status).to.equal(200);
      expect(res.headers['content-length']).to.equal('13');
      expect(res.body.length).to.equal(0);
      const file = await request(port, { method: 'HEAD', path: '/hello.txt' });
      expect(file.headers['content-length']).to.equal('18');
      expect(file.body.length).to.equal(0);
    });

    it('keeps HTTP/1.1 connections alive across requests (node:http agent)', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const reused: boolean[] = [];
        for (let i = 0; i < 20; i++) {
          const res = await request(port, { path: i % 2 ? '/json' : '/', agent });
          expect(res.status).to.equal(200);
          reused.push(res.reusedSocket);
        }
        expect(reused.slice(1).every(Boolean)).to.equal(true);
      } finally {
        agent.destroy();
      }
    });

    it('HTTP/1.0 without keep-alive: Connection: close, then the server closes', async () => {
      const c = await RawClient.connect(port);
      c.write('GET / HTTP/1.0\r\n\r\n');
      await c.waitClosed();
      const [r] = await c.responses(1);
      expect(r.status).to.equal(200);
      expect(r.headers.connection).to.equal('close');
      expect(r.body.toString()).to.equal(HELLO);
    });

    it('HTTP/1.0 with keep-alive: Connection: keep-alive, and the connection serves more', async () => {
      const c = await RawClient.connect(port);
      c.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      await c.responses(1);
      c.write('GET /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      const rs = await c.responses(2);
      expect(rs.map((r) => r.headers.connection)).to.deep.equal(['keep-alive', 'keep-alive']);
      expect(JSON.parse(rs[1].body.toString())).to.deep.equal({ message: HELLO });
      expect(c.ended).to.equal(false);
      c.destroy();
    });

    it('Connection: close: the response says so and the server closes', async () => {
      const c = await RawClient.connect(port);
      c.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await c.waitClosed();
      const rs = await c.responses(1);
      expect(rs).to.have.length(1);
      expect(rs[0].headers.connection).to.equal('close');
    });

    it('answers 100 pipelined requests sent in one packet, in order', async () => {
      const c = await RawClient.connect(port);
      let batch = '';
      const expected: string[] = [];
      for (let i = 0; i < 100; i++) {
        if (i % 3 === 0) {
          batch += 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
          expected.push(HELLO);
        } else if (i % 3 === 1) {
          const body = `body number ${i}`;
          batch += `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
          expected.push(body);
        } else {
          batch += 'GET /json HTTP/1.1\r\nHost: x\r\n\r\n';
          expected.push(JSON.stringify({ message: HELLO }));
        }
      }
      c.write(batch);
      const rs = await c.responses(100);
      expect(rs.map((r) => r.body.toString())).to.deep.equal(expected);
      c.destroy();
    });

    it('pipelined requests mixing static files keep their order', async () => {
      const c = await RawClient.connect(port);
      c.write(
        'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n' +
          'GET /missing HTTP/1.1\r\nHost: x\r\n\r\nGET /style.css HTTP/1.1\r\nHost: x\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\n\r\n',
      );
      const rs = await c.responses(5);
      expect(rs.map((r) => r.status)).to.deep.equal([200, 200, 404, 200, 200]);
      expect(rs[0].body.toString()).to.equal('hello from a file\n');
      expect(rs[1].body.toString()).to.equal(HELLO);
      expect(rs[3].body.toString()).to.equal('body { color: red }\n');
      c.destroy();
    });

    it('answers 100-continue before reading the body', async () => {
      const c = await RawClient.connect(port);
      c.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
      await c.until(() => c.data.toString().includes('100 Continue'), 5000, '100 Continue');
      c.write('hello');
      const rs = await c.responses(2);
      expect(rs[0].status).to.equal(100);
      expect(rs[1].body.toString()).to.equal('hello');
      c.destroy();
    });

    it('405 with Allow for a method a route does not take', async () => {
      const del = await request(port, { method: 'DELETE', path: '/' });
      expect(del.status).to.equal(405);
      expect(del.headers.allow).to.equal('GET, HEAD, OPTIONS');
      const get = await request(port, { path: '/echo' });
      expect(get.status).to.equal(405);
      expect(get.headers.allow).to.equal('POST, OPTIONS');
      const c = await RawClient.connect(port);
      c.write('BREW /json HTTP/1.1\r\nHost: x\r\n\r\n');
      const [r] = await c.responses(1);
      expect(r.status).to.equal(405);
      expect(r.headers.allow).to.equal('GET, HEAD, OPTIONS');
      const file = await request(port, { method: 'PUT', path: '/hello.txt', body: 'x' });
      expect(file.status).to.equal(405);
      expect(file.headers.allow).to.equal('GET, HEAD, OPTIONS');
      c.destroy();
    });

    describe('static files', () => {
      it('serves files with Content-Type by extension', async () => {
        const cases: [string, string, string][] = [
          ['/hello.txt', 'text/plain; charset=utf-8', 'hello from a file\n'],
          ['/style.css', 'text/css; charset=utf-8', 'body { color: red }\n'],
          ['/data.json', 'application/json', '{"a":1}\n'],
          ['/noext', 'application/octet-stream', 'raw'],
          ['/a%20b.txt', 'text/plain; charset=utf-8', 'space\n'],
          ['/empty.txt', 'text/plain; charset=utf-8', ''],
          ['/sub/', 'text/html; charset=utf-8', '<h1>sub</h1>\n'],
          ['/link-in.txt', 'text/plain; charset=utf-8', 'hello from a file\n'],
          ['/./sub/./index.html', 'text/html; charset=utf-8', '<h1>sub</h1>\n'],
        ];
        for (const [path, type, body] of cases) {
          const res = await request(port, { path });
          expect(res.status, path).to.equal(200);
          expect(res.headers['content-type'], path).to.equal(type);
          expect(res.body.toString(), path).to.equal(body);
        }
      });

      it('serves a file bigger than the socket buffers intact, through partial sends', async () => {
        const res = await request(port, { path: '/medium.bin' });
        expect(res.status).to.equal(200);
        expect(res.body.equals(mediumFile(root))).to.equal(true);
      });

      it('404 for missing files and directories without index.html', async () => {
        expect((await request(port, { path: '/nope.txt' })).status).to.equal(404);
        expect((await request(port, { path: '/noindex/' })).status).to.equal(404);
        expect((await request(port, { path: '/sub/nope' })).status).to.equal(404);
      });

      it('never escapes the root: .., %2e%2e, encoded slashes, symlinks out, NUL', async () => {
        const escapes = [
          '/../outside/secret.txt',
          '/sub/../../outside/secret.txt',
          '/%2e%2e/outside/secret.txt',
          '/%2E%2E/outside/secret.txt',
          '/sub/%2e%2e%2f%2e%2e%2foutside/secret.txt',
          '/..%2foutside%2fsecret.txt',
          '/..%5coutside%5csecret.txt',
          '/link-out.txt',
          '/dir-out/secret.txt',
          '/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc/passwd',
        ];
        for (const path of escapes) {
          const c = await RawClient.connect(port);
          c.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
          await c.waitClosed();
          const [r] = await c.responses(1);
          expect(r.status, path).to.be.oneOf([400, 403, 404]);
          expect(r.body.toString(), path).not.to.include('SECRET');
          expect(c.data.toString(), path).not.to.include('root:');
        }
        for (const path of ['/hello.txt%00.html', '/%00', '/bad%zzescape']) {
          const res = await request(port, { path });
          expect(res.status, path).to.equal(400);
        }
      });
    });

    describe('with curl', () => {
      before(async function () {
        if (!(await curlAvailable())) this.skip();
      });

      it('GET, HEAD, POST, HTTP/1.0, keep-alive reuse and a file', async () => {
        const base = `http://127.0.0.1:${port}`;
        expect((await curl([`${base}/`])).stdout).to.equal(HELLO);
        expect((await curl(['--http1.0', `${base}/json`])).stdout).to.equal(JSON.stringify({ message: HELLO }));
        expect((await curl(['-I', `${base}/`])).stdout).to.match(/^HTTP\/1\.1 200 OK/);
        const big = 'x'.repeat(5000);
        expect((await curl(['-H', 'Expect: 100-continue', '--data-binary', big, `${base}/echo`])).stdout).to.equal(big);
        const two = await curl(['-v', `${base}/`, `${base}/json`]);
        expect(two.stdout).to.equal(HELLO + JSON.stringify({ message: HELLO }));
        expect((await curl([`${base}/hello.txt`])).stdout).to.equal('hello from a file\n');
        const status = await curl(['-o', '/dev/null', '-w', '%{http_code}', '--path-as-is', `${base}/../outside/secret.txt`]);
        expect(status.stdout).to.equal('404');
      });
    });
  });
}

// A client that sends its last request and its end of stream together
// (socket.end(request)) must get the answer and the close at once, on every
// backend: not after the idle timeout. A readiness backend once missed the
// end of stream that came in the same event as the data it read short.
describe('server: the end of stream right behind the last request', function () {
  this.timeout(30_000);
  const backends = IO.backends().filter((name) => name !== 'simulation');
  for (const backend of backends) {
    it(`answers and closes at once (${backend}; idle timeout 10 minutes)`, async () => {
      const server = await startServer([
        '--port', '0', '--threads', '1', '--backend', backend, '--idle-timeout-ms', '600000', '--header-timeout-ms', '600000',
      ]);
      try {
        for (let round = 0; round < 20; round++) {
          const client = await RawClient.connect(server.port);
          // One request first: the server's next recv then waits (and came back short).
          client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
          expect((await client.responses(1))[0].status).to.equal(200);
          // The last request in one-byte writes, then the end of stream: while the
          // server works through the first bytes, the last one and the end of
          // stream arrive together (one readable event, on a readiness backend).
          const last = Buffer.from('GET /json HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1');
          for (let at = 0; at < last.length; at++) client.socket.write(last.subarray(at, at + 1));
          client.socket.end();
          // Bounded well below the idle timeout: a server waiting for it fails here.
          await client.waitClosed(10_000);
          const responses = parseResponses(client.data);
          expect(responses.map((response) => response.status)).to.deep.equal([200, 200]);
          expect(responses[1].body.toString()).to.equal(JSON.stringify({ message: HELLO }));
        }
      } finally {
        await server.stop('SIGTERM');
      }
    });
  }
});
