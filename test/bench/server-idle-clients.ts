// Helper process of the server idle benchmark: opens --count keep-alive
// connections to 127.0.0.1:--port, sends one `GET /` on each, waits for its
// response, and then holds every connection open, idle, until its parent
// goes away. Sends { ready: true } over IPC once every response came (or { error }).
import { IO } from '../../io';
import { numberFlag, parseFlags } from './common';

const args = parseFlags(process.argv.slice(2));
const port = numberFlag(args, 'port', 0);
const count = numberFlag(args, 'count', 10_000);
const IN_FLIGHT = 128;
const SETUP_LIMIT_MS = 180_000;
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'latin1');

function send(message: unknown): void {
  if (process.send) process.send(message);
}

const io = new IO({ backend: 'epoll', operationsMax: 65536 });
const pool = io.bufferPool({ count: 64, size: 4096 });
let started = 0;
let answered = 0;
let failed: string | null = null;

function requestOne(): void {
  if (started >= count || failed !== null) return;
  started++;
  const fd = io.socket('ipv4');
  io.connect(fd, '127.0.0.1', port, (error) => {
    if (error) {
      failed = `connect: ${error.code}`;
      return;
    }
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
      answered++;
      requestOne();
    });
  });
}

for (let i = 0; i < IN_FLIGHT; i++) requestOne();
const deadline = Date.now() + SETUP_LIMIT_MS;
while (answered < count && failed === null && Date.now() < deadline) io.runForNs(10_000_000);
if (answered < count) {
  send({ error: failed ?? `only ${answered} of ${count} answered in ${SETUP_LIMIT_MS} ms` });
  process.exit(1);
}
send({ ready: true, answered });
const keepAlive = setInterval(() => {}, 1000);
process.on('disconnect', () => {
  clearInterval(keepAlive);
  process.exit(0);
});
