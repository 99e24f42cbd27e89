// UDP datagrams per second on one core: a sender and a receiver socket in
// one process over 127.0.0.1, 64-byte datagrams, sent in windows of
// --window datagrams; the next window goes once the receiver has them all
// (so the receive buffer never overflows and nothing is dropped by design).
// A window whose datagrams do not all arrive within 50 ms is counted as lost
// and the next one goes. The figure is datagrams received per second.
// tigerio keeps --depth recvFrom operations posted on the receiving socket
// (each with its own buffer and address object, posted again by its
// callback): a flush then issues them one after another, so one tick
// receives up to --depth datagrams, as libuv reads up to 32 per readable
// event under node:dgram. --depth 1 is one recvFrom at a time.
//
//   node udp.js --impl tigerio --backend epoll --duration 5000 [--depth 16]
//   node udp.js --impl dgram --duration 5000
import * as dgram from 'node:dgram';
import { IO } from '../../io';
import { numberFlag, parseFlags, report } from './common';

const MESSAGE_BYTES = 64;
const args = parseFlags(process.argv.slice(2));
const impl = args.impl ?? 'tigerio';
const durationMs = numberFlag(args, 'duration', 5000);
const warmupMs = numberFlag(args, 'warmup', 300);
const windowSize = numberFlag(args, 'window', 64);
const depth = numberFlag(args, 'depth', 16);
const STALL_NS = 50_000_000;

function tigerio(backend: string): void {
  const io = new IO({ backend });
  const receiver = io.udpSocket('ipv4');
  io.bind(receiver, '127.0.0.1', 0);
  const port = io.localAddress(receiver).port;
  const sender = io.udpSocket('ipv4');
  io.bind(sender, '127.0.0.1', 0);
  const message = new Uint8Array(MESSAGE_BYTES).fill(0x61);
  let received = 0;
  let inWindow = 0;
  let lost = 0;
  let windows = 0;
  let running = true;
  let failure: string | null = null;
  let stallTimer = -1;

  const onSent = (error: { code: string } | null): void => {
    if (error && failure === null) failure = `sendTo: ${error.code}`;
  };
  const sendWindow = (): void => {
    windows++;
    inWindow = 0;
    for (let i = 0; i < windowSize; i++) io.sendTo(sender, message, '127.0.0.1', port, onSent);
    const window = windows;
    stallTimer = io.timeout(STALL_NS, (error) => {
      if (error !== null || window !== windows || !running) return; // cancelled, or the window completed
      lost += windowSize - inWindow;
      sendWindow();
    });
  };
  // One receiver per posted recvFrom: its buffer, its address object, its callback (made once).
  const receivers = Array.from({ length: depth }, () => {
    const inbox = new Uint8Array(2048);
    const address = io.addressBuffer();
    const onReceived = (error: { code: string } | null, size: number): void => {
      if (error) {
        if (running && failure === null) failure = `recvFrom: ${error.code}`;
        return;
      }
      if (size !== MESSAGE_BYTES && failure === null) failure = `recvFrom: ${size} bytes`;
      received++;
      inWindow++;
      if (running) io.recvFrom(receiver, inbox, address, onReceived);
      if (inWindow === windowSize && running) {
        io.cancel(stallTimer);
        sendWindow();
      }
    };
    return { inbox, address, onReceived };
  });
  for (const r of receivers) io.recvFrom(receiver, r.inbox, r.address, r.onReceived);
  sendWindow();
  io.runForNs(warmupMs * 1e6);
  const before = received;
  const lostBefore = lost;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  io.runForNs(durationMs * 1e6);
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpuBefore);
  const counted = received - before;
  running = false;
  if (failure !== null) throw new Error(failure);
  io.deinit();
  report({
    impl: 'tigerio', backend, window: windowSize, depth, datagrams: counted, lost: lost - lostBefore,
    seconds: elapsedNs / 1e9, datagramsPerSecond: counted / (elapsedNs / 1e9), cpuSeconds: (cpu.user + cpu.system) / 1e6,
  });
}

async function nodeDgram(): Promise<void> {
  const receiver = dgram.createSocket('udp4');
  const sender = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
  const port = receiver.address().port;
  const message = Buffer.alloc(MESSAGE_BYTES, 0x61);
  let received = 0;
  let inWindow = 0;
  let lost = 0;
  let running = true;
  let stall: NodeJS.Timeout | null = null;
  const sendWindow = (): void => {
    inWindow = 0;
    for (let i = 0; i < windowSize; i++) sender.send(message, port, '127.0.0.1');
    if (stall !== null) clearTimeout(stall);
    stall = setTimeout(() => {
      lost += windowSize - inWindow;
      if (running) sendWindow();
    }, STALL_NS / 1e6);
  };
  receiver.on('message', (data) => {
    if (data.length !== MESSAGE_BYTES) throw new Error(`message of ${data.length} bytes`);
    received++;
    inWindow++;
    if (inWindow === windowSize && running) sendWindow();
  });
  sendWindow();
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  const before = received;
  const lostBefore = lost;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpuBefore);
  const counted = received - before;
  running = false;
  if (stall !== null) clearTimeout(stall);
  receiver.close();
  sender.close();
  report({
    impl: 'dgram', window: windowSize, datagrams: counted, lost: lost - lostBefore,
    seconds: elapsedNs / 1e9, datagramsPerSecond: counted / (elapsedNs / 1e9), cpuSeconds: (cpu.user + cpu.system) / 1e6,
  });
}

if (impl === 'tigerio') tigerio(args.backend ?? IO.backends()[0]);
else if (impl === 'dgram') void nodeDgram();
else throw new Error(`unknown --impl ${impl}`);
