// Contract rule 8: a limit on everything, and exceeding one is an error at
// the call that leaves earlier operations intact.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { expectThrows } from './support/assertions';
import { forEachBackend } from './support/backends';
import { runUntil, submit, succeed, type Outcome } from './support/run';
import { connectedPair } from './support/sockets';

forEachBackend('limits', (scope) => {
  it('throws RangeError ERR_IO_FULL past operationsMax, submits nothing, and the earlier operations complete', function () {
    const io = scope.create({ operationsMax: 4 });
    const socket = io.socket('ipv4');
    const timeouts = Array.from({ length: 4 }, () => submit((callback) => io.timeout(1_000_000, callback)));
    expectThrows(() => io.timeout(0, () => {}), RangeError, 'ERR_IO_FULL');
    expectThrows(() => io.recv(socket, Buffer.alloc(1), () => {}), RangeError, 'ERR_IO_FULL');
    expect(io.pending).to.equal(4);
    runUntil(io, () => timeouts.every((timeout) => timeout.done), 'the 4 timeouts');
    for (const timeout of timeouts) {
      expect(timeout.error).to.equal(null);
      expect(timeout.calls).to.equal(1);
    }
    // Room again once they completed.
    const again = submit((callback) => io.timeout(0, callback));
    runUntil(io, () => again.done, 'a timeout after the slots freed');
    expect(again.error).to.equal(null);
  });

  it('frees a slot once the callback ran, so operationsMax: 1 runs a long chain', function () {
    const io = scope.create({ operationsMax: 1 });
    let count = 0;
    const next = (): void => {
      io.timeout(0, () => {
        if (++count < 100) next();
      });
    };
    next();
    runUntil(io, () => count === 100, 'the chain of 100');
    expect(count).to.equal(100);
  });

  it('clamps recv and send to bufferSizeMax', function () {
    const io = scope.create({ bufferSizeMax: 100 });
    const { client, server } = connectedPair(io);
    expect(succeed(io, 'send', (callback) => io.send(client, Buffer.alloc(1000, 1), callback))).to.be.within(1, 100);
    io.runForNs(2_000_000);
    expect(succeed(io, 'recv', (callback) => io.recv(server, Buffer.alloc(1000), callback))).to.be.within(1, 100);
  });

  it('clamps read and write to bufferSizeMax', function () {
    const io = scope.create({ bufferSizeMax: 100 });
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-limits-'));
    try {
      const fd = succeed(io, 'open', (callback) => io.open(path.join(directory, 'f'), 'w+', undefined, callback));
      expect(succeed(io, 'write', (callback) => io.write(fd, Buffer.alloc(1000, 2), 0, callback))).to.equal(100);
      expect(succeed(io, 'read', (callback) => io.read(fd, Buffer.alloc(1000), 0, callback))).to.equal(100);
      succeed(io, 'close', (callback) => io.close(fd, callback));
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('completes 200 operations on an IO with entries: 1, none lost', function () {
    const io = scope.create({ entries: 1 });
    const { client, server } = connectedPair(io);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 100; i++) {
      outcomes.push(submit((callback) => io.timeout(0, callback)));
      outcomes.push(submit((callback) => io.send(client, Buffer.from([i]), callback)));
    }
    const received = Buffer.alloc(100);
    let bytes = 0;
    const recvNext = (): void => {
      io.recv(server, received.subarray(bytes), (error, n) => {
        if (error === null && n > 0) bytes += n;
        if (error === null && n > 0 && bytes < received.byteLength) recvNext();
      });
    };
    recvNext();
    runUntil(io, () => outcomes.every((outcome) => outcome.done) && bytes === 100, 'the 200 operations and 100 bytes');
    for (const outcome of outcomes) expect(outcome.calls).to.equal(1);
    expect([...received]).to.deep.equal(Array.from({ length: 100 }, (_, i) => i));
  });
});
