// The file namespace (rename, unlink, mkdir, openDirectory) on every
// backend, with the contract of every other operation, and file work on the
// readiness and IOCP backends' thread pool: per-fd order, close after the
// fd's operations, exactly one callback through cancel, close and deinit.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { IO, type IOError } from '../io';
import { expectIOError, expectThrows } from './support/assertions';
import { forEachBackend } from './support/backends';
import { complete, fail, runUntil, submit, succeed, type Outcome } from './support/run';

/** Writes `text` as the whole of a new file at `file`. */
function writeFile(io: IO, file: string, text: string): void {
  const fd = succeed(io, `create ${file}`, (callback) => io.open(file, 'w', undefined, callback));
  const bytes = Buffer.from(text);
  expect(succeed(io, 'write', (callback) => io.write(fd, bytes, 0, callback))).to.equal(bytes.byteLength);
  succeed(io, 'close', (callback) => io.close(fd, callback));
}

/** The whole of the file at `file` as text, read through `io`, or its open's error code. */
function readFile(io: IO, file: string): string {
  const opened = complete(io, `open ${file}`, (callback) => io.open(file, 'r', undefined, callback));
  if (opened.error !== null) return opened.error.code;
  const buffer = Buffer.alloc(4096);
  const n = succeed(io, 'read', (callback) => io.read(opened.result, buffer, 0, callback));
  succeed(io, 'close', (callback) => io.close(opened.result, callback));
  return buffer.subarray(0, n).toString();
}

function expectOnce(outcome: Outcome, what: string): void {
  expect(outcome.calls, `${what}: callbacks`).to.equal(1);
  expect(outcome.ranInsideSubmit, `${what}: ran inside its submitting call`).to.equal(false);
}

forEachBackend('file namespace', (scope) => {
  let root = '';
  let directory = '';
  beforeEach(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-names-'));
    directory = path.join(root, 'db');
    // Made through an IO, so that it exists on the simulated disk too.
    const io = scope.create();
    succeed(io, 'mkdir', (callback) => io.mkdir(directory, undefined, callback));
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('rename replaces the target: the new name reads the new bytes, the old name is gone', function () {
    const io = scope.create();
    const from = path.join(directory, 'manifest.tmp');
    const to = path.join(directory, 'manifest');
    writeFile(io, to, 'old');
    writeFile(io, from, 'new');
    const renamed = complete(io, 'rename', (callback) => io.rename(from, to, callback));
    expectOnce(renamed, 'rename');
    expect(renamed.error).to.equal(null);
    expect(renamed.result).to.equal(0);
    expect(readFile(io, to)).to.equal('new');
    expect(readFile(io, from)).to.equal('ENOENT');
  });

  it('rename with noReplace fails with EEXIST and leaves both files; without a target it renames', function () {
    const io = scope.create();
    const from = path.join(directory, 'a');
    const to = path.join(directory, 'b');
    writeFile(io, from, 'A');
    writeFile(io, to, 'B');
    const refused = complete(io, 'rename noReplace', (callback) => io.rename(from, to, { noReplace: true }, callback));
    expectOnce(refused, 'rename noReplace');
    if (refused.error?.code === 'ENOTSUP' || refused.error?.code === 'EINVAL') {
      // An OS or file system without an atomic no-replace rename says so; nothing moved.
      expect(readFile(io, from)).to.equal('A');
      this.skip();
    }
    expectIOError(refused.error, 'EEXIST', 'rename');
    expect(readFile(io, from)).to.equal('A');
    expect(readFile(io, to)).to.equal('B');
    const fresh = path.join(directory, 'c');
    expect(succeed(io, 'rename to a new name', (callback) => io.rename(from, fresh, { noReplace: true }, callback))).to.equal(0);
    expect(readFile(io, fresh)).to.equal('A');
  });

  it('errors come in the callback with the kernel codes: ENOENT, EEXIST, EISDIR, ENOTDIR, ENOTEMPTY', function () {
    const io = scope.create();
    const file = path.join(directory, 'file');
    const missing = path.join(directory, 'missing');
    const sub = path.join(directory, 'sub');
    const full = path.join(directory, 'full');
    writeFile(io, file, 'x');
    succeed(io, 'mkdir sub', (callback) => io.mkdir(sub, 0o755, callback));
    succeed(io, 'mkdir full', (callback) => io.mkdir(full, undefined, callback));
    writeFile(io, path.join(full, 'inside'), 'y');
    expectIOError(fail(io, 'rename missing', (callback) => io.rename(missing, file, callback)), 'ENOENT', 'rename');
    expectIOError(fail(io, 'unlink missing', (callback) => io.unlink(missing, callback)), 'ENOENT', 'unlink');
    expectIOError(fail(io, 'unlink a directory', (callback) => io.unlink(sub, callback)), 'EISDIR', 'unlink');
    expectIOError(fail(io, 'mkdir over a file', (callback) => io.mkdir(file, undefined, callback)), 'EEXIST', 'mkdir');
    expectIOError(fail(io, 'mkdir again', (callback) => io.mkdir(sub, undefined, callback)), 'EEXIST', 'mkdir');
    expectIOError(fail(io, 'openDirectory of a file', (callback) => io.openDirectory(file, callback)), 'ENOTDIR', 'openDirectory');
    expectIOError(fail(io, 'openDirectory missing', (callback) => io.openDirectory(missing, callback)), 'ENOENT', 'openDirectory');
    expectIOError(fail(io, 'rename a file over a directory', (callback) => io.rename(file, sub, callback)), 'EISDIR', 'rename');
    expectIOError(fail(io, 'rename a directory over a file', (callback) => io.rename(sub, file, callback)), 'ENOTDIR', 'rename');
    expectIOError(fail(io, 'rename over a full directory', (callback) => io.rename(sub, full, callback)), 'ENOTEMPTY', 'rename');
    expect(readFile(io, file), 'nothing moved').to.equal('x');
    expect(readFile(io, path.join(full, 'inside'))).to.equal('y');
  });

  it('rename across file systems fails with EXDEV', function () {
    // Needs a second file system: /dev/shm (tmpfs) where the test directory is elsewhere.
    if (scope.simulated || !fs.existsSync('/dev/shm') || fs.statSync('/dev/shm').dev === fs.statSync(root).dev) this.skip();
    const io = scope.create();
    const file = path.join(directory, 'local');
    writeFile(io, file, 'x');
    const away = path.join('/dev/shm', `tigerio-exdev-${process.pid}`);
    try {
      expectIOError(fail(io, 'rename to another file system', (callback) => io.rename(file, away, callback)), 'EXDEV', 'rename');
    } finally {
      fs.rmSync(away, { force: true });
    }
    expect(readFile(io, file)).to.equal('x');
  });

  it('unlink removes the name; an fd open on the file still reads it', function () {
    const io = scope.create();
    const file = path.join(directory, 'segment');
    writeFile(io, file, 'kept');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'r', undefined, callback));
    expect(succeed(io, 'unlink', (callback) => io.unlink(file, callback))).to.equal(0);
    // Windows without POSIX delete semantics (before 10 1903, and Wine)
    // keeps an open file's name until its last handle closes (README: where backends differ).
    if (scope.backend !== 'iocp') expect(readFile(io, file)).to.equal('ENOENT');
    const buffer = Buffer.alloc(16);
    const n = succeed(io, 'read the unlinked file', (callback) => io.read(fd, buffer, 0, callback));
    expect(buffer.subarray(0, n).toString()).to.equal('kept');
    succeed(io, 'close', (callback) => io.close(fd, callback));
    expect(readFile(io, file), 'the name is gone once no fd holds the file').to.equal('ENOENT');
  });

  it('openDirectory gives an fd that fsync accepts (result 0) and close closes', function () {
    const io = scope.create();
    writeFile(io, path.join(directory, 'entry'), 'z');
    const opened = complete(io, 'openDirectory', (callback) => io.openDirectory(directory, callback));
    expectOnce(opened, 'openDirectory');
    expect(opened.error).to.equal(null);
    const fd = opened.result;
    expect(fd).to.be.at.least(0);
    const synced = complete(io, 'fsync the directory', (callback) => io.fsync(fd, callback));
    expectOnce(synced, 'fsync');
    expect(synced.error).to.equal(null);
    expect(synced.result).to.equal(0);
    expect(succeed(io, 'close', (callback) => io.close(fd, callback))).to.equal(0);
    expectIOError(fail(io, 'fsync after close', (callback) => io.fsync(fd, callback)), 'EBADF', 'fsync');
  });

  it('mkdir makes a directory that takes files; rename moves it with what it holds', function () {
    const io = scope.create();
    const made = path.join(directory, 'level');
    expect(succeed(io, 'mkdir', (callback) => io.mkdir(made, 0o700, callback))).to.equal(0);
    writeFile(io, path.join(made, 'table'), 't');
    const moved = path.join(directory, 'level-renamed');
    expect(succeed(io, 'rename the directory', (callback) => io.rename(made, moved, callback))).to.equal(0);
    expect(readFile(io, path.join(moved, 'table'))).to.equal('t');
    expect(readFile(io, path.join(made, 'table'))).to.equal('ENOENT');
    if (!scope.simulated) expect(fs.statSync(moved).isDirectory(), 'node:fs sees a directory').to.equal(true);
  });

  it('rejects bad argument types with TypeError at the call, submitting nothing', function () {
    const io = scope.create();
    const noop = (): void => {};
    const bad = io as unknown as Record<string, (...args: unknown[]) => unknown>;
    expectThrows(() => bad.rename(1, 'b', noop), TypeError);
    expectThrows(() => bad.rename('a', null, noop), TypeError);
    expectThrows(() => bad.rename('a', 'b', { noReplace: 'yes' }, noop), TypeError);
    expectThrows(() => bad.rename('a', 'b', { bogus: true }, noop), TypeError);
    expectThrows(() => bad.rename('a', 'b', undefined, 'not a callback'), TypeError);
    expectThrows(() => bad.rename('a\0b', 'c', noop), TypeError);
    expectThrows(() => bad.unlink(undefined, noop), TypeError);
    expectThrows(() => bad.unlink('a', undefined), TypeError);
    expectThrows(() => bad.mkdir('a', '0o777', noop), TypeError);
    expectThrows(() => bad.mkdir('a', 0o10000, noop), RangeError);
    expectThrows(() => bad.openDirectory({}, noop), TypeError);
    expect(io.pending).to.equal(0);
  });

  it("keeps one file's operations in order through the pool: writes, fsync, fileSize, truncate", function () {
    const io = scope.create({ fileThreads: 4 });
    const file = path.join(directory, 'ordered');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', undefined, callback));
    const order: string[] = [];
    const results: number[] = [];
    const record = (name: string) => (error: IOError | null, result: number): void => {
      order.push(error === null ? name : `${name}:${error.code}`);
      results.push(result);
    };
    const chunk = Buffer.alloc(4096, 7);
    for (let i = 0; i < 16; i++) io.write(fd, chunk, i * 4096, record(`write${i}`));
    io.fdatasync(fd, record('fdatasync'));
    io.fileSize(fd, record('fileSize'));
    io.truncate(fd, 100, record('truncate'));
    io.fileSize(fd, record('fileSize2'));
    runUntil(io, () => order.length === 20, 'the fd operations');
    expect(order).to.deep.equal([...Array.from({ length: 16 }, (_, i) => `write${i}`), 'fdatasync', 'fileSize', 'truncate', 'fileSize2']);
    expect(results[17]).to.equal(16 * 4096);
    expect(results[19]).to.equal(100);
    succeed(io, 'close', (callback) => io.close(fd, callback));
  });

  it('close with file work pending: each operation once (its own result or ECANCELED), the close last', function () {
    const io = scope.create({ fileThreads: 2 });
    const fd = succeed(io, 'open', (callback) => io.open(path.join(directory, 'closing'), 'w', undefined, callback));
    const order: string[] = [];
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 8; i++) {
      const outcome = submit((callback) => io.write(fd, Buffer.alloc(4096, i), i * 4096, (error, result) => {
        order.push(`write${i}`);
        callback(error, result);
      }));
      outcomes.push(outcome);
    }
    const sync = submit((callback) => io.fsync(fd, (error, result) => {
      order.push('fsync');
      callback(error, result);
    }));
    const close = submit((callback) => io.close(fd, (error, result) => {
      order.push('close');
      callback(error, result);
    }));
    runUntil(io, () => close.done, 'the close');
    expect(order[order.length - 1], 'the close comes last').to.equal('close');
    expect(close.error).to.equal(null);
    for (const [i, outcome] of [...outcomes, sync].entries()) {
      expectOnce(outcome, `op ${i}`);
      if (outcome.error !== null) expectIOError(outcome.error, 'ECANCELED', i < 8 ? 'write' : 'fsync');
    }
  });

  it('cancel of a file operation: exactly one callback, its own result or ECANCELED', function () {
    const io = scope.create({ fileThreads: 1 });
    const fd = succeed(io, 'open', (callback) => io.open(path.join(directory, 'cancel'), 'w', undefined, callback));
    const writes = Array.from({ length: 6 }, (_, i) => submit((callback) => io.write(fd, Buffer.alloc(512, i), i * 512, callback)));
    const renames = Array.from({ length: 4 }, (_, i) =>
      submit((callback) => io.mkdir(path.join(directory, `cancelled-${i}`), undefined, callback)));
    io.tick(); // in the native layer now: the mkdirs queue for the one pool thread
    for (const outcome of [...writes, ...renames]) io.cancel(outcome.id);
    runUntil(io, () => io.pending === 0, 'the cancelled operations');
    for (const [i, outcome] of [...writes, ...renames].entries()) {
      expectOnce(outcome, `op ${i}`);
      if (outcome.error !== null) expectIOError(outcome.error, 'ECANCELED', i < 6 ? 'write' : 'mkdir');
    }
    succeed(io, 'close', (callback) => io.close(fd, callback));
  });

  it('deinit with file work in flight completes every operation exactly once', function () {
    const io = new IO(scope.simulated ? { backend: 'simulation' } : { backend: scope.backend, fileThreads: 3 });
    const outcomes: Outcome[] = [];
    const base = scope.simulated ? '/deinit' : directory;
    if (scope.simulated) succeed(io, 'mkdir', (callback) => io.mkdir(base, undefined, callback));
    const fds: number[] = [];
    for (let i = 0; i < 4; i++) {
      fds.push(succeed(io, 'open', (callback) => io.open(path.join(base, `f${i}`), 'w', undefined, callback)));
    }
    for (const fd of fds) {
      for (let j = 0; j < 4; j++) outcomes.push(submit((callback) => io.write(fd, Buffer.alloc(4096, j), j * 4096, callback)));
      outcomes.push(submit((callback) => io.fdatasync(fd, callback)));
    }
    for (let i = 0; i < 4; i++) outcomes.push(submit((callback) => io.mkdir(path.join(base, `d${i}`), undefined, callback)));
    io.tick();
    io.deinit();
    for (const [i, outcome] of outcomes.entries()) {
      expectOnce(outcome, `op ${i}`);
      if (outcome.error !== null) expect(outcome.error.code, `op ${i}`).to.equal('ECANCELED');
    }
  });

  it('deinit joins the file threads: the process has as many threads as before the IO', function () {
    // The pool is epoll's and kqueue's (and IOCP's); io_uring's kernel
    // workers come and go on their own, and only Linux lists threads in /proc.
    if (scope.backend !== 'epoll' && scope.backend !== 'kqueue') this.skip();
    if (!fs.existsSync('/proc/self/status')) this.skip();
    const threads = (): number => Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);
    const before = threads();
    const io = new IO({ backend: scope.backend, fileThreads: 4 });
    const fds = Array.from({ length: 4 }, (_, i) =>
      succeed(io, 'open', (callback) => io.open(path.join(directory, `t${i}`), 'w', undefined, callback)));
    const outcomes = fds.map((fd) => submit((callback) => io.fdatasync(fd, callback)));
    runUntil(io, () => outcomes.every((outcome) => outcome.done), 'the fdatasyncs');
    expect(threads(), 'pool threads while the IO lives').to.be.greaterThan(before);
    io.deinit();
    expect(threads(), 'threads after deinit').to.equal(before);
  });
});
