// Helper process: opens --count idle TCP connections to 127.0.0.1:--port and
// holds them until its parent goes away. The connecting side lives in its own
// process so that the measured process holds only the accepted ends.
// With --http, each connection first sends one `GET /` and waits for its
// response (the server idle benchmark: keep-alive connections that were
// used once). Forked with an IPC channel: sends { ready: true, connected }
// once every connection is up (and answered), or { error }.
import { IO } from '../../io';
import { numberFlag, parseFlags } from './common';

const args = parseFlags(process.argv.slice(2));
const port = numberFlag(args, 'port', 0);
const count = numberFlag(args, 'count', 10_000);
const http = args.http !== undefined;
const IN_FLIGHT = 128;
const SETUP_LIMIT_MS = http ? 180_000 : 120_000;
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'latin1');

function send(message: unknown): void {
  if (process.send) process.send(message);
}

const io = new IO({ backend: 'epoll', operationsMax: 65536 });
const pool = http ? io.bufferPool({ count: 64, size: 4096 }) : null;
let started = 0;
let connected = 0;
let failed: string | null = null;

function connectOne(): void {
  if (started >= count || failed !== null) return;
  started++;
  const fd = io.socket('ipv4');
  io.connect(fd, '127.0.0.1', port, (error) => {
    if (error) {
      failed = `connect: ${error.code}`;
      return;
    }
    if (pool === null) return ready();
    io.send(fd, REQUEST, (sendError) => {
      if (sendError) failed = `send: ${sendError.code}`;
    });
    // Every peer answers the small request in one segment: one receive is the whole response.
    io.recvPooled(fd, pool, (recvError, bytes, buffer) => {
      if (buffer !== null) pool.release(buffer);
      if (recvError || bytes === 0) {
        failed = `response: ${recvError?.code ?? 'the server closed'}`;
        return;
      }
      ready();
    });
  });
}

function ready(): void {
  connected++;
  connectOne();
}

for (let i = 0; i < IN_FLIGHT; i++) connectOne();
const deadline = Date.now() + SETUP_LIMIT_MS;
while (connected < count && failed === null && Date.now() < deadline) io.runForNs(10_000_000);
if (connected < count) {
  send({ error: failed ?? `only ${connected} of ${count} ${http ? 'answered' : 'connected'} in ${SETUP_LIMIT_MS} ms` });
  process.exit(1);
}
send({ ready: true, connected });
// Hold the connections (their fds stay open) until the parent disconnects.
const keepAlive = setInterval(() => {}, 1000);
process.on('disconnect', () => {
  clearInterval(keepAlive);
  process.exit(0);
});
