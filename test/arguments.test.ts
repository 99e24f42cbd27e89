// Contract rule 7: bad input is a TypeError (wrong type) or RangeError
// (out of range) thrown at the call, nothing is submitted, and the IO stays
// usable. Every method and the constructor.
import { expect } from 'chai';
import { IO } from '../io';
import { expectThrows } from './support/assertions';
import { forEachBackend } from './support/backends';
import { runUntil, submit } from './support/run';

type Loose = Record<string, (...args: unknown[]) => unknown>;
type BadCall = [title: string, call: (io: Loose) => unknown, type: typeof TypeError | typeof RangeError];

const ok = (): void => {};
const buffer = (): Buffer => Buffer.alloc(8);

function detachedBuffer(): Uint8Array {
  const arrayBuffer = new ArrayBuffer(8);
  const view = new Uint8Array(arrayBuffer);
  structuredClone(arrayBuffer, { transfer: [arrayBuffer] });
  return view;
}

/** Bad calls of every method; fd 0 stands for a valid fd (nothing reaches the kernel). */
const badCalls: BadCall[] = [
  // listen
  ['listen: host not a string', (io) => io.listen(127001, 0), TypeError],
  ['listen: host not an IP literal', (io) => io.listen('localhost', 0), TypeError],
  ['listen: port not a number', (io) => io.listen('127.0.0.1', '80'), TypeError],
  ['listen: port negative', (io) => io.listen('127.0.0.1', -1), RangeError],
  ['listen: port above 65535', (io) => io.listen('127.0.0.1', 65536), RangeError],
  ['listen: port not an integer', (io) => io.listen('127.0.0.1', 80.5), RangeError],
  ['listen: options not an object', (io) => io.listen('127.0.0.1', 0, 5), TypeError],
  ['listen: backlog 0', (io) => io.listen('127.0.0.1', 0, { backlog: 0 }), RangeError],
  ['listen: backlog not a number', (io) => io.listen('127.0.0.1', 0, { backlog: '1' }), TypeError],
  ['listen: reusePort not a boolean', (io) => io.listen('127.0.0.1', 0, { reusePort: 'yes' }), TypeError],
  // socket
  ['socket: unknown family', (io) => io.socket('tcp'), TypeError],
  ['socket: no family', (io) => io.socket(), TypeError],
  // localAddress / remoteAddress
  ['localAddress: negative fd', (io) => io.localAddress(-1), RangeError],
  ['localAddress: fd not a number', (io) => io.localAddress('3'), TypeError],
  ['remoteAddress: negative fd', (io) => io.remoteAddress(-1), RangeError],
  ['remoteAddress: fd not an integer', (io) => io.remoteAddress(1.5), RangeError],
  // accept
  ['accept: negative fd', (io) => io.accept(-1, ok), RangeError],
  ['accept: fd not a number', (io) => io.accept('0', ok), TypeError],
  ['accept: fd above int32', (io) => io.accept(2 ** 31, ok), RangeError],
  ['accept: callback missing', (io) => io.accept(0), TypeError],
  ['accept: callback not a function', (io) => io.accept(0, 'callback'), TypeError],
  // connect
  ['connect: negative fd', (io) => io.connect(-1, '127.0.0.1', 80, ok), RangeError],
  ['connect: host not an IP literal', (io) => io.connect(0, 'localhost', 80, ok), TypeError],
  ['connect: host not a string', (io) => io.connect(0, null, 80, ok), TypeError],
  ['connect: port 0', (io) => io.connect(0, '127.0.0.1', 0, ok), RangeError],
  ['connect: port above 65535', (io) => io.connect(0, '127.0.0.1', 70000, ok), RangeError],
  ['connect: port not a number', (io) => io.connect(0, '127.0.0.1', '80', ok), TypeError],
  ['connect: callback not a function', (io) => io.connect(0, '127.0.0.1', 80, {}), TypeError],
  // recv
  ['recv: negative fd', (io) => io.recv(-1, buffer(), ok), RangeError],
  ['recv: fd NaN', (io) => io.recv(NaN, buffer(), ok), RangeError],
  ['recv: buffer not a view', (io) => io.recv(0, 'text', ok), TypeError],
  ['recv: buffer an ArrayBuffer', (io) => io.recv(0, new ArrayBuffer(8), ok), TypeError],
  ['recv: buffer null', (io) => io.recv(0, null, ok), TypeError],
  ['recv: empty buffer', (io) => io.recv(0, Buffer.alloc(0), ok), RangeError],
  ['recv: detached buffer', (io) => io.recv(0, detachedBuffer(), ok), RangeError],
  ['recv: callback not a function', (io) => io.recv(0, buffer(), null), TypeError],
  // send
  ['send: negative fd', (io) => io.send(-1, buffer(), ok), RangeError],
  ['send: buffer not a view', (io) => io.send(0, [1, 2, 3], ok), TypeError],
  ['send: empty buffer', (io) => io.send(0, new Uint8Array(0), ok), RangeError],
  ['send: detached buffer', (io) => io.send(0, detachedBuffer(), ok), RangeError],
  ['send: callback not a function', (io) => io.send(0, buffer(), 1), TypeError],
  // timeout
  ['timeout: negative', (io) => io.timeout(-1, ok), RangeError],
  ['timeout: not an integer', (io) => io.timeout(1.5, ok), RangeError],
  ['timeout: NaN', (io) => io.timeout(NaN, ok), RangeError],
  ['timeout: Infinity', (io) => io.timeout(Infinity, ok), RangeError],
  ['timeout: above 2^53 - 1', (io) => io.timeout(2 ** 53, ok), RangeError],
  ['timeout: a string', (io) => io.timeout('5', ok), TypeError],
  ['timeout: a bigint', (io) => io.timeout(5n, ok), TypeError],
  ['timeout: callback missing', (io) => io.timeout(0), TypeError],
  // close
  ['close: negative fd', (io) => io.close(-1, ok), RangeError],
  ['close: fd not a number', (io) => io.close(undefined, ok), TypeError],
  ['close: callback not a function', (io) => io.close(0, undefined), TypeError],
  // open
  ['open: path not a string', (io) => io.open(5, 'r', undefined, ok), TypeError],
  ['open: path with a NUL byte', (io) => io.open('/tmp/a\0b', 'r', undefined, ok), TypeError],
  ['open: unknown flags', (io) => io.open('/tmp/x', 'rw', undefined, ok), TypeError],
  ['open: flags a number', (io) => io.open('/tmp/x', 0, undefined, ok), TypeError],
  ['open: flags inherited from Object.prototype', (io) => io.open('/tmp/x', 'toString', undefined, ok), TypeError],
  ['open: mode negative', (io) => io.open('/tmp/x', 'r', -1, ok), RangeError],
  ['open: mode above 0o7777', (io) => io.open('/tmp/x', 'r', 0o10000, ok), RangeError],
  ['open: mode a string', (io) => io.open('/tmp/x', 'r', '644', ok), TypeError],
  ['open: callback not a function', (io) => io.open('/tmp/x', 'r', undefined, 'cb'), TypeError],
  ['open: options null', (io) => io.open('/tmp/x', 'r', null, ok), TypeError],
  ['open: options an array', (io) => io.open('/tmp/x', 'r', [0o644], ok), TypeError],
  ['open: options.direct not a boolean', (io) => io.open('/tmp/x', 'r', { direct: 1 }, ok), TypeError],
  ['open: options.mode negative', (io) => io.open('/tmp/x', 'r', { mode: -1 }, ok), RangeError],
  ['open: options.mode a string', (io) => io.open('/tmp/x', 'r', { mode: '644' }, ok), TypeError],
  ['open: unknown option (a misspelt direct)', (io) => io.open('/tmp/x', 'r', { drect: true }, ok), TypeError],
  // fsync, fdatasync, fileSize
  ['fsync: negative fd', (io) => io.fsync(-1, ok), RangeError],
  ['fsync: fd not a number', (io) => io.fsync('0', ok), TypeError],
  ['fsync: callback not a function', (io) => io.fsync(0, null), TypeError],
  ['fdatasync: fd not an integer', (io) => io.fdatasync(0.5, ok), RangeError],
  ['fdatasync: callback missing', (io) => io.fdatasync(0), TypeError],
  ['fileSize: fd above int32', (io) => io.fileSize(2 ** 31, ok), RangeError],
  ['fileSize: callback not a function', (io) => io.fileSize(0, 'cb'), TypeError],
  // truncate
  ['truncate: negative length', (io) => io.truncate(0, -1, ok), RangeError],
  ['truncate: length above 2^53 - 1', (io) => io.truncate(0, 2 ** 53, ok), RangeError],
  ['truncate: length not an integer', (io) => io.truncate(0, 1.5, ok), RangeError],
  ['truncate: length a string', (io) => io.truncate(0, '10', ok), TypeError],
  ['truncate: length a bigint', (io) => io.truncate(0, 10n, ok), TypeError],
  ['truncate: callback not a function', (io) => io.truncate(0, 0, undefined), TypeError],
  // allocate
  ['allocate: negative offset', (io) => io.allocate(0, -1, 10, ok), RangeError],
  ['allocate: length 0', (io) => io.allocate(0, 0, 0, ok), RangeError],
  ['allocate: offset above 2^53 - 1', (io) => io.allocate(0, 2 ** 53, 1, ok), RangeError],
  ['allocate: offset + length above 2^53 - 1', (io) => io.allocate(0, 2 ** 52, 2 ** 52, ok), RangeError],
  ['allocate: length a string', (io) => io.allocate(0, 0, '4096', ok), TypeError],
  ['allocate: callback not a function', (io) => io.allocate(0, 0, 1, 1), TypeError],
  // alignedBuffer
  ['alignedBuffer: size 0', (io) => io.alignedBuffer(0), RangeError],
  ['alignedBuffer: size not a multiple of the alignment', (io) => io.alignedBuffer(IO.directAlignment + 1), RangeError],
  ['alignedBuffer: size above the buffer limit', (io) => io.alignedBuffer(IO.limits.bufferSizeMaxLimit + IO.directAlignment), RangeError],
  ['alignedBuffer: size a string', (io) => io.alignedBuffer('4096'), TypeError],
  // read
  ['read: negative fd', (io) => io.read(-1, buffer(), 0, ok), RangeError],
  ['read: empty buffer', (io) => io.read(0, Buffer.alloc(0), 0, ok), RangeError],
  ['read: buffer not a view', (io) => io.read(0, {}, 0, ok), TypeError],
  ['read: negative position', (io) => io.read(0, buffer(), -1, ok), RangeError],
  ['read: position not an integer', (io) => io.read(0, buffer(), 0.5, ok), RangeError],
  ['read: position a string', (io) => io.read(0, buffer(), '0', ok), TypeError],
  ['read: position undefined', (io) => io.read(0, buffer(), undefined, ok), TypeError],
  ['read: callback not a function', (io) => io.read(0, buffer(), 0, null), TypeError],
  // write
  ['write: negative fd', (io) => io.write(-1, buffer(), 0, ok), RangeError],
  ['write: empty buffer', (io) => io.write(0, Buffer.alloc(0), 0, ok), RangeError],
  ['write: negative position', (io) => io.write(0, buffer(), -5, ok), RangeError],
  ['write: position above 2^53 - 1', (io) => io.write(0, buffer(), 2 ** 53, ok), RangeError],
  ['write: position a string', (io) => io.write(0, buffer(), '0', ok), TypeError],
  ['write: callback not a function', (io) => io.write(0, buffer(), 0, 0), TypeError],
  // cancel
  ['cancel: negative id', (io) => io.cancel(-1), RangeError],
  ['cancel: id not a number', (io) => io.cancel('1'), TypeError],
  ['cancel: id not an integer', (io) => io.cancel(0.5), RangeError],
  // events
  ['eventListen: handle 0', (io) => io.eventListen(0, ok), RangeError],
  ['eventListen: handle not a number', (io) => io.eventListen('1', ok), TypeError],
  ['eventListen: callback not a function', (io) => io.eventListen(1, null), TypeError],
  ['eventClose: handle 0', (io) => io.eventClose(0), RangeError],
  ['eventClose: handle above 2^32 - 1', (io) => io.eventClose(2 ** 32), RangeError],
  ['eventClose: handle not a number', (io) => io.eventClose({}), TypeError],
  // driving
  ['runForNs: negative', (io) => io.runForNs(-1), RangeError],
  ['runForNs: a string', (io) => io.runForNs('1'), TypeError],
  ['runForNs: not an integer', (io) => io.runForNs(0.5), RangeError],
];

const badConstructions: [title: string, options: unknown, type: typeof TypeError | typeof RangeError][] = [
  ['options not an object', 5, TypeError],
  ['options null', null, TypeError],
  ['backend unknown', { backend: 'no-such-backend' }, RangeError],
  ['backend not a string', { backend: 1 }, TypeError],
  ['entries 0', { entries: 0 }, RangeError],
  ['entries above 4096', { entries: 4097 }, RangeError],
  ['entries not an integer', { entries: 1.5 }, RangeError],
  ['entries a string', { entries: '8' }, TypeError],
  ['operationsMax 0', { operationsMax: 0 }, RangeError],
  ['operationsMax above 1048576', { operationsMax: 1048577 }, RangeError],
  ['operationsMax a string', { operationsMax: '8' }, TypeError],
  ['bufferSizeMax 0', { bufferSizeMax: 0 }, RangeError],
  ['bufferSizeMax above 0x7ffff000', { bufferSizeMax: 0x7ffff001 }, RangeError],
  ['bufferSizeMax negative', { bufferSizeMax: -1 }, RangeError],
];

forEachBackend('argument checks', (scope) => {
  for (const [title, options, type] of badConstructions) {
    it(`new IO(): ${title} throws ${type.name}`, function () {
      const merged = typeof options === 'object' && options !== null ? { backend: scope.backend, ...options } : options;
      expectThrows(() => new IO(merged as never), type);
    });
  }

  it('new IO() accepts the limits at both ends of their ranges', function () {
    for (const options of [
      { entries: 1, operationsMax: 1, bufferSizeMax: 1 },
      { entries: 4096, bufferSizeMax: 0x7ffff000 },
    ]) {
      const io = scope.create(options);
      expect(io.backend).to.equal(scope.backend);
    }
  });

  for (const [title, call, type] of badCalls) {
    it(`${title} throws ${type.name}, submits nothing`, function () {
      const io = scope.create();
      expectThrows(() => call(io as unknown as Loose), type);
      expect(io.pending).to.equal(0);
    });
  }

  it('IO.eventTrigger: bad handles throw', function () {
    const trigger = IO.eventTrigger as (handle: unknown) => boolean;
    expectThrows(() => trigger(0), RangeError);
    expectThrows(() => trigger(-1), RangeError);
    expectThrows(() => trigger(2 ** 32), RangeError);
    expectThrows(() => trigger('1'), TypeError);
  });

  it('keeps the IO usable after every bad call', function () {
    const io = scope.create();
    for (const [, call] of badCalls) {
      try {
        call(io as unknown as Loose);
      } catch {
        // expected
      }
    }
    expect(io.pending).to.equal(0);
    const timeout = submit((callback) => io.timeout(0, callback));
    runUntil(io, () => timeout.done, 'a timeout after the bad calls');
    expect(timeout.error).to.equal(null);
  });
});
