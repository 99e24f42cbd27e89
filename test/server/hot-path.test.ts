// The server's hot path, from the inside (issue 16): a pipelined burst is
// answered in one send (corking), the parser reuses its request object and
// makes no strings nobody reads, a send view is reused, and timeouts take
// one timer per worker, not one per connection. Behaviour only: figures
// (GC counts, req/s) are the benchmarks' (test/bench/server-gc.ts, run.ts).
import { expect } from 'chai';
import { REQUEST, RequestParser } from '../../server/http/parser';
import { OutBuffer } from '../../server/http/response';
import { InProcessServer, rawClient } from './inprocess';

const HELLO = 'Hello, World!';
const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

describe('server: hot path (issue 16)', function () {
  this.timeout(30_000);

  describe('corking', () => {
    let server: InProcessServer;
    beforeEach(() => (server = new InProcessServer()));
    afterEach(() => server.stop());

    it('16 pipelined requests in one write are answered in one send', async () => {
      const client = await rawClient(server.port);
      client.socket.write(GET.repeat(16));
      await client.until(16, HELLO);
      const fd = server.connections[0].fd;
      // One recv brought the burst (one write on loopback), and one send answered all of it.
      expect(server.dataRecvs.get(fd)).to.equal(1);
      expect(server.sends.get(fd)).to.equal(1);
      client.socket.destroy();
    });

    it('each batch of received requests costs one send, whatever the mix of routes', async () => {
      const client = await rawClient(server.port);
      const burst = [GET, 'GET /json HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n', 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n'].join('').repeat(4);
      for (let round = 1; round <= 5; round++) {
        client.socket.write(burst);
        await client.until(round * 16, 'HTTP/1.1 '); // one status line per response
      }
      const fd = server.connections[0].fd;
      expect(server.sends.get(fd)).to.equal(server.dataRecvs.get(fd));
      expect(server.sends.get(fd)).to.be.at.most(10); // 5 bursts of 16 requests: never a send per request
      client.socket.destroy();
    });

    it('one timer for every connection: 50 open connections add no timers of their own', async () => {
      const clients = [];
      for (let i = 0; i < 50; i++) {
        const c = await rawClient(server.port);
        c.socket.write(GET);
        await c.until(1, HELLO);
        clients.push(c);
      }
      expect(server.connections).to.have.length(50);
      expect(server.timeouts.size).to.equal(50); // every connection has its deadline...
      // ...and the IO holds one recv per connection, the listener's accept, and one timer.
      expect(server.io.pending).to.equal(50 + 1 + 1);
      for (const c of clients) c.socket.destroy();
    });

    it('an idle connection is still closed at its idle timeout', async () => {
      server.stop();
      server = new InProcessServer({ idleTimeoutMs: 200 });
      const client = await rawClient(server.port);
      client.socket.write(GET);
      await client.until(1, HELLO);
      const started = Date.now();
      await new Promise<void>((resolve) => client.socket.on('close', () => resolve()));
      expect(Date.now() - started).to.be.at.least(150); // not early (the clocks differ by a little)
      expect(server.timeouts.size).to.equal(0);
    });
  });

  describe('parser', () => {
    const limits = { maxHeaderBytes: 4096, maxHeaderCount: 100, maxBodyBytes: 65536 };

    it('hands out the same request object for every request, with the right fields each time', () => {
      const parser = new RequestParser(limits);
      const buf = Buffer.from('GET /a HTTP/1.1\r\nHost: x\r\nX-One: 1\r\n\r\nPOST /b HTTP/1.1\r\nHost: y\r\nContent-Length: 2\r\n\r\nhiGET /a HTTP/1.1\r\nHost: z\r\n\r\n', 'latin1');
      let p = 0;
      const seen = [];
      for (let i = 0; i < 3; i++) {
        p += parser.execute(buf, p, buf.length);
        expect(parser.result).to.equal(REQUEST);
        const r = parser.request!;
        seen.push(r);
        expect([r.method, r.target, r.headers[1], r.body.toString()]).to.deep.equal(
          [['GET', '/a', 'x', ''], ['POST', '/b', 'y', 'hi'], ['GET', '/a', 'z', '']][i],
        );
      }
      expect(seen[1]).to.equal(seen[0]);
      expect(seen[2]).to.equal(seen[0]);
    });

    it('a request with a body keeps its fields when the buffer under its head is reused', () => {
      const parser = new RequestParser(limits);
      const head = Buffer.from('POST /e HTTP/1.1\r\nHost: h\r\nContent-Type: a/b\r\nContent-Length: 4\r\n\r\nab', 'latin1');
      parser.execute(head, 0, head.length);
      head.fill(0x41); // the connection moves or overwrites its buffer between receives
      const rest = Buffer.from('cd');
      parser.execute(rest, 0, 2);
      expect(parser.result).to.equal(REQUEST);
      expect(parser.request!.headers).to.deep.equal(['Host', 'h', 'Content-Type', 'a/b', 'Content-Length', '4']);
      expect(parser.request!.contentType).to.equal('a/b');
      expect(parser.request!.body.toString()).to.equal('abcd');
    });
  });

  it('an output buffer hands out the same send view for the same range', () => {
    const out = new OutBuffer(64);
    out.writeLatin1('x'.repeat(40));
    const a = out.view(0, 40);
    expect(out.view(0, 40)).to.equal(a);
    expect(out.view(0, 30)).not.to.equal(a);
    out.reserve(1000); // a new underlying buffer: a new view
    expect(out.view(0, 30)).not.to.equal(a);
    expect(out.view(0, 30).toString()).to.equal('x'.repeat(30));
  });
});
