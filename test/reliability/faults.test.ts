// Fault injection, on every backend: each case names what goes wrong and
// the outcome the contract promises. Cases the shared suite covers already
// are not repeated here:
// exceptions.test.ts (a callback throwing mid-batch, attached or not),
// deinit.test.ts (deinit from inside a callback), close.test.ts (close of a
// closed fd), connection-errors.test.ts (send to a closed peer, recv after
// a reset), workers.test.ts (a worker exiting with operations pending).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { IO } from '../../io';
import { expectIOError } from '../support/assertions';
import { forEachBackend } from '../support/backends';
import { runUntil, submit, type Outcome } from '../support/run';
import { connectedPair, exchange } from '../support/sockets';
import { openFdCount } from './support/io-model';

/** Sends 1 MiB chunks from `fd` (whose peer does not read) until one stays pending. */
function pendingSend(io: IO, fd: number): { sends: Outcome[]; pending: Outcome } {
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  const sends: Outcome[] = [];
  for (let i = 0; i < 256; i++) {
    const send = submit((callback) => io.send(fd, chunk, callback));
    sends.push(send);
    for (let j = 0; j < 5 && !send.done; j++) io.runForNs(1_000_000);
    if (!send.done) return { sends, pending: send };
    if (send.error !== null) throw send.error;
  }
  throw new Error('no send stayed pending after 256 MiB: the peer reads?');
}

forEachBackend('reliability: faults', (scope) => {
  describe('peer reset', () => {
    it('mid-recv: a recv waiting when the peer resets completes once with ECONNRESET; the next recv sees 0 or ECONNRESET', function () {
      const io = scope.create();
      const { client, server } = connectedPair(io);
      // Unread data on the server makes its close a reset (RST), not a FIN.
      exchange(io, client, server, Buffer.from('x'), {}); // the connection works
      const unread = submit((callback) => io.send(client, Buffer.from('never read'), callback));
      const recv = submit((callback) => io.recv(client, Buffer.alloc(64), callback));
      runUntil(io, () => unread.done, 'the unread send');
      io.runForNs(1_000_000);
      expect(recv.done, 'the recv waits').to.equal(false);
      const close = submit((callback) => io.close(server, callback));
      runUntil(io, () => recv.done && close.done, 'the recv after the reset');
      expect(close.error).to.equal(null);
      expectIOError(recv.error, 'ECONNRESET', 'recv');
      const again = submit((callback) => io.recv(client, Buffer.alloc(64), callback));
      runUntil(io, () => again.done, 'a recv after the reset');
      if (again.error !== null) expectIOError(again.error, 'ECONNRESET', 'recv');
      else expect(again.result).to.equal(0);
      io.runForNs(2_000_000);
      expect([recv.calls, again.calls, close.calls]).to.deep.equal([1, 1, 1]);
    });

    it('mid-send: a send waiting on a full socket when the peer resets fails once with EPIPE or ECONNRESET (no SIGPIPE); later sends fail too', function () {
      this.timeout(60_000);
      const io = scope.create();
      const { client, server } = connectedPair(io);
      const { sends, pending } = pendingSend(io, client);
      // The server holds megabytes it never read: its close resets.
      const close = submit((callback) => io.close(server, callback));
      runUntil(io, () => pending.done && close.done, 'the pending send after the reset');
      if (pending.error !== null) expectIOError(pending.error, ['EPIPE', 'ECONNRESET'], 'send');
      else expect(pending.result, 'a partial send before the reset').to.be.within(1, 1 << 20);
      const after = submit((callback) => io.send(client, Buffer.from('after the reset'), callback));
      runUntil(io, () => after.done, 'a send after the reset');
      expectIOError(after.error, ['EPIPE', 'ECONNRESET'], 'send');
      io.runForNs(2_000_000);
      for (const send of [...sends, after, close]) expect(send.calls).to.equal(1);
    });
  });

  it('EMFILE on accept: the callback gets EMFILE, the connection stays queued, and accept succeeds once an fd is free', function () {
    this.timeout(60_000);
    // Windows has no per-process descriptor limit for sockets to run into:
    // filling node:fs's C runtime descriptors does not make AcceptEx fail.
    if (process.platform === 'win32') this.skip();
    // It exhausts the process's fds with node:fs; a simulated accept's EMFILE
    // is the fault acceptEmfileProbability (test/simulation/faults.test.ts).
    if (scope.simulated) this.skip();
    const io = scope.create();
    const listener = io.listen('127.0.0.1', 0);
    const { port } = io.localAddress(listener);
    const client = io.socket('ipv4');
    const connect = submit((callback) => io.connect(client, '127.0.0.1', port, callback));
    runUntil(io, () => connect.done, 'the connect (into the backlog)');
    expect(connect.error).to.equal(null);
    // Use up every fd this process may open.
    const fillers: number[] = [];
    try {
      for (;;) {
        try {
          fillers.push(fs.openSync('/dev/null', 'r'));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EMFILE') break;
          throw error;
        }
      }
      const starved = submit((callback) => io.accept(listener, callback));
      runUntil(io, () => starved.done, 'the accept without fds');
      expectIOError(starved.error, 'EMFILE', 'accept');
      fs.closeSync(fillers.pop()!);
      const accept = submit((callback) => io.accept(listener, callback));
      runUntil(io, () => accept.done, 'the accept with one fd free');
      expect(accept.error).to.equal(null);
      const server = accept.result;
      fs.closeSync(fillers.pop()!); // room for what the round trip may need
      expect(exchange(io, client, server, Buffer.from('ping')).toString()).to.equal('ping');
      expect(exchange(io, server, client, Buffer.from('pong')).toString()).to.equal('pong');
    } finally {
      for (const fd of fillers) fs.closeSync(fd);
    }
  });

  describe('partial sends (what ENOBUFS or a full socket gives)', () => {
    it('bufferSizeMax 1: 64 queued sends move one byte each, received in submission order', function () {
      const io = scope.create({ bufferSizeMax: 1 });
      const { client, server } = connectedPair(io);
      const sends = Array.from({ length: 64 }, (_, i) =>
        submit((callback) => io.send(client, Buffer.from([i, 0xff, 0xff]), callback)),
      );
      const received: number[] = [];
      const recvs: Outcome[] = [];
      runUntil(io, () => {
        if (recvs.every((r) => r.done)) {
          for (const r of recvs.splice(0)) received.push(...(r as Outcome & { bytes: number[] }).bytes);
          const buffer = Buffer.alloc(16);
          const r = submit((callback) => io.recv(server, buffer, (error, n) => {
            (r as Outcome & { bytes: number[] }).bytes = [...buffer.subarray(0, error === null ? n : 0)];
            callback(error, n);
          }));
          recvs.push(r);
        }
        return received.length >= 64 && sends.every((s) => s.done);
      }, '64 one-byte sends');
      for (const send of sends) {
        expect(send.error).to.equal(null);
        expect(send.result).to.equal(1);
      }
      expect(received).to.deep.equal(Array.from({ length: 64 }, (_, i) => i));
    });

    it('queued 1 MiB sends that each go partially: the stream is each accepted prefix, in submission order', function () {
      this.timeout(60_000);
      const io = scope.create({ bufferSizeMax: 200_000 });
      const { client, server } = connectedPair(io);
      const buffers = Array.from({ length: 4 }, (_, i) => Buffer.alloc(1 << 20, i + 1).fill(0xa0 + i, 0, 7));
      const sends = buffers.map((b) => submit((callback) => io.send(client, b, callback)));
      runUntil(io, () => sends.every((s) => s.done), 'the sends');
      const expected = Buffer.concat(sends.map((s, i) => {
        expect(s.error).to.equal(null);
        expect(s.result).to.be.within(1, 200_000);
        return buffers[i].subarray(0, s.result);
      }));
      // Read it back in small, odd chunks.
      const got = Buffer.alloc(expected.length);
      let at = 0;
      while (at < expected.length) {
        const size = Math.min(got.length - at, 1 + ((at * 7919) % 9000));
        const recv = submit((callback) => io.recv(server, got.subarray(at, at + size), callback));
        runUntil(io, () => recv.done, 'a recv');
        expect(recv.error).to.equal(null);
        expect(recv.result).to.be.greaterThan(0);
        at += recv.result;
      }
      expect(got.equals(expected)).to.equal(true);
    });
  });

  it('close of an fd twice, back to back: the pending recv gets ECANCELED first, the first close 0, the second EBADF', function () {
    const io = scope.create();
    const { server } = connectedPair(io);
    const order: string[] = [];
    const recv = submit((callback) => io.recv(server, Buffer.alloc(8), (e, r) => (order.push('recv'), callback(e, r))));
    const first = submit((callback) => io.close(server, (e, r) => (order.push('close 1'), callback(e, r))));
    const second = submit((callback) => io.close(server, (e, r) => (order.push('close 2'), callback(e, r))));
    runUntil(io, () => recv.done && first.done && second.done, 'the two closes');
    expectIOError(recv.error, 'ECANCELED', 'recv');
    expect(first.error).to.equal(null);
    expectIOError(second.error, 'EBADF', 'close');
    expect(order.indexOf('recv')).to.be.lessThan(order.indexOf('close 1'));
    io.runForNs(2_000_000);
    expect([recv.calls, first.calls, second.calls]).to.deep.equal([1, 1, 1]);
  });

  describe('an fd closed behind the IO\'s back', () => {
    // node:fs closes C runtime descriptors on Windows, and the IO's fds are
    // SOCKET handles there: fs.closeSync cannot close one behind its back.
    beforeEach(function () {
      if (process.platform === 'win32') this.skip();
      // fs.closeSync closes an OS fd: a simulated fd is its world's, and the
      // same number may be a real fd of this process that must not be closed.
      if (scope.simulated) this.skip();
    });

    it('an operation submitted after it fails with EBADF', function () {
      const io = scope.create();
      const { client } = connectedPair(io);
      fs.closeSync(client);
      const recv = submit((callback) => io.recv(client, Buffer.alloc(8), callback));
      const send = submit((callback) => io.send(client, Buffer.from('x'), callback));
      runUntil(io, () => recv.done && send.done, 'the ops on the closed fd');
      expectIOError(recv.error, 'EBADF', 'recv');
      expectIOError(send.error, 'EBADF', 'send');
    });

    it('a recv pending on it ends once with EBADF when the number is reused, and the new socket with that number works at once', function () {
      const fdsBefore = openFdCount();
      const io = scope.create();
      const { client, server, listener, port } = connectedPair(io);
      const orphan = submit((callback) => io.recv(client, Buffer.alloc(8), callback));
      io.runForNs(1_000_000);
      fs.closeSync(client); // behind the IO's back
      io.runForNs(2_000_000);
      // The IO cannot know until the number comes back to it: the recv waits.
      expect(orphan.done, 'the recv on the fd closed behind the IO').to.equal(false);
      const reused = io.socket('ipv4');
      expect(reused, 'the lowest free number is the one closed').to.equal(client);
      // One rule on every backend: the old fd's ops end with EBADF, with no cancel.
      runUntil(io, () => orphan.done, 'the orphaned recv');
      expectIOError(orphan.error, 'EBADF', 'recv');
      // The new socket's ops never wait behind the old fd's: a recv submitted
      // before its peer's data completes with it.
      const accept = submit((callback) => io.accept(listener, callback));
      const connect = submit((callback) => io.connect(reused, '127.0.0.1', port, callback));
      runUntil(io, () => accept.done && connect.done, 'connect on the reused number');
      expect(connect.error).to.equal(null);
      const received = Buffer.alloc(8);
      const recv = submit((callback) => io.recv(reused, received, callback));
      io.tick();
      const sent = submit((callback) => io.send(accept.result, Buffer.from('four'), callback));
      runUntil(io, () => recv.done && sent.done, 'the recv on the new socket');
      expect(recv.error).to.equal(null);
      expect(received.subarray(0, recv.result).toString()).to.equal('four');
      // The new socket with the old number works both ways.
      expect(exchange(io, reused, accept.result, Buffer.from('new socket')).toString()).to.equal('new socket');
      expect(exchange(io, accept.result, reused, Buffer.from('both ways')).toString()).to.equal('both ways');
      void server;
      scope.deinitAll();
      expect(orphan.calls).to.equal(1);
      expect(openFdCount(), 'fds after deinit').to.equal(fdsBefore);
    });
  });

  it('a worker that exits with a recv, a timeout and an accept pending frees its IO: the peer sees end of stream and no fd is left', async function () {
    // Its peer is an IO on another thread: a simulated world belongs to one thread (worlds are not shared across threads).
    if (scope.simulated) this.skip();
    this.timeout(30_000);
    const fdsBefore = openFdCount();
    const ended = new Promise<void>((resolve, reject) => {
      const srv = net.createServer((socket) => {
        socket.on('error', reject);
        socket.resume();
        socket.on('end', () => {
          socket.end();
          srv.close();
          resolve();
        });
      });
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        const worker = new Worker(path.join(__dirname, 'support', 'worker-pending.js'), {
          workerData: { backend: scope.backend, port },
        });
        let report: { pending: number } | null = null;
        worker.on('message', (message: { pending: number }) => (report = message));
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (code !== 0) reject(new Error(`worker exited with ${code}`));
          else if (report === null || report.pending !== 3) reject(new Error(`worker report: ${JSON.stringify(report)}`));
        });
      });
    });
    await ended;
    // The server's and the worker's fds close asynchronously: wait (bounded) for the count to settle.
    let fdsAfter = openFdCount();
    for (let i = 0; i < 100 && fdsAfter !== fdsBefore; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      fdsAfter = openFdCount();
    }
    expect(fdsAfter, 'fds after the worker exited').to.equal(fdsBefore);
  });
});
