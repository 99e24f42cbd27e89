// Accept loop with connection churn: the server accepts a connection and
// closes it at once, then accepts the next; a C client process
// (accept_client.c, compiled by the runner) connects from --clients
// threads, each waiting for the close before it connects again. The
// figure is the server's CPU time (user + system) per accepted
// connection over --duration ms, after --warmup ms not counted: what the
// accept path costs, io_uring's multishot accepts included
// (native/README.md).
//
//   node accept-loop.js --impl tigerio --backend io_uring --client PATH [--clients 4 --duration 3000]
//   node accept-loop.js --impl net --client PATH
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { IO, type IOError } from '../../io';
import { numberFlag, parseFlags, report } from './common';

const args = parseFlags(process.argv.slice(2));
const impl = args.impl ?? 'tigerio';
const durationMs = numberFlag(args, 'duration', 3000);
const warmupMs = numberFlag(args, 'warmup', 500);
const clients = numberFlag(args, 'clients', 4);
const clientPath = args.client;
if (clientPath === undefined) throw new Error('--client PATH (accept_client, compiled from accept_client.c) is required');

/** Starts the C client against `port`; it exits by itself after the run. */
function startClient(port: number): { kill(): void } {
  const seconds = Math.ceil((warmupMs + durationMs) / 1000) + 2;
  const child = spawn(clientPath!, [String(port), String(clients), String(seconds)], { stdio: 'ignore' });
  return { kill: () => child.kill('SIGKILL') };
}

function finish(accepted: number, cpu: NodeJS.CpuUsage, seconds: number, extra: Record<string, unknown>): void {
  report({
    impl,
    clients,
    accepted,
    seconds,
    connectionsPerSecond: accepted / seconds,
    cpuUsPerConnection: accepted > 0 ? (cpu.user + cpu.system) / accepted : null,
    ...extra,
  });
}

if (impl === 'tigerio') {
  const backend = args.backend ?? IO.backends()[0];
  const io = new IO({ backend });
  const listener = io.listen('127.0.0.1', 0);
  const client = startClient(io.localAddress(listener).port);
  let accepted = 0;
  let running = true;
  const onClose = (): void => {};
  const onAccept = (error: IOError | null, fd: number): void => {
    if (!running) return;
    if (error !== null) throw error;
    accepted++;
    io.close(fd, onClose);
    io.accept(listener, onAccept);
  };
  io.accept(listener, onAccept);
  io.runForNs(warmupMs * 1e6);
  const before = accepted;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  io.runForNs(durationMs * 1e6);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  running = false;
  client.kill();
  io.deinit();
  finish(accepted - before, cpu, seconds, { backend });
} else if (impl === 'net') {
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    socket.destroy();
  });
  server.listen(0, '127.0.0.1', () => {
    const client = startClient((server.address() as net.AddressInfo).port);
    setTimeout(() => {
      const before = accepted;
      const cpuBefore = process.cpuUsage();
      const start = process.hrtime.bigint();
      setTimeout(() => {
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const cpu = process.cpuUsage(cpuBefore);
        client.kill();
        server.close();
        finish(accepted - before, cpu, seconds, {});
      }, durationMs);
    }, warmupMs);
  });
} else {
  throw new Error(`unknown --impl ${impl}`);
}
