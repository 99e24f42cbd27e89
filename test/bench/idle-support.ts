// N idle connections held by the measured process: the accepted ends, each
// with a pending receive (tigerio: an io.recv into its own 64-byte slice of
// one ArrayBuffer; node:net: a socket with a 'data' listener). The connecting
// ends live in a helper process (idle-clients.ts) so that they do not count.
import { fork, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import type { BufferPool, IO, IOError } from '../../io';

const SETUP_LIMIT_MS = 120_000;
const ACCEPTS_IN_FLIGHT = 64;
export const IDLE_BUFFER_BYTES = 64;

export interface IdleSet {
  helper: ChildProcess;
  count: number;
}

function startHelper(port: number, count: number, onReady: () => void, onError: (message: string) => void): ChildProcess {
  const helper = fork(path.join(__dirname, 'idle-clients.js'), ['--port', String(port), '--count', String(count)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  helper.on('message', (message: { ready?: boolean; error?: string }) => {
    if (message.ready) onReady();
    else if (message.error) onError(message.error);
  });
  helper.on('exit', (code) => {
    if (code !== 0 && code !== null) onError(`idle helper exited with ${code}`);
  });
  return helper;
}

/** Buffers of the pool the pooled variant shares among every connection. */
export const IDLE_POOL_BUFFERS = 64;
export const IDLE_POOL_BUFFER_BYTES = 4096;

/**
 * Accepts `count` connections on `io` (driven here with runForNs), each left
 * with a pending recv: into its own slice of one ArrayBuffer, or (pooled) a
 * recvPooled on one pool all share, which holds no buffer while it waits.
 */
export function tigerioIdle(io: IO, count: number, pool: BufferPool | null = null): IdleSet {
  const listener = io.listen('127.0.0.1', 0, { backlog: 4096 });
  const { port } = io.localAddress(listener);
  const buffers = new Uint8Array(pool !== null ? 0 : count * IDLE_BUFFER_BYTES);
  const onPooled = (): void => {}; // ECANCELED or 0 when the helper goes away: no buffer
  let accepted = 0;
  let acceptsStarted = 0;
  let failure: string | null = null;
  const onRecv = (): void => {}; // ECANCELED or 0 when the helper goes away
  // One accept callback for all: a closure per accept was garbage enough to
  // grow V8's young generation during the set-up, and that growth showed as
  // per-connection RSS though no connection holds it.
  const onAccept = (error: IOError | null, fd: number): void => {
    if (error) {
      failure = `accept: ${error.code}`;
      return;
    }
    const offset = accepted * IDLE_BUFFER_BYTES;
    accepted++;
    if (pool !== null) io.recvPooled(fd, pool, onPooled);
    else io.recv(fd, buffers.subarray(offset, offset + IDLE_BUFFER_BYTES), onRecv);
    acceptOne();
  };
  const acceptOne = (): void => {
    if (acceptsStarted >= count) return;
    acceptsStarted++;
    io.accept(listener, onAccept);
  };
  for (let i = 0; i < ACCEPTS_IN_FLIGHT; i++) acceptOne();
  // Accepted count is the signal; the helper's messages would need Node's loop, which runForNs blocks.
  const helper = startHelper(port, count, () => {}, (message) => (failure = message));
  const deadline = Date.now() + SETUP_LIMIT_MS;
  while (accepted < count && failure === null && Date.now() < deadline) io.runForNs(5_000_000);
  if (failure !== null || accepted < count) {
    helper.kill();
    throw new Error(`idle set-up failed: ${failure ?? `${accepted}/${count} accepted`}`);
  }
  io.close(listener, () => {});
  io.tick();
  return { helper, count };
}

/** Accepts `count` node:net connections, each with a 'data' listener. Resolves when all are in. */
export function netIdle(count: number): Promise<IdleSet & { server: net.Server; sockets: net.Socket[] }> {
  return new Promise((resolve, reject) => {
    const sockets: net.Socket[] = [];
    let helper: ChildProcess | null = null;
    const timer = setTimeout(() => {
      helper?.kill();
      reject(new Error(`idle set-up failed: ${sockets.length}/${count} accepted`));
    }, SETUP_LIMIT_MS);
    const onData = (): void => {};
    const server = net.createServer((socket) => {
      socket.on('data', onData);
      socket.on('error', () => {});
      sockets.push(socket);
      if (sockets.length === count) {
        clearTimeout(timer);
        server.close();
        resolve({ helper: helper!, count, server, sockets });
      }
    });
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
      const { port } = server.address() as net.AddressInfo;
      helper = startHelper(port, count, () => {}, (message) => {
        clearTimeout(timer);
        reject(new Error(message));
      });
    });
  });
}
