// Socket helpers over the public API: a connected pair, and loops that move
// a whole buffer through partial sends and recvs.
import * as os from 'node:os';
import { IO, type IOError } from '../../io';
import { runUntil, succeed, type RunLimits } from './run';

export type Host = '127.0.0.1' | '::1';

export function familyOf(host: Host): 'ipv4' | 'ipv6' {
  return host === '::1' ? 'ipv6' : 'ipv4';
}

/** True when this machine has an IPv6 loopback (`::1` on an internal interface). */
export function hasIPv6Loopback(): boolean {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) {
      const family = address.family as string | number;
      if (address.internal && (family === 'IPv6' || family === 6) && address.address === '::1') return true;
    }
  }
  return false;
}

export interface ConnectedPair {
  listener: number;
  /** The connecting side (from io.socket + io.connect). */
  client: number;
  /** The accepted side. */
  server: number;
  port: number;
}

/** Listens on an OS-chosen port, then connects and accepts one connection through the IO. */
export function connectedPair(io: IO, host: Host = '127.0.0.1'): ConnectedPair {
  const listener = io.listen(host, 0);
  const { port } = io.localAddress(listener);
  const client = io.socket(familyOf(host));
  let server = -1;
  let connected = false;
  let failure: IOError | null = null;
  io.accept(listener, (error, fd) => {
    if (error !== null) failure ??= error;
    else server = fd;
  });
  io.connect(client, host, port, (error) => {
    if (error !== null) failure ??= error;
    else connected = true;
  });
  runUntil(io, () => failure !== null || (server >= 0 && connected), `connect + accept on ${host}`);
  if (failure !== null) throw failure;
  return { listener, client, server, port };
}

/**
 * A TCP port on `host` that nothing listens on, held by a socket bound to it
 * and never listening (the IO closes it at deinit). A port merely freed
 * could be taken again by a connecting socket's own bind: TCP's
 * simultaneous open then connects that socket to itself. Seen under Wine,
 * whose ConnectEx binds first, with many ports in TIME_WAIT: 2 connects in
 * 3,000 to a just-closed port succeeded, each from the port it dialled.
 */
export function closedPort(io: IO, host: Host = '127.0.0.1'): number {
  const holder = io.socket(familyOf(host));
  io.bind(holder, host, 0);
  return io.localAddress(holder).port;
}

/** The progress of a multi-operation transfer (sendAll / recvExactly). */
export class Transfer {
  done = false;
  error: IOError | null = null;
  bytes = 0;
  operations = 0;
  /** The largest single send/recv result seen. */
  largest = 0;
}

/** Sends all of `data` on `fd`, one send at a time, resubmitting the rest after a partial send. */
export function sendAll(io: IO, fd: number, data: Uint8Array, onDone?: (transfer: Transfer) => void): Transfer {
  const transfer = new Transfer();
  const finish = (): void => {
    transfer.done = true;
    onDone?.(transfer);
  };
  const next = (): void => {
    io.send(fd, data.subarray(transfer.bytes), (error, sent) => {
      transfer.operations++;
      if (error !== null) {
        transfer.error = error;
        finish();
        return;
      }
      transfer.bytes += sent;
      transfer.largest = Math.max(transfer.largest, sent);
      if (transfer.bytes === data.byteLength) finish();
      else next();
    });
  };
  next();
  return transfer;
}

/** Receives exactly `into.byteLength` bytes on `fd` (or stops at end of stream, 0). */
export function recvExactly(
  io: IO,
  fd: number,
  into: Uint8Array,
  chunkSize = into.byteLength,
  onDone?: (transfer: Transfer) => void,
): Transfer {
  const transfer = new Transfer();
  const finish = (): void => {
    transfer.done = true;
    onDone?.(transfer);
  };
  const next = (): void => {
    const end = Math.min(into.byteLength, transfer.bytes + chunkSize);
    io.recv(fd, into.subarray(transfer.bytes, end), (error, received) => {
      transfer.operations++;
      if (error !== null) {
        transfer.error = error;
        finish();
        return;
      }
      transfer.bytes += received;
      transfer.largest = Math.max(transfer.largest, received);
      if (received === 0 || transfer.bytes === into.byteLength) finish();
      else next();
    });
  };
  next();
  return transfer;
}

/** Sends `data` from `from` and receives it on `to`; returns what arrived. Throws on any error. */
export function exchange(io: IO, from: number, to: number, data: Uint8Array, limits?: RunLimits): Buffer {
  const received = Buffer.alloc(data.byteLength);
  const sending = sendAll(io, from, data);
  const receiving = recvExactly(io, to, received);
  runUntil(io, () => sending.done && receiving.done, `exchange of ${data.byteLength} bytes`, limits);
  if (sending.error !== null) throw sending.error;
  if (receiving.error !== null) throw receiving.error;
  return received.subarray(0, receiving.bytes);
}
