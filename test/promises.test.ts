// The promise layer: io.promises.* resolve with the callback's result and
// reject with its IOError (or with the argument error).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { IOError, type IO } from '../io';
import { expectIOError } from './support/assertions';
import { forEachBackend } from './support/backends';

/** Lets every queued promise reaction run. */
function yieldToMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Drives `io` (not attached) until `promise` settles; returns its outcome. */
async function settle<T>(io: IO, promise: Promise<T>, what: string): Promise<{ value?: T; error?: unknown }> {
  let settled: { value?: T; error?: unknown } | null = null;
  promise.then(
    (value) => (settled = { value }),
    (error: unknown) => (settled = { error }),
  );
  // Promise reactions are microtasks: yield between steps so that they run.
  for (let step = 0; step < 5_000 && settled === null; step++) {
    io.runForNs(1_000_000);
    await yieldToMicrotasks();
  }
  if (settled === null) throw new Error(`settle: ${what} did not settle`);
  return settled;
}

forEachBackend('promises', (scope) => {
  it('resolves with the result', async function () {
    const io = scope.create();
    expect(await settle(io, io.promises.timeout(0), 'timeout')).to.deep.equal({ value: 0 });
  });

  it('rejects with an IOError from the callback', async function () {
    const io = scope.create();
    const fd = fs.openSync(os.devNull, 'r');
    fs.closeSync(fd);
    const { error } = await settle(io, io.promises.recv(fd, Buffer.alloc(8)), 'recv on a closed fd');
    expect(error).to.be.instanceOf(IOError);
    expectIOError(error, 'EBADF', 'recv');
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-promises-'));
    try {
      const opened = await settle(io, io.promises.open(path.join(directory, 'missing'), 'r'), 'open');
      expectIOError(opened.error, 'ENOENT', 'open');
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('rejects (does not throw) on bad arguments', async function () {
    const io = scope.create();
    let promise: Promise<number> | null = null;
    expect(() => (promise = io.promises.timeout(-1))).to.not.throw();
    const { error } = await settle(io, promise!, 'timeout(-1)');
    expect(error).to.be.instanceOf(RangeError);
  });

  it('rejects a cancelled operation with IOError ECANCELED when the IO is deinitialized', async function () {
    const io = scope.create();
    const pending = io.promises.timeout(3600e9);
    io.deinit();
    const error = await pending.then(
      () => null,
      (rejection: unknown) => rejection,
    );
    expectIOError(error, 'ECANCELED', 'timeout');
  });

  it('sendAll moves a buffer larger than one send', async function () {
    const io = scope.create();
    const listener = io.listen('127.0.0.1', 0);
    const client = io.socket('ipv4');
    const accepted = io.promises.accept(listener);
    const connected = io.promises.connect(client, '127.0.0.1', io.localAddress(listener).port);
    const server = (await settle(io, accepted, 'accept')).value!;
    await settle(io, connected, 'connect');
    const data = Buffer.alloc(4 << 20, 7);
    const sending = io.promises.sendAll(client, data);
    let received = 0;
    let sent: { value?: number; error?: unknown } | null = null;
    void sending.then(
      (value) => (sent = { value }),
      (error: unknown) => (sent = { error }),
    );
    const buffer = Buffer.alloc(1 << 16);
    const receiveOne = (): void => {
      io.recv(server, buffer, (error, n) => {
        if (error === null && n > 0) {
          received += n;
          receiveOne();
        }
      });
    };
    receiveOne();
    for (let step = 0; step < 10_000 && (sent === null || received < data.byteLength); step++) {
      io.runForNs(1_000_000);
      await yieldToMicrotasks();
    }
    expect(sent).to.deep.equal({ value: data.byteLength });
    expect(received).to.equal(data.byteLength);
  });
});
