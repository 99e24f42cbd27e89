// Helper process: opens --count idle TCP connections to 127.0.0.1:--port and
// holds them until its parent goes away. The connecting side lives in its own
// process so that the measured process holds only the accepted ends.
// Forked with an IPC channel: sends { ready: true, connected } once every
// connection is up (or { error }).
import { IO } from '../../io';
import { numberFlag, parseFlags } from './common';

const args = parseFlags(process.argv.slice(2));
const port = numberFlag(args, 'port', 0);
const count = numberFlag(args, 'count', 10_000);
const CONNECTS_IN_FLIGHT = 128;
const SETUP_LIMIT_MS = 120_000;

function send(message: unknown): void {
  if (process.send) process.send(message);
}

const io = new IO({ backend: 'epoll', operationsMax: 65536 });
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
    connected++;
    connectOne();
  });
}

for (let i = 0; i < CONNECTS_IN_FLIGHT; i++) connectOne();
const deadline = Date.now() + SETUP_LIMIT_MS;
while (connected < count && failed === null && Date.now() < deadline) io.runForNs(10_000_000);
if (connected < count) {
  send({ error: failed ?? `only ${connected} of ${count} connected in ${SETUP_LIMIT_MS} ms` });
  process.exit(1);
}
send({ ready: true, connected });
// Hold the connections (their fds stay open) until the parent disconnects.
const keepAlive = setInterval(() => {}, 1000);
process.on('disconnect', () => {
  clearInterval(keepAlive);
  process.exit(0);
});
