// The tigerio side of the static-file benchmark: an HTTP/1.1 keep-alive
// server on one thread that answers every request head ("\r\n\r\n") with
// one file, its body sent by io.sendFile (the kernel copies the file to the
// socket; no byte passes through JavaScript). No parser and no routing: the
// I/O layer alone, as nginx's `sendfile on` serves a static file; and, as
// its `tcp_nopush on`, the socket is corked from the head to the file's
// last byte (io.setCork).
//
//   node sendfile-server.js --backend epoll --file /tmp/x/file.bin [--cork false]
// (--cork false: never corked, to measure what the cork is worth)
// Prints `listening PORT` once it accepts; exits on SIGTERM.
import * as fs from 'node:fs';
import { IO, type IOError } from '../../io';
import { parseFlags } from './common';

const args = parseFlags(process.argv.slice(2));
const backend = args.backend ?? IO.backends()[0];
if (args.file === undefined) throw new Error('--file is required');
const filePath = args.file;
const fileBytes = fs.statSync(filePath).size;
const cork = args.cork !== 'false';

const io = new IO({ backend });
io.attach();
const listener = io.listen('127.0.0.1', 0);
let file = -1;
const head = Buffer.from(
  `HTTP/1.1 200 OK\r\nServer: tigerio-sendfile\r\nContent-Type: application/octet-stream\r\nContent-Length: ${fileBytes}\r\n\r\n`,
);

/** One connection: read a request head, send the head and the file, repeat. */
class Connection {
  private readonly inbox = new Uint8Array(4096);
  private tail = 0; // how much of "\r\n\r\n" the bytes so far matched
  private pending = 0; // request heads read and not yet answered
  private sending = false;
  private headSent = 0;
  private bodySent = 0;

  constructor(private readonly fd: number) {}

  start(): void {
    this.recv();
  }

  private recv(): void {
    io.recv(this.fd, this.inbox, (error, size) => this.onRecv(error, size));
  }

  private onRecv(error: IOError | null, size: number): void {
    if (error !== null || size === 0) {
      io.close(this.fd, () => {});
      return;
    }
    for (let i = 0; i < size; i++) {
      const byte = this.inbox[i];
      if (byte === (this.tail === 0 || this.tail === 2 ? 13 : 10)) {
        if (++this.tail === 4) {
          this.pending++;
          this.tail = 0;
        }
      } else {
        this.tail = byte === 13 ? 1 : 0;
      }
    }
    if (!this.sending && this.pending > 0) this.answer();
    this.recv();
  }

  private answer(): void {
    this.sending = true;
    this.pending--;
    this.headSent = 0;
    this.bodySent = 0;
    if (cork) io.setCork(this.fd, true);
    this.sendHead();
  }

  private sendHead(): void {
    io.send(this.fd, head.subarray(this.headSent), (error, sent) => {
      if (error !== null) return;
      this.headSent += sent;
      if (this.headSent < head.length) this.sendHead();
      else this.sendBody();
    });
  }

  private sendBody(): void {
    io.sendFile(this.fd, file, this.bodySent, fileBytes - this.bodySent, (error, sent) => {
      if (error !== null || sent === 0) return; // the peer went away (its recv closes the fd)
      this.bodySent += sent;
      if (this.bodySent < fileBytes) {
        this.sendBody();
        return;
      }
      if (cork) io.setCork(this.fd, false);
      this.sending = false;
      if (this.pending > 0) this.answer();
    });
  }
}

io.open(filePath, 'r', undefined, (error, fd) => {
  if (error !== null) throw error;
  file = fd;
  const accept = (): void => {
    io.accept(listener, (error, client) => {
      if (error === null) new Connection(client).start();
      accept();
    });
  };
  accept();
  process.stdout.write(`listening ${io.localAddress(listener).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
