// The sample server's static files on every kernel backend (the other
// static-file tests run on the default one): a file larger than a socket
// buffer, a range, a small file, and pipelined requests after a file on one
// keep-alive connection. The socket is corked from each head to the file's
// last byte (server/connection.ts): what arrives must be the same.
import { expect } from 'chai';
import { IO } from '../../io';
import { makeStaticRoot, mediumFile, type StaticRoot } from './fixtures';
import { killAll, RawClient, request, startServer, type ServerProcess } from './support';

for (const backend of IO.backends().filter((name) => name !== 'simulation')) {
  describe(`server: static files on ${backend}`, function () {
    this.timeout(60_000);
    let root: StaticRoot;
    let server: ServerProcess;

    before(async () => {
      root = makeStaticRoot();
      server = await startServer(['--port', '0', '--threads', '1', '--backend', backend, '--root', root.dir]);
    });

    after(async () => {
      if (server) await server.stop().catch(() => {});
      killAll();
      root?.remove();
    });

    it('serves a file larger than a socket buffer, a range of it, and a small file, byte for byte', async () => {
      const medium = mediumFile(root);
      const whole = await request(server.port, { path: '/medium.bin' });
      expect(whole.status).to.equal(200);
      expect(whole.body.equals(medium)).to.equal(true);
      const range = await request(server.port, { path: '/medium.bin', headers: { range: 'bytes=1000-1999999' } });
      expect(range.status).to.equal(206);
      expect(range.body.equals(medium.subarray(1000, 2_000_000))).to.equal(true);
      const small = await request(server.port, { path: '/hello.txt' });
      expect(small.status).to.equal(200);
      expect(small.body.toString()).to.equal('hello from a file\n');
    });

    it('answers pipelined requests after a file on one connection, in order', async () => {
      const client = await RawClient.connect(server.port);
      try {
        client.write('GET /medium.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\n\r\n');
        const [file, small, json] = await client.responses(3, 30_000);
        expect(file.status).to.equal(200);
        expect(file.body.equals(mediumFile(root))).to.equal(true);
        expect(small.body.toString()).to.equal('hello from a file\n');
        expect(json.status).to.equal(200);
      } finally {
        client.destroy();
      }
    });
  });
}
