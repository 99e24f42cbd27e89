// Ping-pong (libuv's benchmark-ping-pongs): one TCP connection over loopback,
// both ends in this process, a 64-byte message sent and echoed back; the
// figure is round trips per second over --duration ms (after a short warm-up
// that is not counted). Receive buffers are 64 KiB on every side. --idle N first opens N idle connections (accepted
// here, each with a pending recv; the other ends in a helper process), to
// show that work per tick is O(ready), not O(connections). --unix runs the
// same over a Unix domain socket (a path in the temporary directory).
//
//   node pingpong.js --impl tigerio --backend epoll --duration 5000 [--idle 10000]
//   node pingpong.js --impl net --duration 5000 [--idle 10000]
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { IO } from '../../io';
import { netIdle, tigerioIdle, type IdleSet } from './idle-support';
import { numberFlag, parseFlags, report } from './common';

const MESSAGE_BYTES = 64;
/** Receive buffers are 64 KiB, as in libuv's benchmark and node:net's reads: bigger than a message. */
const RECV_BUFFER_BYTES = 65536;
const args = parseFlags(process.argv.slice(2));
const impl = args.impl ?? 'tigerio';
const durationMs = numberFlag(args, 'duration', 5000);
const warmupMs = numberFlag(args, 'warmup', 300);
const idle = numberFlag(args, 'idle', 0);
const unixPath = args.unix === 'true' ? path.join(os.tmpdir(), `tigerio-pingpong-${process.pid}.sock`) : null;
if (unixPath !== null) fs.rmSync(unixPath, { force: true });

function tigerio(backend: string): void {
  const io = new IO({ backend });
  let idleSet: IdleSet | null = null;
  if (idle > 0) idleSet = tigerioIdle(io, idle);

  const listener = unixPath !== null ? io.listenUnix(unixPath) : io.listen('127.0.0.1', 0);
  const port = unixPath !== null ? 0 : io.localAddress(listener).port;
  const client = io.socket(unixPath !== null ? 'unix' : 'ipv4');
  let server = -1;
  const message = new Uint8Array(MESSAGE_BYTES).fill(0x61);
  const serverBuffer = new Uint8Array(RECV_BUFFER_BYTES);
  const serverEcho = serverBuffer.subarray(0, MESSAGE_BYTES);
  const clientBuffer = new Uint8Array(RECV_BUFFER_BYTES);
  let received = 0;
  let roundTrips = 0;
  let running = true;
  let failure: string | null = null;

  const fail = (what: string, code: string): void => {
    if (running && failure === null) failure = `${what}: ${code}`;
  };
  // --pooled: the server receives with recvPooled (a buffer of a pool, taken
  // when the bytes arrive) and echoes from it, giving it back once sent.
  const pool = args.pooled !== undefined ? io.bufferPool({ count: 16, size: RECV_BUFFER_BYTES }) : null;
  const echoViews = pool === null ? [] : pool.buffers.map((buffer) => buffer.subarray(0, MESSAGE_BYTES));
  let held: Uint8Array | null = null;
  // Server: recv, echo what came, recv again.
  const serverRecv = (): void => {
    if (pool !== null) io.recvPooled(server, pool, onServerPooled);
    else io.recv(server, serverBuffer, onServerRecv);
  };
  const onServerPooled = (error: { code: string } | null, size: number, buffer: Uint8Array | null): void => {
    if (error) return fail('server recvPooled', error.code);
    if (size === 0 || buffer === null) return;
    held = buffer;
    io.send(server, size === MESSAGE_BYTES ? echoViews[buffer.byteOffset / RECV_BUFFER_BYTES] : buffer.subarray(0, size), onServerSend);
  };
  const onServerRecv = (error: { code: string } | null, size: number): void => {
    if (error) return fail('server recv', error.code);
    if (size === 0) return;
    io.send(server, size === MESSAGE_BYTES ? serverEcho : serverBuffer.subarray(0, size), onServerSend);
  };
  const onServerSend = (error: { code: string } | null): void => {
    if (held !== null) {
      pool!.release(held);
      held = null;
    }
    if (error) return fail('server send', error.code);
    serverRecv();
  };
  // Client: send the message, read until the whole echo is back, count, repeat.
  const clientSend = (): void => {
    io.send(client, message, onClientSend);
  };
  const onClientSend = (error: { code: string } | null, size: number): void => {
    if (error) return fail('client send', error.code);
    if (size !== MESSAGE_BYTES) return fail('client send', `partial (${size})`);
    io.recv(client, clientBuffer, onClientRecv);
  };
  const onClientRecv = (error: { code: string } | null, size: number): void => {
    if (error) return fail('client recv', error.code);
    if (size === 0) return fail('client recv', 'peer closed');
    received += size;
    if (received < MESSAGE_BYTES) {
      io.recv(client, clientBuffer, onClientRecv);
      return;
    }
    received -= MESSAGE_BYTES;
    roundTrips++;
    if (running) clientSend();
  };

  io.accept(listener, (error, fd) => {
    if (error) return fail('accept', error.code);
    server = fd;
    serverRecv();
  });
  const onConnect = (error: { code: string } | null): void => {
    if (error) return fail('connect', error.code);
    clientSend();
  };
  if (unixPath !== null) io.connectUnix(client, unixPath, onConnect);
  else io.connect(client, '127.0.0.1', port, onConnect);

  io.runForNs(warmupMs * 1e6);
  const before = roundTrips;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  io.runForNs(durationMs * 1e6);
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpuBefore);
  const counted = roundTrips - before;
  running = false;
  if (failure !== null) throw new Error(failure);
  io.close(client, () => {});
  if (server >= 0) io.close(server, () => {});
  io.close(listener, () => {});
  io.runForNs(10_000_000);
  io.deinit();
  idleSet?.helper.kill();
  report({
    impl: 'tigerio',
    backend,
    unix: unixPath !== null,
    idle,
    roundTrips: counted,
    seconds: elapsedNs / 1e9,
    roundTripsPerSecond: counted / (elapsedNs / 1e9),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    userSeconds: cpu.user / 1e6,
  });
}

async function nodeNet(): Promise<void> {
  let idleSet: IdleSet | null = null;
  if (idle > 0) idleSet = await netIdle(idle);
  const message = Buffer.alloc(MESSAGE_BYTES, 0x61);
  let roundTrips = 0;
  let received = 0;
  let running = true;
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (data) => socket.write(data));
    socket.on('error', () => {});
  });
  if (unixPath !== null) await new Promise<void>((resolve) => server.listen(unixPath, resolve));
  else await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client =
    unixPath !== null
      ? net.connect({ path: unixPath })
      : net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', noDelay: true });
  client.on('error', (error) => {
    if (running) throw error;
  });
  client.on('data', (data) => {
    received += data.length;
    while (received >= MESSAGE_BYTES) {
      received -= MESSAGE_BYTES;
      roundTrips++;
      if (running) client.write(message);
    }
  });
  await new Promise<void>((resolve) => client.on('connect', resolve));
  client.write(message);
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  const before = roundTrips;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpuBefore);
  const counted = roundTrips - before;
  running = false;
  client.destroy();
  server.close();
  if (idleSet) {
    idleSet.helper.kill();
    for (const socket of (idleSet as { sockets?: net.Socket[] }).sockets ?? []) socket.destroy();
  }
  report({
    impl: 'net',
    unix: unixPath !== null,
    idle,
    roundTrips: counted,
    seconds: elapsedNs / 1e9,
    roundTripsPerSecond: counted / (elapsedNs / 1e9),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  });
  setImmediate(() => process.exit(0));
}

if (impl === 'tigerio') tigerio(args.backend ?? IO.backends()[0]);
else if (impl === 'net') void nodeNet();
else throw new Error(`unknown --impl ${impl}`);
