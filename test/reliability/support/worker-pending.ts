// Worker for faults.test.ts: connects to the main thread's server through
// an IO of its own, leaves a recv, a 1-hour timeout and an accept pending,
// says "ready" and ends without deinit(): the worker's exit must free the
// IO and close its fds (the main thread's peer sees end of stream).
import { parentPort, workerData } from 'node:worker_threads';
import { IO } from '../../../io';
import { runUntil } from '../../support/run';

const { backend, port } = workerData as { backend: string; port: number };
const io = new IO({ backend });
const fd = io.socket('ipv4');
let connected = false;
io.connect(fd, '127.0.0.1', port, (error) => {
  if (error !== null) throw error;
  connected = true;
});
runUntil(io, () => connected, 'the worker connect');
io.recv(fd, new Uint8Array(64), () => {});
io.timeout(3600e9, () => {});
const listener = io.listen('127.0.0.1', 0);
io.accept(listener, () => {});
io.tick();
parentPort!.postMessage({ pending: io.pending, fd });
// The script ends here: nothing keeps the worker's event loop alive.
