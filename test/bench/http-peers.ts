// The Node peers of the HTTP hello benchmark, on one thread:
//   --kind http  node:http answering "Hello, World!" as text/plain
//   --kind raw   node:net answering every request head (each "\r\n\r\n")
//                with a pre-serialized response of the same shape: no parser
// Prints `listening PORT` on stdout once it accepts; exits on SIGTERM.
import * as http from 'node:http';
import * as net from 'node:net';
import { parseFlags } from './common';

const args = parseFlags(process.argv.slice(2));
const kind = args.kind ?? 'http';
const BODY = 'Hello, World!';

function announce(server: net.Server): void {
  const { port } = server.address() as net.AddressInfo;
  process.stdout.write(`listening ${port}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

if (kind === 'http') {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length });
    response.end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => announce(server));
} else if (kind === 'raw') {
  const response = (): Buffer =>
    Buffer.from(
      `HTTP/1.1 200 OK\r\nServer: raw\r\nDate: ${new Date().toUTCString()}\r\n` +
        `Content-Type: text/plain\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`,
    );
  let canned = response();
  setInterval(() => (canned = response()), 1000).unref();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let tail = 0; // how many bytes of "\r\n\r\n" the previous chunk ended with
    socket.on('data', (data: Buffer) => {
      let requests = 0;
      for (let i = 0; i < data.length; i++) {
        const byte = data[i];
        if (byte === (tail === 0 || tail === 2 ? 13 : 10)) {
          tail++;
          if (tail === 4) {
            requests++;
            tail = 0;
          }
        } else {
          tail = byte === 13 ? 1 : 0;
        }
      }
      if (requests === 1) socket.write(canned);
      else if (requests > 1) socket.write(Buffer.concat(Array(requests).fill(canned)));
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => announce(server));
} else {
  throw new Error(`unknown --kind ${kind}`);
}
