// Unix domain stream sockets (issue 14): listenUnix, socket('unix'),
// connectUnix, then accept/recv/send/close as for TCP; a stale path, a
// path too long, the abstract namespace, cleanup of the path on close,
// sendFile over one.
//
// Every backend whose OS has AF_UNIX runs the suite: epoll, io_uring and
// kqueue always, iocp on Windows 10 1803 and later (the GitHub Actions
// Windows job), and the simulation in its world (paths in the world's file
// namespace, reached through the scope: scope.exists, scope.writeFile, ...).
// Where the OS has none (Wine 8.0: no AF_UNIX provider), the suite skips
// saying why, and the last suite checks the clear error there instead
// (support/unix.ts probes).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { IO } from '../io';
import { expectIOError, expectThrows } from './support/assertions';
import { forEachBackend } from './support/backends';
import { complete, runUntil, submit, succeed } from './support/run';
import { exchange, recvExactly } from './support/sockets';
import { NO_AF_UNIX_REASON, unixSupport } from './support/unix';

let counter = 0;
function socketPath(): string {
  return path.join(os.tmpdir(), `tigerio-unix-${process.pid}-${counter++}.sock`);
}

function unixPair(io: IO, at: string): { listener: number; client: number; server: number } {
  const listener = io.listenUnix(at);
  const client = io.socket('unix');
  let server = -1;
  io.accept(listener, (error, fd) => {
    expect(error).to.equal(null);
    server = fd;
  });
  succeed(io, 'connectUnix', (cb) => io.connectUnix(client, at, cb));
  runUntil(io, () => server >= 0, 'accept');
  return { listener, client, server };
}

forEachBackend('unix sockets', (scope) => {
  beforeEach(function () {
    const support = unixSupport(scope.backend);
    if (support.supported) return;
    // The reason goes into the pending test's title, where the report shows it.
    this.currentTest!.title += ` (skipped: ${support.reason})`;
    this.skip(); // the clear error there is checked by the last suite
  });

  it('echoes both ways over a Unix socket, 1 MiB through partial sends', function () {
    const io = scope.create();
    const at = socketPath();
    const { listener, client, server } = unixPair(io, at);
    expect(exchange(io, client, server, Buffer.from('hello over unix'))).to.deep.equal(Buffer.from('hello over unix'));
    // The address helpers report IP addresses only.
    expectIOError(expectThrows(() => io.localAddress(client), Error), 'EAFNOSUPPORT', 'getsockname');
    const big = Buffer.alloc(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 255;
    expect(exchange(io, server, client, big).equals(big)).to.equal(true);
    // The peer's close reads as 0, as over TCP.
    succeed(io, 'close', (cb) => io.close(server, cb));
    expect(succeed(io, 'recv after the peer closed', (cb) => io.recv(client, Buffer.alloc(8), cb))).to.equal(0);
    succeed(io, 'close', (cb) => io.close(client, cb));
    succeed(io, 'close', (cb) => io.close(listener, cb));
  });

  it('fails listenUnix on a stale path with EADDRINUSE, and leaves the file alone', function () {
    const io = scope.create();
    const at = socketPath();
    scope.writeFile(io, at, Buffer.from('a stale socket file'));
    try {
      expectIOError(expectThrows(() => io.listenUnix(at), Error), 'EADDRINUSE', 'listen');
      expect(scope.readFile(io, at).toString('utf8')).to.equal('a stale socket file');
    } finally {
      scope.unlink(at);
    }
    const listener = io.listenUnix(at); // once the caller removed it
    succeed(io, 'close', (cb) => io.close(listener, cb));
  });

  it('removes the path when the listener is closed, and on deinit', function () {
    const io = scope.create();
    const at = socketPath();
    const listener = io.listenUnix(at);
    expect(scope.exists(at)).to.equal(true);
    succeed(io, 'close', (cb) => io.close(listener, cb));
    expect(scope.exists(at)).to.equal(false);

    const other = scope.create();
    const second = socketPath();
    other.listenUnix(second);
    expect(scope.exists(second)).to.equal(true);
    other.deinit();
    expect(scope.exists(second)).to.equal(false);
  });

  it('checks the path length at the call: unixPathMax bytes fit, one more is a RangeError', function () {
    const io = scope.create();
    const max = IO.limits.unixPathMax;
    expect(max).to.equal(process.platform === 'darwin' ? 103 : 107);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 't'));
    const longest = path.join(dir, 'x'.repeat(max - Buffer.byteLength(dir) - 1));
    expect(Buffer.byteLength(longest)).to.equal(max);
    try {
      expectThrows(() => io.listenUnix(longest + 'y'), RangeError);
      expectThrows(() => io.connectUnix(io.socket('unix'), longest + 'y', () => {}), RangeError);
      expectThrows(() => io.listenUnix(''), RangeError);
      expectThrows(() => io.listenUnix('a\0b'), TypeError);
      const listener = io.listenUnix(longest);
      const client = io.socket('unix');
      succeed(io, 'connectUnix at the longest path', (cb) => io.connectUnix(client, longest, cb));
      succeed(io, 'close', (cb) => io.close(listener, cb));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(io.pending).to.equal(0);
  });

  it('fails connectUnix to a missing path with ENOENT and to a path nobody listens on with ECONNREFUSED', function () {
    const io = scope.create();
    const missing = complete(io, 'connectUnix', (cb) => io.connectUnix(io.socket('unix'), socketPath(), cb));
    expectIOError(missing.error, 'ENOENT', 'connectUnix');
    const at = socketPath();
    // A socket file with nobody listening behind it: the listener's fd is
    // closed behind the IO's back, so the IO does not remove its path. On
    // Windows a node:fs close cannot reach a SOCKET: another IO makes the
    // listener there, and its deinit closes it; the path is taken out of
    // that IO's list first (a private field, test only) so that it stays.
    // (A simulated world's fds are its own on every OS: scope.closeBehindBack.)
    if (process.platform === 'win32' && !scope.simulated) {
      const other = scope.create();
      const dead = other.listenUnix(at);
      (other as unknown as { unixPaths: Map<number, string> }).unixPaths.delete(dead);
      other.deinit();
    } else {
      scope.closeBehindBack(io.listenUnix(at));
    }
    expect(scope.exists(at)).to.equal(true);
    const refused = complete(io, 'connectUnix', (cb) => io.connectUnix(io.socket('unix'), at, cb));
    expectIOError(refused.error, 'ECONNREFUSED', 'connectUnix');
    scope.unlink(at);
  });

  it('uses the abstract namespace on Linux', function () {
    if (process.platform !== 'linux') {
      expectThrows(() => scope.create().listenUnix('\0tigerio'), RangeError);
      return;
    }
    const io = scope.create();
    const name = `\0tigerio-abstract-${process.pid}-${counter++}`;
    const { listener, client, server } = unixPair(io, name);
    expect(exchange(io, client, server, Buffer.from('abstract'))).to.deep.equal(Buffer.from('abstract'));
    succeed(io, 'close', (cb) => io.close(listener, cb));
  });

  it('cancel, close and deinit complete a pending accept and recv on Unix sockets exactly once', function () {
    const io = scope.create();
    const at = socketPath();
    const { listener, client, server } = unixPair(io, at);
    const accept = submit((cb) => io.accept(listener, cb));
    const recv = submit((cb) => io.recv(server, Buffer.alloc(8), cb));
    io.tick();
    expect(io.cancel(accept.id)).to.equal(true);
    const close = submit((cb) => io.close(server, cb));
    runUntil(io, () => accept.done && recv.done && close.done, 'cancel and close');
    expectIOError(accept.error, 'ECANCELED', 'accept');
    expectIOError(recv.error, 'ECANCELED', 'recv');
    expect(close.error).to.equal(null);
    const last = submit((cb) => io.recv(client, Buffer.alloc(8), cb));
    const connect = submit((cb) => io.connectUnix(io.socket('unix'), at, cb));
    io.deinit();
    expect(last.calls).to.equal(1);
    expect(connect.calls).to.equal(1);
    // recv: the peer's close (0) may arrive first, or the deinit's ECANCELED; connect: done at once or cancelled.
    if (last.error !== null) expectIOError(last.error, 'ECANCELED', 'recv');
    else expect(last.result).to.equal(0);
    if (connect.error !== null) expectIOError(connect.error, 'ECANCELED', 'connectUnix');
    expect(scope.exists(at)).to.equal(false);
  });

  it('sends a file over a Unix socket with sendFile, partial results included', function () {
    const io = scope.create();
    const at = socketPath();
    const { listener, client, server } = unixPair(io, at);
    const dir = scope.simulated ? '/tigerio-unix-file' : fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-unix-file-'));
    try {
      const bytes = Buffer.alloc(3 << 20);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + (i >> 11)) & 255;
      const filePath = path.join(dir, 'file.bin');
      scope.writeFile(io, filePath, bytes);
      // The IO's own open: on Windows a node:fs fd is no handle.
      const file = succeed(io, 'open', (cb) => io.open(filePath, 'r', undefined, cb));
      const received = Buffer.alloc(bytes.length);
      const receiving = recvExactly(io, client, received);
      let sent = 0;
      let failure: Error | null = null;
      const next = (): void => {
        io.sendFile(server, file, sent, bytes.length - sent, (error, count) => {
          if (error !== null) {
            failure = error;
            return;
          }
          sent += count;
          if (count > 0 && sent < bytes.length) next();
        });
      };
      next();
      runUntil(io, () => failure !== null || (sent === bytes.length && receiving.done), 'sendFile over a Unix socket');
      expect(failure).to.equal(null);
      expect(receiving.error).to.equal(null);
      expect(received.equals(bytes)).to.equal(true);
      succeed(io, 'close of the file', (cb) => io.close(file, cb));
    } finally {
      if (!scope.simulated) fs.rmSync(dir, { recursive: true, force: true });
    }
    succeed(io, 'close', (cb) => io.close(server, cb));
    succeed(io, 'close', (cb) => io.close(client, cb));
    succeed(io, 'close', (cb) => io.close(listener, cb));
  });

  it('works through the promise layer', async function () {
    const io = scope.create();
    io.attach();
    const at = socketPath();
    const listener = io.listenUnix(at, { backlog: 4 });
    const accepting = io.promises.accept(listener);
    const client = io.socket('unix');
    expect(await io.promises.connectUnix(client, at)).to.equal(0);
    const server = await accepting;
    await io.promises.sendAll(client, Buffer.from('promise'));
    const inbox = Buffer.alloc(16);
    expect(await io.promises.recv(server, inbox)).to.equal(7);
    await io.promises.close(listener);
    expect(scope.exists(at)).to.equal(false);
  });
});

forEachBackend('unix sockets where the backend or the OS lacks them', (scope) => {
  beforeEach(function () {
    if (!unixSupport(scope.backend).supported) return;
    this.currentTest!.title += ' (skipped: this backend has Unix sockets here: the suite above covers it)';
    this.skip();
  });

  it('reports the same clear error from listenUnix, socket(unix) and connectUnix, without a crash', function () {
    const support = unixSupport(scope.backend);
    const io = scope.create();
    expectIOError(expectThrows(() => io.listenUnix(socketPath()), Error), support.code, 'listen');
    expectIOError(expectThrows(() => io.socket('unix'), Error), support.code, 'socket');
    const tcp = io.socket('ipv4');
    const outcome = complete(io, 'connectUnix', (cb) => io.connectUnix(tcp, socketPath(), cb));
    expectIOError(outcome.error, support.code, 'connectUnix');
    if (scope.backend === 'iocp') {
      // Windows without an AF_UNIX provider: the message says so, at the call and in the callback.
      expect(support.reason).to.equal(NO_AF_UNIX_REASON);
      const thrown = expectThrows(() => io.listenUnix(socketPath()), Error);
      expect(thrown.message).to.match(/this Windows has no AF_UNIX provider/);
      expect(expectThrows(() => io.socket('unix'), Error).message).to.match(/this Windows has no AF_UNIX provider/);
      expect(outcome.error!.message).to.match(/this Windows has no AF_UNIX provider/);
    }
    // Nothing was left at the paths, and the IO is still usable.
    succeed(io, 'close', (cb) => io.close(tcp, cb));
    expect(io.pending).to.equal(0);
  });
});
