// Completion overhead: the cost of one submitted-and-completed no-op
// operation, in ns. tigerio: batches of --batch zero timeouts submitted,
// then ticked until all have completed (so each batch is one native poll
// plus --batch submissions and dispatches). Peers: a plain JS loop calling
// a callback (the floor: what a callback call costs at all), and
// setImmediate in the same batches (Node's own nearest "completion").
// --impl kernel-entry: a tick that enters the kernel. On the epoll backend
// with one receive pending on an idle connection, every `io.tick()` is one
// Node-API call into the poll, one epoll_wait with a zero timeout and an
// empty batch back: the least a JavaScript turn that enters the kernel
// costs, beside kernel_entry.c's same epoll_wait from C.
//
//   node overhead.js --impl tigerio|jsloop|setimmediate|kernel-entry [--backend B --duration 2000 --batch 256]
import { IO } from '../../io';
import { numberFlag, parseFlags, report } from './common';

const args = parseFlags(process.argv.slice(2));
const impl = args.impl ?? 'tigerio';
const durationMs = numberFlag(args, 'duration', 2000);
const batch = numberFlag(args, 'batch', 256);

let completed = 0;
const onDone = (error: unknown, _result?: number): void => {
  if (error) throw error;
  completed++;
};

function measure(runBatch: () => void): { ops: number; ns: number } {
  // Warm-up, then whole batches until the duration has passed.
  const warm = process.hrtime.bigint() + 200_000_000n;
  while (process.hrtime.bigint() < warm) runBatch();
  completed = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(durationMs) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 16; i++) runBatch();
    now = process.hrtime.bigint();
  }
  return { ops: completed, ns: Number(now - start) };
}

if (impl === 'tigerio') {
  const backend = args.backend ?? IO.backends()[0];
  const io = new IO({ backend, entries: Math.min(4096, batch) });
  const { ops, ns } = measure(() => {
    const target = completed + batch;
    for (let i = 0; i < batch; i++) io.timeout(0, onDone);
    while (completed < target) io.tick();
  });
  io.deinit();
  report({ impl, backend, batch, ops, nsPerOp: ns / ops });
} else if (impl === 'kernel-entry') {
  const io = new IO({ backend: 'epoll' });
  const listener = io.listen('127.0.0.1', 0);
  const client = io.socket('ipv4');
  let server = -1;
  io.accept(listener, (error, fd) => {
    if (error) throw error;
    server = fd;
    io.recv(server, new Uint8Array(64), (recvError) => {
      if (recvError === null || recvError.code !== 'ECANCELED') throw new Error(`the idle receive completed: ${String(recvError)}`);
    });
  });
  io.connect(client, '127.0.0.1', io.localAddress(listener).port, (error) => {
    if (error) throw error;
  });
  while (server < 0) io.tick();
  const { ops, ns } = measure(() => {
    for (let i = 0; i < batch; i++) io.tick();
    completed += batch;
  });
  io.deinit(); // cancels the receive, closes the fds the IO made
  report({ impl, ops, nsPerOp: ns / ops });
} else if (impl === 'jsloop') {
  const callbacks: ((error: unknown, result: number) => void)[] = [];
  const { ops, ns } = measure(() => {
    for (let i = 0; i < batch; i++) callbacks.push(onDone);
    for (let i = 0; i < batch; i++) callbacks[i](null, 0);
    callbacks.length = 0;
  });
  report({ impl, batch, ops, nsPerOp: ns / ops });
} else if (impl === 'setimmediate') {
  // setImmediate needs Node's loop to turn: batches chained through a promise-free callback.
  const start = process.hrtime.bigint();
  const warmEnd = start + 200_000_000n;
  let measuringFrom = 0n;
  let end = 0n;
  let outstanding = 0;
  const onImmediate = (): void => {
    completed++;
    if (--outstanding === 0) nextBatch();
  };
  const nextBatch = (): void => {
    const now = process.hrtime.bigint();
    if (measuringFrom === 0n && now >= warmEnd) {
      measuringFrom = now;
      end = now + BigInt(durationMs) * 1_000_000n;
      completed = 0;
    } else if (measuringFrom !== 0n && now >= end) {
      report({ impl, batch, ops: completed, nsPerOp: Number(now - measuringFrom) / completed });
      return;
    }
    outstanding = batch;
    for (let i = 0; i < batch; i++) setImmediate(onImmediate);
  };
  nextBatch();
} else {
  throw new Error(`unknown --impl ${impl}`);
}
