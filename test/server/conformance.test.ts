// HTTP/1.1 conformance through the real CLI and raw sockets: the cases
// issue 16 found failing against an RFC 9110/9112 corpus, and the two
// choices the RFC leaves open (Content-Length lists, 100-continue after the
// body arrived), as server/README.md documents them.
import { expect } from 'chai';
import { killAll, RawClient, startServer, type ParsedResponse, type ServerProcess } from './support';

const HELLO = 'Hello, World!';

describe('server: HTTP/1.1 conformance (issue 16)', function () {
  this.timeout(60_000);
  let server: ServerProcess;
  let port: number;

  before(async () => {
    server = await startServer(['--port', '0', '--threads', '1', '--max-body-bytes', '65536', '--max-header-bytes', '16384']);
    port = server.port;
  });

  after(async () => {
    if (server) await server.stop().catch(() => {});
    killAll();
  });

  /** Sends raw bytes; returns the first response and whether the server closed the connection after it. */
  async function exchange(bytes: string, closes: boolean): Promise<ParsedResponse> {
    const c = await RawClient.connect(port);
    try {
      c.write(bytes);
      if (closes) await c.waitClosed();
      const rs = await c.responses(1);
      expect(rs.length, c.data.toString('latin1').slice(0, 200)).to.be.at.least(1);
      if (!closes) expect(c.ended, 'connection kept open').to.equal(false);
      return rs[0];
    } finally {
      c.destroy();
    }
  }

  async function expectError(bytes: string, status: number): Promise<void> {
    const r = await exchange(bytes, true);
    expect(r.status, JSON.stringify(bytes.slice(0, 120))).to.equal(status);
    expect(r.headers.connection).to.equal('close');
    expect(r.body.toString()).not.to.include('abcde'); // never a body echoed
  }

  it('Host with userinfo, a path, a list, or empty: 400 and close', async () => {
    for (const host of ['user@h:80', 'h:80/path', '', 'h:80, other.example.com']) {
      await expectError(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400);
    }
    expect((await exchange('GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n', false)).body.toString()).to.equal(HELLO);
  });

  it('chunk-size lines the grammar forbids: 400 and close, the body never echoed', async () => {
    for (const line of ['5;', '5;bad[=x', '5 ']) {
      await expectError(`POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${line}\r\nabcde\r\n0\r\n\r\n`, 400);
    }
    const ok = await exchange('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;name="v" ; n2=t\r\nabcde\r\n0\r\n\r\n', false);
    expect(ok.body.toString()).to.equal('abcde');
  });

  it('a size that cannot be represented is 400 and close; a well-formed size over the limit stays 413', async () => {
    await expectError('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF0\r\n', 400);
    await expectError('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n', 400);
    await expectError('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n', 413);
    await expectError('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFF\r\n', 413);
  });

  it('OPTIONS * and OPTIONS /path: 200 with Allow and no content; * with another method: 400', async () => {
    const star = await exchange('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', false);
    expect(star.status).to.equal(200);
    expect(star.headers.allow).to.equal('GET, HEAD, POST, OPTIONS');
    expect(star.headers['content-length']).to.equal('0');
    const root = await exchange('OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n', false);
    expect(root.status).to.equal(200);
    expect(root.headers.allow).to.equal('GET, HEAD, OPTIONS');
    const echo = await exchange('OPTIONS /echo HTTP/1.1\r\nHost: x\r\n\r\n', false);
    expect(echo.headers.allow).to.equal('POST, OPTIONS');
    expect((await exchange('GET * HTTP/1.1\r\nHost: x\r\n\r\n', false)).status).to.equal(400);
  });

  it('a fragment in the request target is dropped', async () => {
    const r = await exchange('GET /json#frag HTTP/1.1\r\nHost: x\r\n\r\n', false);
    expect(r.status).to.equal(200);
    expect(JSON.parse(r.body.toString())).to.deep.equal({ message: HELLO });
    expect((await exchange('GET /json?x=1#f?y HTTP/1.1\r\nHost: x\r\n\r\n', false)).status).to.equal(200);
  });

  it('a 100 KB method: 400 (not 431); a URI too long: 414; header fields too large: 431', async () => {
    await expectError(`${'A'.repeat(100 * 1024)} / HTTP/1.1\r\nHost: x\r\n\r\n`, 400);
    await expectError(`GET /${'a'.repeat(17 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414);
    await expectError(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`, 431);
  });

  it('Content-Length: 5, 5 is one length of 5 (accepted, as RFC 9110 §8.6 allows)', async () => {
    const r = await exchange('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nabcde', false);
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.equal('abcde');
  });

  it('Expect: 100-continue with the body already sent: no 100 Continue, just the response', async () => {
    const c = await RawClient.connect(port);
    c.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nabcde');
    const rs = await c.responses(1);
    expect(rs[0].status).to.equal(200);
    expect(rs[0].body.toString()).to.equal('abcde');
    // And nothing more follows: a second request gets exactly one more response.
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const both = await c.responses(2);
    expect(both.map((r) => r.status)).to.deep.equal([200, 200]);
    expect(c.data.toString('latin1')).not.to.include('100 Continue');
    c.destroy();
  });
});
