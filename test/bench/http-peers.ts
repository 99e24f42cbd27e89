// The Node peers of the HTTP hello benchmark, on one thread:
//   --kind http  node:http answering "Hello, World!" as text/plain
//   --kind raw   node:net answering every request head (each "\r\n\r\n")
//                with a pre-serialized response of the same shape: no parser
//   --kind tigerio-raw --backend B
//                the same raw answering on tigerio (attached to Node's loop,
//                as the sample server is): the I/O layer alone, without the
//                sample server's parser, routing and timers
// Prints `listening PORT` on stdout once it accepts; exits on SIGTERM.
import * as http from 'node:http';
import * as net from 'node:net';
import { IO, type IOError } from '../../io';
import { parseFlags } from './common';

const args = parseFlags(process.argv.slice(2));
const kind = args.kind ?? 'http';
const BODY = 'Hello, World!';

function rawResponse(): Buffer {
  return Buffer.from(
    `HTTP/1.1 200 OK\r\nServer: raw\r\nDate: ${new Date().toUTCString()}\r\n` +
      `Content-Type: text/plain\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`,
  );
}

/** Counts request heads ("\r\n\r\n") in data[start, end); `state` is how much of the terminator the previous bytes matched. */
function countHeads(data: Uint8Array, start: number, end: number, state: { tail: number }): number {
  let requests = 0;
  let tail = state.tail;
  for (let i = start; i < end; i++) {
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
  state.tail = tail;
  return requests;
}

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
  let canned = rawResponse();
  setInterval(() => (canned = rawResponse()), 1000).unref();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const state = { tail: 0 };
    socket.on('data', (data: Buffer) => {
      const requests = countHeads(data, 0, data.length, state);
      if (requests === 1) socket.write(canned);
      else if (requests > 1) socket.write(Buffer.concat(Array(requests).fill(canned)));
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => announce(server));
} else if (kind === 'tigerio-raw') {
  tigerioRaw(args.backend ?? IO.backends()[0]);
} else {
  throw new Error(`unknown --kind ${kind}`);
}

function tigerioRaw(backend: string): void {
  const io = new IO({ backend });
  io.attach();
  const listener = io.listen('127.0.0.1', 0, { backlog: 4096 });
  let canned = rawResponse();
  setInterval(() => (canned = rawResponse()), 1000).unref();

  class Connection {
    readonly buffer = new Uint8Array(16384);
    readonly state = { tail: 0 };
    private out: Uint8Array = canned;
    private sent = 0;
    private readonly onRecvBound = (error: IOError | null, n: number): void => this.onRecv(error, n);
    private readonly onSendBound = (error: IOError | null, n: number): void => this.onSend(error, n);
    constructor(readonly fd: number) {}
    recv(): void {
      io.recv(this.fd, this.buffer, this.onRecvBound);
    }
    private onRecv(error: IOError | null, n: number): void {
      if (error !== null || n === 0) return this.close();
      const requests = countHeads(this.buffer, 0, n, this.state);
      if (requests === 0) return this.recv();
      this.out = requests === 1 ? canned : Buffer.concat(Array(requests).fill(canned));
      this.sent = 0;
      io.send(this.fd, this.out, this.onSendBound);
    }
    private onSend(error: IOError | null, n: number): void {
      if (error !== null) return this.close();
      this.sent += n;
      if (this.sent < this.out.length) io.send(this.fd, this.out.subarray(this.sent), this.onSendBound);
      else this.recv();
    }
    private close(): void {
      io.close(this.fd, () => {});
    }
  }

  const onAccept = (error: IOError | null, fd: number): void => {
    if (error === null) new Connection(fd).recv();
    if (error === null || error.code !== 'ECANCELED') io.accept(listener, onAccept);
  };
  for (let i = 0; i < 16; i++) io.accept(listener, onAccept);
  const { port } = io.localAddress(listener);
  process.stdout.write(`listening ${port}\n`);
  process.on('SIGTERM', () => process.exit(0));
}
