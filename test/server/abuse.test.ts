// Bad input and load, each item of the list a test, against the
// real CLI with short timeouts (so the suite stays fast; no assertion has a
// timing upper bound, every wait is bounded).
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { makeStaticRoot, SPARSE_SIZE, type StaticRoot } from './fixtures';
import { delay, killAll, RawClient, request, startServer, within, type ServerProcess } from './support';

const HELLO = 'Hello, World!';

for (const mode of ['reuseport', 'single'] as const) {
  describe(`server: bad input and load (accept-mode ${mode})`, function () {
    this.timeout(60_000);
    let root: StaticRoot;
    let server: ServerProcess;
    let port: number;

    before(async () => {
      root = makeStaticRoot(mode === 'reuseport' ? 64 * 1024 * 1024 : 0);
      server = await startServer([
        '--port', '0', '--threads', '2', '--accept-mode', mode, '--root', root.dir,
        '--max-header-bytes', '16384', '--max-body-bytes', '65536',
        '--header-timeout-ms', '500', '--idle-timeout-ms', '1000', '--send-timeout-ms', '1000',
      ]);
      port = server.port;
    });

    after(async () => {
      if (server) await server.stop().catch(() => {});
      killAll();
      root?.remove();
    });

    /** Sends raw bytes; expects one response with `status`, then the server closing the connection. */
    async function expectStatusAndClose(bytes: string | Buffer, status: number): Promise<void> {
      const c = await RawClient.connect(port);
      c.write(bytes);
      await c.waitClosed();
      const rs = await c.responses(1);
      expect(rs.length, c.data.toString('latin1').slice(0, 200)).to.be.at.least(1);
      expect(rs[0].status).to.equal(status);
      expect(rs[0].headers.connection).to.equal('close');
    }

    it('malformed request line: 400 and close', async () => {
      await expectStatusAndClose('GARBAGE\r\n\r\n', 400);
      await expectStatusAndClose('GET /\r\nHost: x\r\n\r\n', 400);
      await expectStatusAndClose('GET / HTTP/1.1 \r\nHost: x\r\n\r\n', 400);
      await expectStatusAndClose('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 400); // a TLS hello
    });

    it('malformed header: 400 and close', async () => {
      await expectStatusAndClose('GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', 400);
      await expectStatusAndClose('GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n', 400);
      await expectStatusAndClose('GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n', 400);
      await expectStatusAndClose('GET / HTTP/1.1\r\n\r\n', 400); // no Host
    });

    it('a header block over the limit (16 KiB): 431', async () => {
      await expectStatusAndClose(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`, 431);
      // Also when it never ends.
      await expectStatusAndClose(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}`, 431);
    });

    it('a body over the limit: 413, by Content-Length and by chunks', async () => {
      await expectStatusAndClose('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n', 413);
      const chunk = 'a'.repeat(40_000);
      await expectStatusAndClose(
        `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${(40_000).toString(16)}\r\n${chunk}\r\n${(40_000).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
        413,
      );
      // node:http sees the 413 even while it is still sending the body.
      const res = await request(port, { method: 'POST', path: '/echo', body: crypto.randomBytes(1024 * 1024) }).catch((e: Error) => e);
      if (!(res instanceof Error)) expect(res.status).to.equal(413);
      else expect((res as NodeJS.ErrnoException).code).to.be.oneOf(['ECONNRESET', 'EPIPE']);
    });

    it('Content-Length with Transfer-Encoding, or two different Content-Lengths: 400 (no smuggling)', async () => {
      // The classic CL.TE smuggle: the second request must never be answered.
      const smuggle =
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\n\r\n';
      const c = await RawClient.connect(port);
      c.write(smuggle);
      await c.waitClosed();
      const rs = await c.responses(1);
      expect(rs).to.have.length(1);
      expect(rs[0].status).to.equal(400);
      await expectStatusAndClose('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde', 400);
      await expectStatusAndClose('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n', 400);
    });

    it('slowloris: a header trickled one byte at a time is cut off after the header timeout', async () => {
      const c = await RawClient.connect(port);
      const text = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(200);
      let i = 0;
      const trickle = setInterval(() => {
        if (!c.ended && i < text.length) c.write(text[i++]);
      }, 100);
      try {
        await c.waitClosed(15_000);
      } finally {
        clearInterval(trickle);
      }
      expect(i).to.be.below(text.length); // closed before the header was done
      const rs = await c.responses(1);
      if (rs.length > 0) expect(rs[0].status).to.equal(408);
      expect((await request(port, { path: '/' })).body.toString()).to.equal(HELLO); // and still serving
    });

    it('idle keep-alive connections are closed after the idle timeout', async () => {
      const c = await RawClient.connect(port);
      c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.responses(1);
      await c.waitClosed(15_000);
      expect((await c.responses(1)).length).to.equal(1);
      const silent = await RawClient.connect(port); // never sends a byte
      await silent.waitClosed(15_000);
      expect(silent.data.length).to.equal(0);
    });

    it('a client that resets mid-response is dropped; others are served', async () => {
      for (let round = 0; round < 3; round++) {
        const c = await RawClient.connect(port);
        c.write('GET /medium.bin HTTP/1.1\r\nHost: x\r\n\r\n');
        await c.until(() => c.data.length > 0, 10_000, 'first bytes');
        c.socket.resetAndDestroy();
      }
      const c = await RawClient.connect(port);
      c.write('GET /medium.bin HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.until(() => c.data.length > 0, 10_000, 'first bytes');
      c.socket.destroy(); // a plain close (FIN) mid-response: EPIPE/ECONNRESET on the server's next send
      for (let i = 0; i < 5; i++) expect((await request(port, { path: '/' })).body.toString()).to.equal(HELLO);
    });

    it('a client that stops reading a large response is dropped after the send timeout; others are served', async () => {
      const stalled = await RawClient.connect(port);
      stalled.socket.pause(); // reads nothing: the server's sends stall once the buffers fill
      stalled.write('GET /sparse.bin HTTP/1.1\r\nHost: x\r\n\r\n');
      // A head start for the server's sends (nothing to await: this client
      // reads nothing, by design); the test does not depend on its length.
      await delay(200);
      for (let i = 0; i < 5; i++) expect((await request(port, { path: '/json' })).status).to.equal(200);
      let received = 0;
      let closed = false;
      const raw = stalled.socket;
      raw.removeAllListeners('data');
      // This wait is the test itself: the client must not read for longer
      // than the 1 s send timeout, and no event marks that the server has
      // given up (it closes a socket this paused client does not read).
      await delay(2500);
      await within(
        new Promise<void>((resolve) => {
          raw.on('data', (d: Buffer) => (received += d.length));
          raw.on('close', () => {
            closed = true;
            resolve();
          });
          raw.on('error', () => {});
          raw.resume();
        }),
        15_000,
        'stalled connection to end',
      );
      expect(closed).to.equal(true);
      expect(received).to.be.below(SPARSE_SIZE); // it did not get the whole file
    });

    it('serves 1,000 concurrent keep-alive connections correctly', async function () {
      // Client and server (a child: same limit) each need 1,000 descriptors and change.
      const limit = Number(execFileSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
      if (limit < 2100) this.skip();
      // A server of its own with long timeouts: connecting 1,000 clients one
      // by one on a busy 2-core machine can outlast this suite's 500 ms
      // header timeout, which would close the first ones: a timing
      // dependence, not what this test is about.
      const own = await startServer([
        '--port', '0', '--threads', '2', '--accept-mode', mode, '--quiet',
        '--header-timeout-ms', '60000', '--idle-timeout-ms', '60000',
      ]);
      const clients: RawClient[] = [];
      try {
        for (let i = 0; i < 1000; i++) clients.push(await RawClient.connect(own.port));
        for (const [i, c] of clients.entries()) c.write(`GET ${i % 2 ? '/json' : '/'} HTTP/1.1\r\nHost: x\r\n\r\n`);
        await Promise.all(clients.map((c) => c.responses(1, 30_000)));
        for (const [i, c] of clients.entries()) c.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`);
        const all = await Promise.all(clients.map((c) => c.responses(2, 30_000)));
        for (const [i, rs] of all.entries()) {
          expect(rs[0].body.toString()).to.equal(i % 2 ? JSON.stringify({ message: HELLO }) : HELLO);
          expect(rs[1].body.toString()).to.equal(String(i));
        }
        expect(clients.filter((c) => c.ended)).to.have.length(0);
      } finally {
        for (const c of clients) c.destroy();
        await own.stop().catch(() => {});
      }
    });

    if (mode === 'reuseport') {
      it('a 64 MiB static file arrives intact through partial sends', async function () {
        this.timeout(120_000);
        const hash = crypto.createHash('sha256');
        let size = 0;
        await within(
          new Promise<void>((resolve, reject) => {
            http
              .get({ host: '127.0.0.1', port, path: '/big.bin', agent: false }, (res) => {
                expect(res.headers['content-length']).to.equal(String(root.bigSize));
                res.on('data', (d: Buffer) => {
                  size += d.length;
                  hash.update(d);
                });
                res.on('end', resolve);
                res.on('error', reject);
              })
              .on('error', reject);
          }),
          100_000,
          '64 MiB download',
        );
        expect(size).to.equal(root.bigSize);
        expect(hash.digest('hex')).to.equal(root.bigSha256);
      });
    }
  });
}

describe('server: running out of file descriptors (EMFILE)', function () {
  this.timeout(60_000);
  afterEach(killAll);

  for (const mode of ['reuseport', 'single'] as const) {
    it(`keeps serving existing connections and resumes accepting when fds free up (accept-mode ${mode})`, async () => {
      // Not --quiet: the accept backoff's warning on stderr is the event this test waits for.
      const server = await startServer(['--port', '0', '--threads', '2', '--accept-mode', mode], {
        shellPrefix: 'ulimit -n 64',
      });
      const port = server.port;
      const first: RawClient[] = [];
      const extra: net.Socket[] = [];
      try {
        // A few connections that work before the flood...
        for (let i = 0; i < 5; i++) {
          const c = await RawClient.connect(port);
          c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
          await c.responses(1);
          first.push(c);
        }
        // ...then more connections than the server has descriptors. The
        // kernel completes the handshakes (backlog), the server cannot accept them all.
        for (let i = 0; i < 120; i++) {
          const s = net.connect({ host: '127.0.0.1', port });
          s.on('error', () => {});
          s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
          extra.push(s);
        }
        await server.stderrMatches(/accept: (EMFILE|ENFILE)/);
        // Existing connections still get answers while accept fails.
        for (const [i, c] of first.entries()) {
          c.write('GET /json HTTP/1.1\r\nHost: x\r\n\r\n');
          const rs = await c.responses(2, 10_000);
          expect(rs[1].status, `connection ${i}`).to.equal(200);
        }
        expect(server.child.exitCode).to.equal(null);
        // Free the descriptors: close the flood.
        for (const s of extra) s.destroy();
        extra.length = 0;
        // Accepting resumes: new connections are served.
        let served = 0;
        for (let attempt = 0; attempt < 50 && served < 5; attempt++) {
          const res = await request(port, { path: '/' }, 10_000).catch(() => null);
          if (res !== null && res.status === 200) served++;
          else await delay(200);
        }
        expect(served).to.equal(5);
      } finally {
        for (const s of extra) s.destroy();
        for (const c of first) c.destroy();
        await server.stop().catch(() => {});
      }
    });
  }
});
