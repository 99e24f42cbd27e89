// The promise layer: each operation of IO as a function returning a promise.
// Resolves with the callback's result, rejects with its IOError. Argument
// errors reject too. The IO must be driven (attach(), or tick/run) for these
// to settle; attach() is the natural partner of await.
import type { IO } from './io';
import type { IOError } from './errors';
import type { OpenFlags, OpenOptions, ProcessExit, RenameOptions } from './types';
import type { AddressBuffer } from './address';
import type { BufferPool } from './buffer-pool';

/** What `recvPooled` resolves with: the bytes received and the pool's buffer that holds them (`null` when `bytes` is 0). */
export interface PooledReceive {
  /** Bytes received; 0 means the peer closed. */
  bytes: number;
  /** The pool's buffer holding them, the caller's until `pool.release(buffer)`; `null` when bytes is 0. */
  buffer: Uint8Array | null;
}

/**
 * Promise versions of the IO's operations: `await io.promises.recv(fd, buffer)`
 * resolves with the callback's result or rejects with its {@link IOError}
 * (argument errors reject too). The IO must be driven for them to settle:
 * `io.attach()` is the natural partner of `await`.
 */
export class IOPromises {
  constructor(private readonly io: IO) {}

  /** See {@link IO.accept}. Resolves with the new fd. */
  accept(fd: number): Promise<number> {
    return settle((callback) => this.io.accept(fd, callback));
  }

  /** See {@link IO.connect}. */
  connect(fd: number, host: string, port: number): Promise<number> {
    return settle((callback) => this.io.connect(fd, host, port, callback));
  }

  /** See {@link IO.recv}. Resolves with bytes received; 0 means the peer closed. */
  recv(fd: number, buffer: Uint8Array): Promise<number> {
    return settle((callback) => this.io.recv(fd, buffer, callback));
  }

  /** See {@link IO.send}. Resolves with bytes sent (may be partial). */
  send(fd: number, buffer: Uint8Array): Promise<number> {
    return settle((callback) => this.io.send(fd, buffer, callback));
  }

  /** Sends the whole buffer, looping over partial sends. Resolves with its length. */
  async sendAll(fd: number, buffer: Uint8Array): Promise<number> {
    let sent = 0;
    while (sent < buffer.byteLength) sent += await this.send(fd, buffer.subarray(sent));
    return sent;
  }

  /** See {@link IO.timeout}. */
  timeout(nanoseconds: number): Promise<number> {
    return settle((callback) => this.io.timeout(nanoseconds, callback));
  }

  /** See {@link IO.close}. */
  close(fd: number): Promise<number> {
    return settle((callback) => this.io.close(fd, callback));
  }

  /** See {@link IO.open}. Resolves with the file's fd. The third argument: a mode, or `{ mode?, direct? }`. */
  open(path: string, flags: OpenFlags, options?: number | OpenOptions): Promise<number> {
    return settle((callback) => this.io.open(path, flags, options, callback));
  }

  /** See {@link IO.read}. */
  read(fd: number, buffer: Uint8Array, position: number | null): Promise<number> {
    return settle((callback) => this.io.read(fd, buffer, position, callback));
  }

  /** See {@link IO.write}. */
  write(fd: number, buffer: Uint8Array, position: number | null): Promise<number> {
    return settle((callback) => this.io.write(fd, buffer, position, callback));
  }

  /** See {@link IO.rename}. */
  rename(from: string, to: string, options?: RenameOptions): Promise<number> {
    return settle((callback) => this.io.rename(from, to, options ?? {}, callback));
  }

  /** See {@link IO.unlink}. */
  unlink(path: string): Promise<number> {
    return settle((callback) => this.io.unlink(path, callback));
  }

  /** See {@link IO.mkdir}. */
  mkdir(path: string, mode?: number): Promise<number> {
    return settle((callback) => this.io.mkdir(path, mode, callback));
  }

  /** See {@link IO.openDirectory}. Resolves with the directory's fd. */
  openDirectory(path: string): Promise<number> {
    return settle((callback) => this.io.openDirectory(path, callback));
  }

  /** See {@link IO.fsync}. Resolves with 0 once the data and metadata are durable. */
  fsync(fd: number): Promise<number> {
    return settle((callback) => this.io.fsync(fd, callback));
  }

  /** See {@link IO.fdatasync}. Resolves with 0 once the data is durable. */
  fdatasync(fd: number): Promise<number> {
    return settle((callback) => this.io.fdatasync(fd, callback));
  }

  /** See {@link IO.fileSize}. Resolves with the size in bytes. */
  fileSize(fd: number): Promise<number> {
    return settle((callback) => this.io.fileSize(fd, callback));
  }

  /** See {@link IO.truncate}. */
  truncate(fd: number, length: number): Promise<number> {
    return settle((callback) => this.io.truncate(fd, length, callback));
  }

  /** See {@link IO.allocate}. */
  allocate(fd: number, offset: number, length: number): Promise<number> {
    return settle((callback) => this.io.allocate(fd, offset, length, callback));
  }

  /** See {@link IO.sendTo}. Resolves with bytes sent. */
  sendTo(fd: number, buffer: Uint8Array, host: string, port: number): Promise<number>;
  sendTo(fd: number, buffer: Uint8Array, address: AddressBuffer): Promise<number>;
  sendTo(fd: number, buffer: Uint8Array, to: string | AddressBuffer, port?: number): Promise<number> {
    if (typeof to === 'string') return settle((callback) => this.io.sendTo(fd, buffer, to, port as number, callback));
    return settle((callback) => this.io.sendTo(fd, buffer, to, callback));
  }

  /** See {@link IO.recvFrom}. Resolves with the datagram's size; the sender is in `address`. */
  recvFrom(fd: number, buffer: Uint8Array, address: AddressBuffer): Promise<number> {
    return settle((callback) => this.io.recvFrom(fd, buffer, address, callback));
  }

  /** See {@link IO.connectUnix}. */
  connectUnix(fd: number, path: string): Promise<number> {
    return settle((callback) => this.io.connectUnix(fd, path, callback));
  }

  /** See {@link IO.sendFile}. Resolves with bytes sent (may be partial). */
  sendFile(socketFd: number, fileFd: number, offset: number, length: number): Promise<number> {
    return settle((callback) => this.io.sendFile(socketFd, fileFd, offset, length, callback));
  }

  /** Sends `length` bytes of the file from `offset`, looping over partial sends; stops early at the end of the file. Resolves with the bytes sent. */
  async sendFileAll(socketFd: number, fileFd: number, offset: number, length: number): Promise<number> {
    let sent = 0;
    while (sent < length) {
      const n = await this.sendFile(socketFd, fileFd, offset + sent, length - sent);
      if (n === 0) break;
      sent += n;
    }
    return sent;
  }

  /** See {@link IO.recvPooled}. */
  recvPooled(fd: number, pool: BufferPool): Promise<PooledReceive> {
    return settle((callback) => this.io.recvPooled(fd, pool, (error, bytes, buffer) => callback(error, { bytes, buffer })));
  }

  /** See {@link IO.eventListen}. */
  eventListen(handle: number): Promise<number> {
    return settle((callback) => this.io.eventListen(handle, callback));
  }

  /** See {@link IO.signal}. Resolves with the signal's number. */
  signal(signal: string): Promise<number> {
    return settle((callback) => this.io.signal(signal, callback));
  }

  /** See {@link IO.processExit}. Resolves with how the process ended. */
  processExit(pid: number): Promise<ProcessExit> {
    return settle((callback) => this.io.processExit(pid, callback));
  }
}

/** Submits with a callback that settles the promise: its value on success, its IOError otherwise (an argument error thrown by `submit` rejects too). */
function settle<T = number>(submit: (callback: (error: IOError | null, value: T) => void) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    submit((error, value) => (error === null ? resolve(value) : reject(error)));
  });
}
