// A send right after the peer has closed its side (issue 11). The peer's
// FIN is in, and the data it receives makes its kernel answer with a reset,
// so the send's callback must come promptly, with either the bytes the
// kernel took before the reset (a partial send, as POSIX send reports) or
// ECONNRESET/EPIPE; a send after a partial one meets the reset. On IOCP
// under Wine a 1 MiB overlapped send there used to never complete: Wine
// took what fit, kept the rest waiting for room, and missed the reset that
// came meanwhile (see kSendChunkMax in native/backend/iocp.cc). node:net
// on the same Wine gets ECONNRESET within milliseconds.
import { expect } from 'chai';
import { expectIOError } from './support/assertions';
import { forEachBackend } from './support/backends';
import { complete, succeed, type Outcome } from './support/run';
import { connectedPair } from './support/sockets';
import type { IO } from '../io';

const MiB = 1 << 20;
// A hang guard far above what a working backend needs (milliseconds), far
// below mocha's 20 s: a lost callback fails with a clear message.
const limits = { stepsMax: 4_000, stepNs: 1_000_000 };
// Time for the peer's reset to come back before the next send. On loopback
// it comes within the sending syscall or a softirq right after; this only
// keeps a loaded machine from making the next send race it.
const RESET_NS = 20_000_000;

/** Sends `data` on `fd` and runs until its callback came (bounded). */
function send(io: IO, fd: number, data: Uint8Array, what: string): Outcome {
  const outcome = complete(io, what, (callback) => io.send(fd, data, callback), limits);
  expect(outcome.calls, `${what}: callbacks`).to.equal(1);
  return outcome;
}

/** A partial count (then the next send fails) or the reset at once. */
function expectPartialThenReset(io: IO, client: number, first: Outcome, data: Uint8Array): void {
  if (first.error !== null) {
    expectIOError(first.error, ['ECONNRESET', 'EPIPE'], 'send');
    return;
  }
  expect(first.result, 'bytes the kernel took before the reset').to.be.greaterThan(0);
  expect(first.result).to.be.at.most(data.length);
  io.runForNs(RESET_NS);
  const next = send(io, client, data, 'the send after the partial one');
  expect(next.error, `the send after ${first.result} bytes went out to a closed peer`).to.not.equal(null);
  expectIOError(next.error, ['ECONNRESET', 'EPIPE'], 'send');
}

forEachBackend('send after the peer closed', (scope) => {
  it('completes a 1 MiB send right after the peer closed: a partial count and then ECONNRESET/EPIPE, or the error at once', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    succeed(io, 'close of the server side', (callback) => io.close(server, callback));
    const data = Buffer.alloc(MiB, 0x62);
    const first = send(io, client, data, 'the 1 MiB send after the peer closed');
    expectPartialThenReset(io, client, first, data);
    expect(io.pending).to.equal(0);
  });

  it('completes a 64 KiB send and then a 1 MiB send after the peer closed, the last with ECONNRESET/EPIPE', function () {
    const io = scope.create();
    const { client, server } = connectedPair(io);
    succeed(io, 'close of the server side', (callback) => io.close(server, callback));
    const small = send(io, client, Buffer.alloc(64 * 1024, 0x63), 'the 64 KiB send after the peer closed');
    if (small.error !== null) {
      expectIOError(small.error, ['ECONNRESET', 'EPIPE'], 'send');
    } else {
      expect(small.result).to.be.greaterThan(0);
      io.runForNs(RESET_NS);
    }
    const large = send(io, client, Buffer.alloc(MiB, 0x64), 'the 1 MiB send after the 64 KiB one');
    expect(large.error, 'a 1 MiB send after the reset').to.not.equal(null);
    expectIOError(large.error, ['ECONNRESET', 'EPIPE'], 'send');
    expect(io.pending).to.equal(0);
  });
});
