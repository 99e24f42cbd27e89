// Files for databases (issue 13): fsync, fdatasync, fileSize, truncate,
// allocate and direct I/O, on every backend, with the contract of every
// other operation (exactly once, never synchronous, ECANCELED on close,
// cancel and deinit, EBADF on a closed fd, the fd's operations in order).
//
// What a test can check of durability is the contract, not the physics:
// fsync's result is 0 only after the writes before it, and a fresh IO (and
// node:fs) then reads those bytes. Whether they survive a power cut is the
// kernel's and the disk's promise (native/README.md: "What each OS really guarantees").
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { IO, IOError, type Callback } from '../io';
import { expectIOError, expectThrows } from './support/assertions';
import { forEachBackend } from './support/backends';
import { seededRandom } from './support/random';
import { complete, fail, runUntil, runUntilIdle, submit, succeed, type Outcome } from './support/run';

const A = IO.directAlignment;
/** Backends whose kernel may finish an operation before a cancel reaches it (native/README.md: where backends differ). */
const COMPLETION_BACKENDS = new Set(['io_uring', 'iocp']);

/** Reads the whole file through `io` (a read at a time) and returns its bytes. */
function readAll(io: IO, fd: number, size: number): Buffer {
  const back = Buffer.alloc(size);
  let read = 0;
  while (read < size) {
    const bytes = succeed(io, 'read', (callback) => io.read(fd, back.subarray(read), read, callback));
    expect(bytes, 'read before the end of the file').to.be.greaterThan(0);
    read += bytes;
  }
  return back;
}

function writeAll(io: IO, fd: number, data: Uint8Array, position: number): void {
  let written = 0;
  while (written < data.byteLength) {
    written += succeed(io, 'write', (callback) => io.write(fd, data.subarray(written), position + written, callback));
  }
}

/**
 * A directory whose file system takes direct I/O, and the reasons the
 * others gave: the test directory first, then the disk's usual places.
 */
function directDirectory(io: IO, first: string): { directory: string | null; refusals: string[] } {
  const refusals: string[] = [];
  for (const candidate of [first, '/var/tmp', process.cwd()]) {
    if (!fs.existsSync(candidate)) continue;
    const probe = path.join(candidate, `tigerio-direct-probe-${process.pid}-${Date.now()}`);
    const opened = complete(io, `direct open in ${candidate}`, (callback) => io.open(probe, 'wx', { direct: true }, callback));
    if (opened.error === null) {
      succeed(io, 'close the probe', (callback) => io.close(opened.result, callback));
      fs.rmSync(probe, { force: true });
      return { directory: candidate, refusals };
    }
    fs.rmSync(probe, { force: true });
    refusals.push(`${candidate}: ${opened.error.code}`);
  }
  return { directory: null, refusals };
}

/** `outcome` ran once, and got its own result or ECANCELED (allowed only when `cancellable`). */
function expectOnceResultOrCanceled(outcome: Outcome, what: string, syscall: string, cancellable: boolean): void {
  expect(outcome.calls, `${what}: callbacks`).to.equal(1);
  expect(outcome.ranInsideSubmit, `${what}: ran inside its submitting call`).to.equal(false);
  if (outcome.error === null) return;
  expect(cancellable, `${what}: ${outcome.error.code} where only its own result may come`).to.equal(true);
  expectIOError(outcome.error, 'ECANCELED', syscall);
}

forEachBackend('files for databases', (scope) => {
  // On the simulation the files live on the world's simulated disk: node:fs
  // cannot see them, so the checks against the OS's view are left out there.
  const osDisk = !scope.simulated;
  let directory = '';
  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-durable-'));
  });
  afterEach(() => {
    fs.rmSync(directory, { recursive: true, force: true });
  });

  it('writes, fsyncs (result 0), and a fresh IO reads the bytes back', function () {
    const writer = scope.create();
    const file = path.join(directory, 'journal.bin');
    const data = randomBytes(3 * 65536 + 17);
    const fd = succeed(writer, 'open', (callback) => writer.open(file, 'w+', 0o644, callback));
    writeAll(writer, fd, data, 0);
    const sync = complete(writer, 'fsync', (callback) => writer.fsync(fd, callback));
    expect(sync.error).to.equal(null);
    expect(sync.result).to.equal(0);
    expect(sync.calls).to.equal(1);
    expect(sync.ranInsideSubmit).to.equal(false);
    succeed(writer, 'close', (callback) => writer.close(fd, callback));

    const reader = scope.create();
    const again = succeed(reader, "open 'r'", (callback) => reader.open(file, 'r', undefined, callback));
    expect(succeed(reader, 'fileSize', (callback) => reader.fileSize(again, callback))).to.equal(data.byteLength);
    expect(readAll(reader, again, data.byteLength).equals(data), 'the fresh IO reads what was written').to.equal(true);
    succeed(reader, 'close', (callback) => reader.close(again, callback));
    if (osDisk) expect(fs.readFileSync(file).equals(data), 'node:fs reads the same').to.equal(true);
  });

  it('fdatasync after appends: result 0, and a fresh IO sees the new size and bytes', function () {
    const writer = scope.create();
    const file = path.join(directory, 'log.bin');
    if (osDisk) {
      fs.writeFileSync(file, 'head;');
    } else {
      // The simulated disk is the world's: the head goes in through an IO.
      const head = succeed(writer, 'create', (callback) => writer.open(file, 'w', undefined, callback));
      writeAll(writer, head, Buffer.from('head;'), 0);
      succeed(writer, 'close', (callback) => writer.close(head, callback));
    }
    const fd = succeed(writer, "open 'a'", (callback) => writer.open(file, 'a', undefined, callback));
    const records = [randomBytes(1000), randomBytes(4096), randomBytes(1)];
    for (const record of records) {
      expect(succeed(writer, 'append', (callback) => writer.write(fd, record, null, callback))).to.equal(record.byteLength);
    }
    expect(succeed(writer, 'fdatasync', (callback) => writer.fdatasync(fd, callback))).to.equal(0);
    succeed(writer, 'close', (callback) => writer.close(fd, callback));

    const expected = Buffer.concat([Buffer.from('head;'), ...records]);
    const reader = scope.create();
    const again = succeed(reader, "open 'r'", (callback) => reader.open(file, 'r', undefined, callback));
    expect(succeed(reader, 'fileSize', (callback) => reader.fileSize(again, callback))).to.equal(expected.byteLength);
    expect(readAll(reader, again, expected.byteLength).equals(expected)).to.equal(true);
    succeed(reader, 'close', (callback) => reader.close(again, callback));
  });

  it('fileSize follows writes, truncate (shorter and longer) and allocate (never shorter)', function () {
    const io = scope.create();
    const file = path.join(directory, 'sizes.bin');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', undefined, callback));
    const size = (): number => {
      const bytes = succeed(io, 'fileSize', (callback) => io.fileSize(fd, callback));
      if (osDisk) expect(fs.statSync(file).size, 'node:fs agrees').to.equal(bytes);
      return bytes;
    };
    expect(size()).to.equal(0);
    const data = randomBytes(1000);
    writeAll(io, fd, data, 0);
    expect(size()).to.equal(1000);
    writeAll(io, fd, Buffer.from('0123456789'), 5000);
    expect(size()).to.equal(5010);

    expect(succeed(io, 'truncate to 300', (callback) => io.truncate(fd, 300, callback))).to.equal(0);
    expect(size()).to.equal(300);
    expect(readAll(io, fd, 300).equals(data.subarray(0, 300)), 'the head survives').to.equal(true);
    expect(succeed(io, 'read past the end', (callback) => io.read(fd, Buffer.alloc(8), 300, callback))).to.equal(0);

    succeed(io, 'truncate to 70000', (callback) => io.truncate(fd, 70_000, callback));
    expect(size()).to.equal(70_000);
    const grown = readAll(io, fd, 70_000);
    expect(grown.subarray(0, 300).equals(data.subarray(0, 300))).to.equal(true);
    expect(grown.subarray(300).equals(Buffer.alloc(70_000 - 300)), 'the new part reads as zeros').to.equal(true);

    const before = osDisk ? fs.statSync(file) : null;
    expect(succeed(io, 'allocate 64 KiB at 100000', (callback) => io.allocate(fd, 100_000, 65_536, callback))).to.equal(0);
    expect(size()).to.equal(165_536);
    if (before !== null && process.platform !== 'win32') {
      // The blocks are the disk's now: st_blocks (512-byte units) grew by at least the range.
      expect(fs.statSync(file).blocks - before.blocks, 'blocks allocated').to.be.at.least(65_536 / 512);
    }
    expect(succeed(io, 'read in the allocated range', (callback) => io.read(fd, Buffer.alloc(16, 0xff), 120_000, callback))).to.equal(16);

    // A range inside the file changes no size.
    succeed(io, 'allocate inside', (callback) => io.allocate(fd, 0, 10, callback));
    expect(size()).to.equal(165_536);
    succeed(io, 'truncate to 0', (callback) => io.truncate(fd, 0, callback));
    expect(size()).to.equal(0);
    succeed(io, 'close', (callback) => io.close(fd, callback));
  });

  it('fileSize is exact past 2^31 and 2^32 bytes (sparse files made by truncate)', function () {
    const io = scope.create();
    const file = path.join(directory, 'sparse.bin');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', undefined, callback));
    for (const length of [2 ** 31, 2 ** 32 + 2 ** 31 + 12_345, 2 ** 40 + 3]) {
      const truncated = complete(io, `truncate to ${length}`, (callback) => io.truncate(fd, length, callback));
      if (truncated.error !== null && truncated.error.code === 'EFBIG' && length > 2 ** 33) continue; // the file system's own limit
      expect(truncated.error, `truncate to ${length}`).to.equal(null);
      expect(succeed(io, 'fileSize', (callback) => io.fileSize(fd, callback)), `size after truncate to ${length}`).to.equal(length);
      if (osDisk) expect(fs.statSync(file).size).to.equal(length);
    }
    // Data written at the end of a 5 GiB file: the size counts it.
    const end = 5 * 2 ** 30 + 7;
    succeed(io, 'truncate to 5 GiB + 7', (callback) => io.truncate(fd, end, callback));
    writeAll(io, fd, Buffer.from('tail'), end);
    expect(succeed(io, 'fileSize', (callback) => io.fileSize(fd, callback))).to.equal(end + 4);
    succeed(io, 'close', (callback) => io.close(fd, callback));
  });

  it("runs a file's operations one at a time in submission order (one batch, no waiting between)", function () {
    const io = scope.create();
    const file = path.join(directory, 'order.bin');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', undefined, callback));
    const steps = [
      submit((callback) => io.write(fd, Buffer.alloc(1234, 1), 0, callback)),
      submit((callback) => io.fileSize(fd, callback)),
      submit((callback) => io.truncate(fd, 100, callback)),
      submit((callback) => io.fileSize(fd, callback)),
      submit((callback) => io.allocate(fd, 0, 3 * A, callback)),
      submit((callback) => io.fileSize(fd, callback)),
      submit((callback) => io.fdatasync(fd, callback)),
      submit((callback) => io.fsync(fd, callback)),
      submit((callback) => io.truncate(fd, 2 ** 33, callback)),
      submit((callback) => io.fileSize(fd, callback)),
    ];
    const order: number[] = [];
    runUntil(io, () => steps.every((step) => step.done), 'the batch');
    steps.forEach((step, index) => {
      expect(step.calls, `step ${index} callbacks`).to.equal(1);
      expect(step.ranInsideSubmit, `step ${index} ran inside its submit`).to.equal(false);
      expect(step.error, `step ${index}`).to.equal(null);
      order.push(step.result);
    });
    expect(order).to.deep.equal([1234, 1234, 0, 100, 0, 3 * A, 0, 0, 0, 2 ** 33]);
    succeed(io, 'close', (callback) => io.close(fd, callback));
  });

  it('direct I/O: aligned buffers round-trip, and node:fs reads the same bytes', function () {
    const io = scope.create();
    const { directory: place, refusals } = directDirectory(io, directory);
    if (place === null) {
      // Not a failure of tigerio: no file system here takes direct I/O.
      process.stdout.write(`      (skipped: no file system here takes direct I/O: ${refusals.join('; ')})\n`);
      this.skip();
    }
    const file = path.join(place, `tigerio-direct-${process.pid}-${Date.now()}.bin`);
    try {
      const fd = succeed(io, 'direct open', (callback) => io.open(file, 'w+', { direct: true, mode: 0o600 }, callback));
      const out = io.alignedBuffer(4 * A);
      expect(out).to.be.instanceOf(Uint8Array);
      expect(out.byteLength).to.equal(4 * A);
      expect(out.every((byte) => byte === 0), 'a zeroed buffer').to.equal(true);
      out.set(randomBytes(4 * A));
      expect(succeed(io, 'direct write at A', (callback) => io.write(fd, out, A, callback))).to.equal(4 * A);
      expect(succeed(io, 'fdatasync', (callback) => io.fdatasync(fd, callback))).to.equal(0);
      expect(succeed(io, 'fileSize', (callback) => io.fileSize(fd, callback))).to.equal(5 * A);
      const back = io.alignedBuffer(4 * A);
      expect(succeed(io, 'direct read at A', (callback) => io.read(fd, back, A, callback))).to.equal(4 * A);
      expect(Buffer.from(back).equals(Buffer.from(out)), 'read back what was written').to.equal(true);
      // The first block was never written: a hole of zeros.
      const first = io.alignedBuffer(A);
      first.fill(0xff);
      expect(succeed(io, 'direct read at 0', (callback) => io.read(fd, first, 0, callback))).to.equal(A);
      expect(first.every((byte) => byte === 0)).to.equal(true);
      // A read at the end returns what is left (the length asked is aligned, the result need not be).
      succeed(io, 'truncate to 5A + 100', (callback) => io.truncate(fd, 5 * A + 100, callback));
      expect(succeed(io, 'direct read at 5A', (callback) => io.read(fd, io.alignedBuffer(A), 5 * A, callback))).to.equal(100);
      succeed(io, 'close', (callback) => io.close(fd, callback));
      if (osDisk) expect(fs.readFileSync(file).subarray(A, 5 * A).equals(Buffer.from(out)), 'node:fs agrees').to.equal(true);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('direct I/O: a misaligned address, length or position fails with EINVAL in its turn, and the fd goes on', function () {
    const io = scope.create();
    const { directory: place, refusals } = directDirectory(io, directory);
    if (place === null) {
      process.stdout.write(`      (skipped: no file system here takes direct I/O: ${refusals.join('; ')})\n`);
      this.skip();
    }
    const file = path.join(place, `tigerio-misaligned-${process.pid}-${Date.now()}.bin`);
    try {
      const fd = succeed(io, 'direct open', (callback) => io.open(file, 'w+', { direct: true }, callback));
      const block = io.alignedBuffer(2 * A);
      const cases: [string, 'read' | 'write', Uint8Array, number][] = [
        ['address + 1', 'write', block.subarray(1, 1 + A), 0],
        ['address + 512', 'read', block.subarray(512, 512 + A), 0],
        ['length 100', 'write', block.subarray(0, 100), 0],
        ['length A + 1', 'read', block.subarray(0, A + 1), 0],
        ['position 1', 'write', block.subarray(0, A), 1],
        ['position A / 2', 'read', block.subarray(0, A), A / 2],
      ];
      // All in one batch, behind a good write and before a good fileSize: each fails in its turn.
      const order: number[] = [];
      const inOrder = (index: number, callback: Callback): Callback => (error, result) => {
        order.push(index);
        callback(error, result);
      };
      const good = submit((callback) => io.write(fd, block, 0, inOrder(0, callback)));
      const failures = cases.map(([, kind, view, position], index) =>
        submit((callback) =>
          kind === 'read'
            ? io.read(fd, view, position, inOrder(index + 1, callback))
            : io.write(fd, view, position, inOrder(index + 1, callback)),
        ),
      );
      const size = submit((callback) => io.fileSize(fd, inOrder(cases.length + 1, callback)));
      runUntil(io, () => size.done && good.done && failures.every((f) => f.done), 'the batch');
      expect(good.error).to.equal(null);
      expect(good.result).to.equal(2 * A);
      failures.forEach((outcome, index) => {
        const [title, kind] = cases[index];
        expect(outcome.calls, title).to.equal(1);
        expectIOError(outcome.error, 'EINVAL', kind);
      });
      expect(size.error).to.equal(null);
      expect(size.result, 'no misaligned write reached the file').to.equal(2 * A);
      expect(order, 'callbacks in submission order').to.deep.equal([...Array(cases.length + 2).keys()]);
      // The fd still works.
      expect(succeed(io, 'aligned read', (callback) => io.read(fd, io.alignedBuffer(A), A, callback))).to.equal(A);
      succeed(io, 'close', (callback) => io.close(fd, callback));
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('a buffered fd takes any alignment (the rule is only for direct fds)', function () {
    const io = scope.create();
    const file = path.join(directory, 'buffered.bin');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', { direct: false }, callback));
    const block = io.alignedBuffer(2 * A);
    expect(succeed(io, 'write at 1 from address + 1', (callback) => io.write(fd, block.subarray(1, 101), 1, callback))).to.equal(100);
    expect(succeed(io, 'fileSize', (callback) => io.fileSize(fd, callback))).to.equal(101);
    succeed(io, 'close', (callback) => io.close(fd, callback));
  });

  it('open with direct fails with EINVAL where the file system refuses direct I/O (procfs)', function () {
    if (!osDisk) this.skip(); // procfs is the OS's: the simulated disk has no such file system
    // /proc files have no direct I/O: Linux's open(2) says EINVAL, as it does on any such file system.
    if (process.platform !== 'linux') this.skip();
    const io = scope.create();
    const error = fail(io, 'direct open of /proc/self/status', (callback) =>
      io.open('/proc/self/status', 'r', { direct: true }, callback),
    );
    expectIOError(error, 'EINVAL', 'open');
    // The same file opens without it.
    const fd = succeed(io, 'buffered open', (callback) => io.open('/proc/self/status', 'r', undefined, callback));
    succeed(io, 'close', (callback) => io.close(fd, callback));
  });

  it('each file operation on a closed fd fails with EBADF', function () {
    const io = scope.create();
    const file = path.join(directory, 'closed.bin');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', undefined, callback));
    succeed(io, 'close', (callback) => io.close(fd, callback));
    const calls: [string, (callback: Callback) => number][] = [
      ['fsync', (callback) => io.fsync(fd, callback)],
      ['fdatasync', (callback) => io.fdatasync(fd, callback)],
      ['fileSize', (callback) => io.fileSize(fd, callback)],
      ['truncate', (callback) => io.truncate(fd, 10, callback)],
      ['allocate', (callback) => io.allocate(fd, 0, 10, callback)],
    ];
    for (const [syscall, call] of calls) {
      const outcome = complete(io, `${syscall} on a closed fd`, call);
      expect(outcome.calls).to.equal(1);
      expectIOError(outcome.error, 'EBADF', syscall);
      expect(outcome.result).to.equal(0);
    }
  });

  it('close with file operations pending: each completes exactly once, before the close (ECANCELED or its result)', function () {
    const io = scope.create();
    const file = path.join(directory, 'close-pending.bin');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', undefined, callback));
    const order: string[] = [];
    const track = (name: string, start: (callback: Callback) => number): [string, Outcome] => [
      name,
      submit((callback) => start((error, result) => {
        order.push(name);
        callback(error, result);
      })),
    ];
    const pending = [
      track('write', (callback) => io.write(fd, Buffer.alloc(1 << 20, 7), 0, callback)),
      track('fsync', (callback) => io.fsync(fd, callback)),
      track('fileSize', (callback) => io.fileSize(fd, callback)),
      track('truncate', (callback) => io.truncate(fd, 10, callback)),
      track('allocate', (callback) => io.allocate(fd, 0, 8192, callback)),
      track('fdatasync', (callback) => io.fdatasync(fd, callback)),
    ];
    const close = track('close', (callback) => io.close(fd, callback));
    const after = track('fsync after close', (callback) => io.fsync(fd, callback));
    runUntilIdle(io, 'close with pending file operations');
    for (const [name, outcome] of pending) expectOnceResultOrCanceled(outcome, name, name, true);
    expect(close[1].calls).to.equal(1);
    expect(close[1].error).to.equal(null);
    expect(close[1].result).to.equal(0);
    expect(order.indexOf('close'), 'the close comes after the operations it ended').to.be.greaterThan(
      Math.max(...pending.map(([name]) => order.indexOf(name))),
    );
    expect(after[1].calls).to.equal(1);
    expectIOError(after[1].error, 'EBADF', 'fsync');
  });

  it('cancel of file operations still in the submission queue: each completes once with ECANCELED and none runs', function () {
    const io = scope.create();
    const file = path.join(directory, 'cancel.bin');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', undefined, callback));
    const outcomes: [string, Outcome][] = [
      ['write', submit((callback) => io.write(fd, Buffer.alloc(4 << 20, 3), 0, callback))],
      ['fsync', submit((callback) => io.fsync(fd, callback))],
      ['fdatasync', submit((callback) => io.fdatasync(fd, callback))],
      ['fileSize', submit((callback) => io.fileSize(fd, callback))],
      ['truncate', submit((callback) => io.truncate(fd, 4096, callback))],
      ['allocate', submit((callback) => io.allocate(fd, 0, 8192, callback))],
    ];
    // No tick since the calls: all six are still in the queue, on every backend.
    const cancelled = outcomes.map(([, outcome]) => io.cancel(outcome.id));
    expect(cancelled, 'every cancel finds its operation in the queue').to.deep.equal(outcomes.map(() => true));
    runUntil(io, () => outcomes.every(([, outcome]) => outcome.done), 'the cancelled operations');
    for (const [name, outcome] of outcomes) {
      expect(outcome.calls, `${name} callbacks`).to.equal(1);
      expectIOError(outcome.error, 'ECANCELED', name);
    }
    // A second cancel of each finds nothing, and nothing runs twice.
    for (const [, outcome] of outcomes) expect(io.cancel(outcome.id)).to.equal(false);
    io.tick();
    for (const [name, outcome] of outcomes) expect(outcome.calls, name).to.equal(1);
    // None reached the file: no write, no truncate, no allocation. The fd is usable after.
    const size = succeed(io, 'fileSize after', (callback) => io.fileSize(fd, callback));
    expect(size, 'nothing was written').to.equal(0);
    if (osDisk) expect(fs.statSync(file).size).to.equal(0);
    succeed(io, 'close', (callback) => io.close(fd, callback));
  });

  it('cancel of a file operation already in the kernel: exactly once, ECANCELED or its own result', function () {
    const io = scope.create();
    const file = path.join(directory, 'in-kernel.bin');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', undefined, callback));
    const write = submit((callback) => io.write(fd, Buffer.alloc(8 << 20, 5), 0, callback));
    const sync = submit((callback) => io.fsync(fd, callback));
    io.tick(); // handed to the kernel (io_uring, IOCP) or done (epoll, kqueue)
    const cancelled = io.cancel(sync.id);
    runUntil(io, () => write.done && sync.done, 'write and fsync');
    expect(write.calls).to.equal(1);
    expect(write.error).to.equal(null);
    expectOnceResultOrCanceled(sync, 'fsync', 'fsync', cancelled);
    if (sync.error === null) expect(sync.result).to.equal(0);
    succeed(io, 'close', (callback) => io.close(fd, callback));
  });

  it('deinit with file operations pending: each completes exactly once inside deinit', function () {
    const io = scope.create();
    const file = path.join(directory, 'deinit.bin');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', undefined, callback));
    const outcomes: [string, Outcome][] = [
      ['write', submit((callback) => io.write(fd, Buffer.alloc(1 << 20, 1), 0, callback))],
      ['fsync', submit((callback) => io.fsync(fd, callback))],
      ['fileSize', submit((callback) => io.fileSize(fd, callback))],
      ['truncate', submit((callback) => io.truncate(fd, 1, callback))],
      ['allocate', submit((callback) => io.allocate(fd, 0, 4096, callback))],
      ['fdatasync', submit((callback) => io.fdatasync(fd, callback))],
    ];
    io.deinit();
    for (const [name, outcome] of outcomes) expectOnceResultOrCanceled(outcome, name, name, true);
    expect(io.pending).to.equal(0);
  });

  it('random batches of file operations on one fd agree with a model of the file (seeded)', function () {
    const seed = Number(process.env.TIGERIO_FILES_SEED ?? (Date.now() % 1_000_000));
    const random = seededRandom(seed);
    const below = (n: number): number => Math.floor(random() * n);
    const io = scope.create();
    const file = path.join(directory, 'model.bin');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', undefined, callback));
    let model = Buffer.alloc(0);
    const resize = (size: number): void => {
      if (size <= model.length) {
        model = model.subarray(0, size);
      } else {
        model = Buffer.concat([model, Buffer.alloc(size - model.length)]);
      }
    };
    const context = (round: number, what: string): string => `seed ${seed} (TIGERIO_FILES_SEED=${seed} to replay), round ${round}: ${what}`;
    for (let round = 0; round < 150; round++) {
      const order: number[] = [];
      const checks: ((error: IOError | null, result: number) => void)[] = [];
      const outcomes: Outcome[] = [];
      const count = 1 + below(8);
      for (let index = 0; index < count; index++) {
        const choice = below(7);
        let what = '';
        let start: (callback: Callback) => number;
        let check: (error: IOError | null, result: number) => void;
        if (choice === 0) {
          const position = below(200_000);
          const data = randomBytes(1 + below(8192));
          what = `write ${data.length} at ${position}`;
          if (position + data.length > model.length) resize(position + data.length);
          data.copy(model, position);
          start = (callback) => io.write(fd, data, position, callback);
          check = (error, result) => expect([error, result], context(round, what)).to.deep.equal([null, data.length]);
        } else if (choice === 1) {
          const position = below(model.length + 100);
          const buffer = Buffer.alloc(1 + below(8192), 0xee);
          const expected = Buffer.from(model.subarray(Math.min(position, model.length), Math.min(position + buffer.length, model.length)));
          what = `read ${buffer.length} at ${position}`;
          start = (callback) => io.read(fd, buffer, position, callback);
          check = (error, result) => {
            expect([error, result], context(round, what)).to.deep.equal([null, expected.length]);
            expect(buffer.subarray(0, result).equals(expected), context(round, `${what}: bytes`)).to.equal(true);
          };
        } else if (choice === 2) {
          const length = below(256_000);
          what = `truncate to ${length}`;
          resize(length);
          start = (callback) => io.truncate(fd, length, callback);
          check = (error, result) => expect([error, result], context(round, what)).to.deep.equal([null, 0]);
        } else if (choice === 3) {
          const offset = below(200_000);
          const length = 1 + below(32_768);
          what = `allocate ${length} at ${offset}`;
          if (offset + length > model.length) resize(offset + length);
          start = (callback) => io.allocate(fd, offset, length, callback);
          check = (error, result) => expect([error, result], context(round, what)).to.deep.equal([null, 0]);
        } else if (choice === 4) {
          const size = model.length;
          what = `fileSize (${size})`;
          start = (callback) => io.fileSize(fd, callback);
          check = (error, result) => expect([error, result], context(round, what)).to.deep.equal([null, size]);
        } else {
          const data = choice === 5;
          what = data ? 'fdatasync' : 'fsync';
          start = (callback) => (data ? io.fdatasync(fd, callback) : io.fsync(fd, callback));
          check = (error, result) => expect([error, result], context(round, what)).to.deep.equal([null, 0]);
        }
        checks.push(check);
        outcomes.push(submit((callback) => start((error, result) => {
          order.push(index);
          callback(error, result);
        })));
      }
      runUntil(io, () => outcomes.every((outcome) => outcome.done), context(round, 'the batch'));
      outcomes.forEach((outcome, index) => {
        expect(outcome.calls, context(round, `op ${index} callbacks`)).to.equal(1);
        checks[index](outcome.error, outcome.result);
      });
      expect(order, context(round, 'callbacks in submission order')).to.deep.equal([...Array(count).keys()]);
    }
    succeed(io, 'close', (callback) => io.close(fd, callback));
    if (osDisk) expect(fs.readFileSync(file).equals(model), `seed ${seed}: node:fs reads the model's bytes`).to.equal(true);
  });

  it('alignedBuffer checks its size; IO.directAlignment is a power of two', function () {
    const io = scope.create();
    expect(A).to.be.a('number');
    expect(A & (A - 1), 'a power of two').to.equal(0);
    expect(A).to.be.at.least(512);
    expect(IO.limits.directAlignment).to.equal(A);
    expect(IO.limits.fileBytesMax).to.equal(Number.MAX_SAFE_INTEGER);
    for (const size of [0, 1, 100, A - 1, A + 1, 3 * A + 512]) {
      expectThrows(() => io.alignedBuffer(size), RangeError);
    }
    expectThrows(() => io.alignedBuffer(-A), RangeError);
    expectThrows(() => io.alignedBuffer(1.5 * A), RangeError);
    expectThrows(() => io.alignedBuffer(String(A) as unknown as number), TypeError);
    const buffers = [io.alignedBuffer(A), io.alignedBuffer(16 * A)];
    expect(buffers.map((buffer) => buffer.byteLength)).to.deep.equal([A, 16 * A]);
  });

  it('the promise layer: fsync, fdatasync, fileSize, truncate, allocate and open options resolve; EBADF rejects', async function () {
    const io = scope.create();
    io.attach();
    const file = path.join(directory, 'promises.bin');
    const fd = await io.promises.open(file, 'w+', { mode: 0o600 });
    await io.promises.write(fd, Buffer.from('durable'), 0);
    expect(await io.promises.fsync(fd)).to.equal(0);
    expect(await io.promises.fdatasync(fd)).to.equal(0);
    expect(await io.promises.fileSize(fd)).to.equal(7);
    expect(await io.promises.truncate(fd, 3 * 2 ** 31)).to.equal(0);
    expect(await io.promises.fileSize(fd)).to.equal(3 * 2 ** 31);
    expect(await io.promises.allocate(fd, 0, 4096)).to.equal(0);
    expect(await io.promises.truncate(fd, 4)).to.equal(0);
    expect(await io.promises.fileSize(fd)).to.equal(4);
    await io.promises.close(fd);
    let rejected: unknown = null;
    try {
      await io.promises.fileSize(fd);
    } catch (error) {
      rejected = error;
    }
    expect(rejected).to.be.instanceOf(IOError);
    expectIOError(rejected, 'EBADF', 'fileSize');
    io.detach();
  });
});
