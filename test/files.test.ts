// Files: open/write/read/close through the IO, positioned and at the
// current position, with content checks against node:fs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { expectIOError } from './support/assertions';
import { forEachBackend } from './support/backends';
import { complete, fail, succeed } from './support/run';
import type { IO } from '../io';

forEachBackend('files', (scope) => {
  // The file system the IO sees: the OS's (checked with node:fs), or on
  // 'simulation' its world's disk (checked through the IO itself).
  const writeFile = (io: IO, file: string, text: string): void => {
    if (!scope.simulated) return fs.writeFileSync(file, text);
    const fd = succeed(io, 'open to prepare', (callback) => io.open(file, 'w', undefined, callback));
    succeed(io, 'write to prepare', (callback) => io.write(fd, Buffer.from(text), 0, callback));
    succeed(io, 'close to prepare', (callback) => io.close(fd, callback));
  };
  const readFile = (io: IO, file: string): Buffer => {
    if (!scope.simulated) return fs.readFileSync(file);
    const fd = succeed(io, 'open to check', (callback) => io.open(file, 'r', undefined, callback));
    const chunks: Buffer[] = [];
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const bytes = succeed(io, 'read to check', (callback) => io.read(fd, chunk, null, callback));
      if (bytes === 0) break;
      chunks.push(chunk.subarray(0, bytes));
    }
    succeed(io, 'close after the check', (callback) => io.close(fd, callback));
    return Buffer.concat(chunks);
  };
  let directory = '';
  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-files-'));
  });
  afterEach(() => {
    fs.rmSync(directory, { recursive: true, force: true });
  });

  it("opens with 'w+', writes, reads back at a position, and closes", function () {
    const io = scope.create();
    const file = path.join(directory, 'data.bin');
    const data = randomBytes(64 * 1024 + 123);
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', 0o644, callback));
    expect(fd).to.be.a('number').and.at.least(0);
    let written = 0;
    while (written < data.byteLength) {
      written += succeed(io, 'write', (callback) => io.write(fd, data.subarray(written), written, callback));
    }
    const back = Buffer.alloc(data.byteLength);
    let read = 0;
    while (read < back.byteLength) {
      const bytes = succeed(io, 'read', (callback) => io.read(fd, back.subarray(read), read, callback));
      expect(bytes, 'read before end of file').to.be.greaterThan(0);
      read += bytes;
    }
    expect(back.equals(data), 'read back what was written').to.equal(true);
    // A positioned read in the middle.
    const middle = Buffer.alloc(100);
    expect(succeed(io, 'read at 1000', (callback) => io.read(fd, middle, 1000, callback))).to.equal(100);
    expect(middle.equals(data.subarray(1000, 1100))).to.equal(true);
    // At end of file a read reports 0.
    expect(succeed(io, 'read at the end', (callback) => io.read(fd, Buffer.alloc(8), data.byteLength, callback))).to.equal(0);
    expect(succeed(io, 'close', (callback) => io.close(fd, callback))).to.equal(0);
    expect(readFile(io, file).equals(data), 'node:fs sees the same bytes').to.equal(true);
  });

  it('reads and writes at the current position when position is null', function () {
    const io = scope.create();
    const file = path.join(directory, 'sequential.txt');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', undefined, callback));
    expect(succeed(io, 'write hello', (callback) => io.write(fd, Buffer.from('hello '), null, callback))).to.equal(6);
    expect(succeed(io, 'write world', (callback) => io.write(fd, Buffer.from('world'), null, callback))).to.equal(5);
    succeed(io, 'close', (callback) => io.close(fd, callback));
    expect(readFile(io, file).toString('utf8')).to.equal('hello world');

    const reader = succeed(io, "open 'r'", (callback) => io.open(file, 'r', undefined, callback));
    const first = Buffer.alloc(6);
    const second = Buffer.alloc(16);
    expect(succeed(io, 'read 1', (callback) => io.read(reader, first, null, callback))).to.equal(6);
    expect(first.toString()).to.equal('hello ');
    const bytes = succeed(io, 'read 2', (callback) => io.read(reader, second, null, callback));
    expect(second.subarray(0, bytes).toString()).to.equal('world');
    expect(succeed(io, 'read 3', (callback) => io.read(reader, second, null, callback))).to.equal(0);
    succeed(io, 'close reader', (callback) => io.close(reader, callback));
  });

  it("appends with 'a' whatever the position", function () {
    const io = scope.create();
    const file = path.join(directory, 'log.txt');
    writeFile(io, file, 'first;');
    const fd = succeed(io, "open 'a'", (callback) => io.open(file, 'a', undefined, callback));
    succeed(io, 'append', (callback) => io.write(fd, Buffer.from('second;'), null, callback));
    succeed(io, 'close', (callback) => io.close(fd, callback));
    expect(readFile(io, file).toString('utf8')).to.equal('first;second;');
  });

  it('creates the file with the given mode', function () {
    if (process.platform === 'win32') this.skip(); // Windows has no POSIX permission bits
    if (scope.simulated) this.skip(); // permission bits are the OS's: the simulated disk keeps no mode
    const io = scope.create();
    const file = path.join(directory, 'private.txt');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w', 0o600, callback));
    succeed(io, 'close', (callback) => io.close(fd, callback));
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600 & ~process.umask());
  });

  it('fails open of a missing file with IOError ENOENT', function () {
    const io = scope.create();
    const error = fail(io, 'open of a missing file', (callback) =>
      io.open(path.join(directory, 'does-not-exist'), 'r', undefined, callback),
    );
    expectIOError(error, 'ENOENT', 'open');
  });

  it("fails open with 'wx' of an existing file with IOError EEXIST", function () {
    const io = scope.create();
    const file = path.join(directory, 'exists.txt');
    writeFile(io, file, 'x');
    const error = fail(io, "open 'wx'", (callback) => io.open(file, 'wx', undefined, callback));
    expectIOError(error, 'EEXIST', 'open');
  });

  it("fails write to a file opened 'r' with IOError EBADF", function () {
    const io = scope.create();
    const file = path.join(directory, 'read-only.txt');
    writeFile(io, file, 'x');
    const fd = succeed(io, "open 'r'", (callback) => io.open(file, 'r', undefined, callback));
    const error = fail(io, 'write to a read-only fd', (callback) => io.write(fd, Buffer.from('y'), 0, callback));
    expectIOError(error, 'EBADF', 'write');
    succeed(io, 'close', (callback) => io.close(fd, callback));
  });

  it('writes and reads at a position beyond 4 GiB (64-bit offsets)', function () {
    const io = scope.create();
    const file = path.join(directory, 'sparse.bin');
    const position = 2 ** 32 + 12_345;
    const data = Buffer.from('beyond four gibibytes');
    const fd = succeed(io, 'open', (callback) => io.open(file, 'w+', undefined, callback));
    const written = complete(io, 'write at 4 GiB + 12345', (callback) => io.write(fd, data, position, callback));
    if (written.error !== null && written.error.code === 'EFBIG') this.skip(); // the file system has no room for such offsets
    expect(written.error).to.equal(null);
    expect(written.result).to.equal(data.byteLength);
    const back = Buffer.alloc(data.byteLength);
    expect(succeed(io, 'read at 4 GiB + 12345', (callback) => io.read(fd, back, position, callback))).to.equal(data.byteLength);
    expect(back).to.deep.equal(data);
    if (!scope.simulated) expect(fs.statSync(file).size).to.equal(position + data.byteLength);
    // The end of file is right after the data.
    expect(succeed(io, 'read at the end', (callback) => io.read(fd, back, position + data.byteLength, callback))).to.equal(0);
    // The low 32 bits alone would be position 12345: nothing was written there.
    const low = Buffer.alloc(data.byteLength, 0xff);
    succeed(io, 'read at 12345', (callback) => io.read(fd, low, 12_345, callback));
    expect(low.equals(Buffer.alloc(data.byteLength)), 'zeros at the truncated offset').to.equal(true);
    succeed(io, 'close', (callback) => io.close(fd, callback));
  });
});
