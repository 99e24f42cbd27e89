// sendFile (issue 14): the kernel copies a file to a socket (sendfile(2));
// no byte passes through JavaScript. Whole file, a range, a file larger
// than the socket buffer (partial results), the peer closing mid-transfer,
// cancel/close/deinit with one pending, exactly once.
import * as path from 'node:path';
import { expect } from 'chai';
import type { IO, IOError } from '../io';
import { expectIOError, expectThrows } from './support/assertions';
import { forEachBackend } from './support/backends';
import { directoryPerTest } from './support/directories';
import { complete, runUntil, submit, succeed, type Outcome } from './support/run';
import { connectedPair, recvExactly } from './support/sockets';

function pattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 131 + (i >> 9)) & 255;
  return bytes;
}

/** Closes a test's file unless the IO is gone (deinit closed it with every fd it opened). */
function closeFile(io: IO, file: number): void {
  try {
    succeed(io, 'close of the file', (cb) => io.close(file, cb));
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_IO_DEINITIALIZED') throw error;
  }
}

class FileTransfer {
  done = false;
  error: IOError | null = null;
  bytes = 0;
  operations = 0;
}

/** sendFile in a loop until `length` bytes went (or the file ended, or an error). */
function sendFileAll(io: IO, socket: number, file: number, offset: number, length: number): FileTransfer {
  const transfer = new FileTransfer();
  const next = (): void => {
    io.sendFile(socket, file, offset + transfer.bytes, length - transfer.bytes, (error, sent) => {
      transfer.operations++;
      if (error !== null) {
        transfer.error = error;
        transfer.done = true;
        return;
      }
      transfer.bytes += sent;
      if (sent === 0 || transfer.bytes === length) transfer.done = true;
      else next();
    });
  };
  next();
  return transfer;
}

forEachBackend('sendFile', (scope) => {
  const dir = directoryPerTest('tigerio-sendfile-');

  /**
   * A file holding `bytes`, opened by `io` (on Windows a node:fs fd is no
   * handle: the IO's own open gives one; on the simulation the file is in
   * the world's disk).
   */
  function fileWith(io: IO, bytes: Buffer): number {
    const at = path.join(dir(), 'file.bin');
    scope.writeFile(io, at, bytes);
    return succeed(io, 'open', (cb) => io.open(at, 'r', undefined, cb));
  }

  it('sends a whole small file in one call, and 0 at the end of the file', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const bytes = pattern(1000);
    const file = fileWith(io, bytes);
    try {
      expect(succeed(io, 'sendFile', (cb) => io.sendFile(server, file, 0, bytes.length, cb))).to.equal(bytes.length);
      const received = Buffer.alloc(bytes.length);
      const receiving = recvExactly(io, client, received);
      runUntil(io, () => receiving.done, 'recv');
      expect(received.equals(bytes)).to.equal(true);
      expect(succeed(io, 'sendFile at the end', (cb) => io.sendFile(server, file, bytes.length, 100, cb))).to.equal(0);
      // The file's own position did not move.
      const first = Buffer.alloc(4);
      expect(succeed(io, 'read at the current position', (cb) => io.read(file, first, null, cb))).to.equal(4);
      expect(first.equals(bytes.subarray(0, 4))).to.equal(true);
    } finally {
      succeed(io, 'close of the file', (cb) => io.close(file, cb));
    }
  });

  it('sends a range of a file', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const bytes = pattern(100_000);
    const file = fileWith(io, bytes);
    try {
      const sending = sendFileAll(io, server, file, 12_345, 50_000);
      const received = Buffer.alloc(50_000);
      const receiving = recvExactly(io, client, received);
      runUntil(io, () => sending.done && receiving.done, 'the range');
      expect(sending.error).to.equal(null);
      expect(received.equals(bytes.subarray(12_345, 62_345))).to.equal(true);
    } finally {
      closeFile(io, file);
    }
  });

  it('sends 16 MiB, more than the socket buffer holds, through partial sends', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const bytes = pattern(16 << 20);
    const file = fileWith(io, bytes);
    try {
      const sending = sendFileAll(io, server, file, 0, bytes.length);
      io.tick(); // the socket fills before anyone reads: the sendFile waits, or came back partial
      const received = Buffer.alloc(bytes.length);
      const receiving = recvExactly(io, client, received, 256 << 10);
      runUntil(io, () => sending.done && receiving.done, '16 MiB', { stepsMax: 20_000 });
      expect(sending.error).to.equal(null);
      expect(sending.bytes).to.equal(bytes.length);
      expect(sending.operations, 'the socket buffer is smaller than the file: some results were partial').to.be.greaterThan(1);
      expect(received.equals(bytes)).to.equal(true);
    } finally {
      closeFile(io, file);
    }
  });

  it('fails with EPIPE or ECONNRESET when the peer closes mid-transfer, never SIGPIPE', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const bytes = pattern(16 << 20);
    const file = fileWith(io, bytes);
    try {
      const sending = sendFileAll(io, server, file, 0, bytes.length);
      // Read a little, then close with unread data: the kernel resets the connection.
      const some = Buffer.alloc(64 << 10);
      const receiving = recvExactly(io, client, some);
      runUntil(io, () => receiving.done, 'the first bytes');
      succeed(io, 'close of the peer', (cb) => io.close(client, cb));
      runUntil(io, () => sending.done, 'the failing transfer', { stepsMax: 20_000 });
      expect(sending.bytes).to.be.lessThan(bytes.length);
      expectIOError(sending.error, ['EPIPE', 'ECONNRESET'], 'sendFile');
    } finally {
      closeFile(io, file);
    }
  });

  it('cancel, close and deinit complete a waiting sendFile exactly once with ECANCELED', function () {
    const io = scope.create();
    const bytes = pattern(8 << 20);
    const file = fileWith(io, bytes);
    try {
      // sendFile on `fd` until one is still waiting 20 ms later: the socket
      // is most likely full (nobody reads the other end), and that one
      // waits for room. (A sendFile may send less than asked without the
      // socket being full: IOCP sends at most 64 KiB per TransmitFile.)
      // "Most likely": on a loaded machine a transfer the kernel is still
      // copying can look the same, so a second sendFile is queued behind it.
      // That one waits in the fd's queue, never in the kernel, and must end
      // with ECANCELED on every backend.
      const waiting = (fd: number): { head: Outcome; queued: Outcome } => {
        for (let attempt = 0; attempt < 10_000; attempt++) {
          const outcome = submit((cb) => io.sendFile(fd, file, 0, bytes.length, cb));
          io.runForNs(20_000_000);
          if (!outcome.done) return { head: outcome, queued: submit((cb) => io.sendFile(fd, file, 0, bytes.length, cb)) };
          expect(outcome.error).to.equal(null);
        }
        throw new Error('the socket never filled up');
      };
      // The head is in the kernel: on io_uring and IOCP a cancel can lose
      // the race with a kernel that finished it first, and then it keeps its
      // own result (native/README.md, "A cancel can lose a race"). On epoll,
      // kqueue and the simulation it never is inside the kernel.
      const expectCancelled = (outcome: Outcome, what: string): void => {
        expect(outcome.calls, what).to.equal(1);
        const raceable = scope.backend === 'io_uring' || scope.backend === 'iocp';
        if (raceable && outcome.error === null) {
          expect(outcome.result, `${what}: bytes sent before the cancel`).to.be.greaterThan(0);
        } else {
          expectIOError(outcome.error, 'ECANCELED', 'sendFile');
        }
      };
      const expectQueuedCancelled = (outcome: Outcome): void => {
        expect(outcome.calls).to.equal(1);
        expectIOError(outcome.error, 'ECANCELED', 'sendFile');
      };

      const a = connectedPair(io);
      const cancelled = waiting(a.server);
      expect(io.cancel(cancelled.queued.id)).to.equal(true);
      expect(io.cancel(cancelled.head.id)).to.equal(true);
      runUntil(io, () => cancelled.head.done && cancelled.queued.done, 'the cancelled sendFiles');
      expectCancelled(cancelled.head, 'the cancelled sendFile');
      expectQueuedCancelled(cancelled.queued);

      const b = connectedPair(io);
      const closedUnder = waiting(b.server);
      const close = submit((cb) => io.close(b.server, cb));
      runUntil(io, () => close.done, 'the close');
      expectCancelled(closedUnder.head, 'the sendFile under the close');
      expectQueuedCancelled(closedUnder.queued);

      const c = connectedPair(io);
      const pending = waiting(c.server);
      io.deinit();
      expectCancelled(pending.head, 'the sendFile at deinit');
      expectQueuedCancelled(pending.queued);
      expect(cancelled.head.calls + closedUnder.head.calls).to.equal(2);
    } finally {
      closeFile(io, file);
    }
  });

  it('checks its arguments at the call, and reports a bad file fd as EBADF', function () {
    const io = scope.create();
    const { server } = connectedPair(io);
    const callback = (): void => {};
    expectThrows(() => io.sendFile(server, 0, -1, 1, callback), RangeError);
    expectThrows(() => io.sendFile(server, 0, 0, 0, callback), RangeError);
    expectThrows(() => io.sendFile(server, 'x' as unknown as number, 0, 1, callback), TypeError);
    expectThrows(() => io.sendFile(server, 0, 0.5, 1, callback), RangeError);
    const file = fileWith(io, pattern(10));
    succeed(io, 'close of the file', (cb) => io.close(file, cb));
    const outcome = complete(io, 'sendFile of a closed file', (cb) => io.sendFile(server, file, 0, 10, cb));
    expectIOError(outcome.error, 'EBADF', 'sendFile');
  });

  it('works through the promise layer (sendFileAll)', async function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    const bytes = pattern(3 << 20);
    const file = fileWith(io, bytes);
    io.attach();
    try {
      const received = Buffer.alloc(bytes.length);
      const receiving = (async () => {
        let got = 0;
        while (got < received.length) {
          const n = await io.promises.recv(client, received.subarray(got));
          if (n === 0) break;
          got += n;
        }
        return got;
      })();
      expect(await io.promises.sendFileAll(server, file, 0, bytes.length)).to.equal(bytes.length);
      expect(await receiving).to.equal(bytes.length);
      expect(received.equals(bytes)).to.equal(true);
    } finally {
      await io.promises.close(file);
    }
  });
});
