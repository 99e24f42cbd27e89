// File descriptors over their life: reuse of a closed fd's number, which fds
// deinit() closes (the IO's own) and which it leaves (the caller's).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { runUntil, submit, succeed } from './support/run';
import { connectedPair, exchange } from './support/sockets';

function isOpen(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EBADF') return false;
    throw error;
  }
}

forEachBackend('fd lifecycle', (scope) => {
  it('works on a new socket that reuses the number of a closed one that had operations pending', function () {
    const io = scope.create();
    for (let round = 0; round < 5; round++) {
      const { client, server, listener } = connectedPair(io);
      const recv = submit((callback) => io.recv(server, Buffer.alloc(8), callback));
      const clientRecv = submit((callback) => io.recv(client, Buffer.alloc(8), callback));
      io.tick();
      const closes = [server, client, listener].map((fd) => submit((callback) => io.close(fd, callback)));
      runUntil(io, () => recv.done && clientRecv.done && closes.every((close) => close.done), 'the closes');
      expect(recv.error?.code).to.equal('ECANCELED');
      expect(clientRecv.error?.code).to.equal('ECANCELED');
      for (const close of closes) expect(close.error).to.equal(null);
      // The next pair gets the lowest free numbers again: the same ones.
      const next = connectedPair(io);
      const message = Buffer.from(`round ${round}`);
      expect(exchange(io, next.client, next.server, message)).to.deep.equal(message);
      expect(exchange(io, next.server, next.client, message)).to.deep.equal(message);
      for (const fd of [next.client, next.server, next.listener]) succeed(io, 'close', (callback) => io.close(fd, callback));
    }
  });

  it('closes in deinit() every fd the IO opened: listener, sockets, accepted sockets, files', function () {
    // fstat checks OS fds; on Windows the IO's socket numbers index its own table (deinit.test.ts checks the peers instead).
    if (process.platform === 'win32') this.skip();
    // fstat checks OS fds; the simulation's are its world's (test/simulation/world.test.ts checks deinit closes them).
    if (scope.simulated) this.skip();
    const io = scope.create();
    const { listener, client, server } = connectedPair(io);
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-fds-'));
    try {
      const file = succeed(io, 'open', (callback) => io.open(path.join(directory, 'f'), 'w', undefined, callback));
      const unconnected = io.socket('ipv4');
      const fds = [listener, client, server, file, unconnected];
      for (const fd of fds) expect(isOpen(fd), `fd ${fd} open before deinit`).to.equal(true);
      io.deinit();
      for (const fd of fds) expect(isOpen(fd), `fd ${fd} open after deinit`).to.equal(false);
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('leaves open in deinit() an fd the caller opened elsewhere and used through the IO', function () {
    // On Windows a node:fs fd is a descriptor of node.exe's C runtime, not an
    // OS handle; the IO's fds there are SOCKET/HANDLE values, so it cannot use one.
    if (process.platform === 'win32') this.skip();
    if (scope.simulated) this.skip(); // a node:fs fd is the OS's: a simulated IO sees only its world's fds
    const io = scope.create();
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-fds-'));
    const file = path.join(directory, 'mine');
    fs.writeFileSync(file, 'caller-owned');
    const fd = fs.openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(32);
      const bytes = succeed(io, 'read', (callback) => io.read(fd, buffer, 0, callback));
      expect(buffer.subarray(0, bytes).toString()).to.equal('caller-owned');
      io.deinit();
      expect(isOpen(fd), 'the caller-owned fd survived deinit').to.equal(true);
    } finally {
      fs.closeSync(fd);
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('does not close in deinit() an fd it opened but already closed, whose number now belongs to someone else', function () {
    const io = scope.create();
    const socket = io.socket('ipv4');
    succeed(io, 'close', (callback) => io.close(socket, callback));
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-fds-'));
    const reused = fs.openSync(path.join(directory, 'reuser'), 'w');
    try {
      // Only meaningful where fds are the lowest free numbers (POSIX).
      if (reused !== socket) this.skip();
      io.deinit();
      expect(isOpen(reused), "deinit closed node:fs's fd").to.equal(true);
    } finally {
      fs.closeSync(reused);
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
