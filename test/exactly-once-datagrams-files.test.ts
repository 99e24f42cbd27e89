// Contract rule 1 for issue 14's operations: exactly one callback per
// sendTo, recvFrom, connectUnix and sendFile, over a random mix with
// cancels and ticks, ended by close (and by deinit).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import * as fc from 'fast-check';
import { IO, Simulation } from '../io';
import { forEachBackend } from './support/backends';
import { propertyParameters } from './support/property';
import { runUntil, submit, succeed, type Outcome } from './support/run';
import { connectedPair } from './support/sockets';
import { unixSupport } from './support/unix';

type Step =
  | { kind: 'sendTo'; length: number }
  | { kind: 'recvFrom'; length: number }
  | { kind: 'sendFile'; offset: number; length: number }
  | { kind: 'connectUnix' }
  | { kind: 'cancel'; index: number }
  | { kind: 'tick' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('sendTo' as const), length: fc.integer({ min: 1, max: 2_000 }) }),
  fc.record({ kind: fc.constant('recvFrom' as const), length: fc.integer({ min: 1, max: 2_000 }) }),
  fc.record({
    kind: fc.constant('sendFile' as const),
    offset: fc.integer({ min: 0, max: 4 << 20 }),
    length: fc.integer({ min: 1, max: 4 << 20 }),
  }),
  fc.record({ kind: fc.constant('connectUnix' as const) }),
  fc.record({ kind: fc.constant('cancel' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('tick' as const) }),
);

const FILE_BYTES = 4 << 20;

/** The IO of one run, and the file system it sees: the machine's, or a simulated world's of its own. */
function machine(backend: string, filePath: string): { io: IO; exists: (path: string) => boolean } {
  if (backend !== 'simulation') return { io: new IO({ backend }), exists: (at) => fs.existsSync(at) };
  const sim = new Simulation({ seed: 0 });
  const io = sim.io();
  // The file the workload sends, in the world's disk.
  const fd = succeed(io, 'open', (cb) => io.open(filePath, 'w', undefined, cb));
  succeed(io, 'write', (cb) => io.write(fd, Buffer.alloc(FILE_BYTES, 0x5a), 0, cb));
  succeed(io, 'close', (cb) => io.close(fd, cb));
  return { io, exists: (at) => sim.exists(at) };
}

function runWorkload(backend: string, filePath: string, unixPath: string, steps: Step[], end: 'close' | 'deinit'): void {
  const { io, exists } = machine(backend, filePath);
  // Where the OS has no AF_UNIX (Wine: no provider; support/unix.ts) its steps are left out.
  const unix = unixSupport(backend).supported;
  try {
    const { client, server } = connectedPair(io);
    const file = succeed(io, 'open', (cb) => io.open(filePath, 'r', undefined, cb));
    const listener = unix ? io.listenUnix(unixPath) : io.listen('127.0.0.1', 0);
    const a = io.udpSocket('ipv4');
    io.bind(a, '127.0.0.1', 0);
    const b = io.udpSocket('ipv4');
    io.bind(b, '127.0.0.1', 0);
    const port = io.localAddress(b).port;
    const address = io.addressBuffer();
    const fds = [client, server, listener, a, b, file];
    const outcomes: Outcome[] = [];
    for (const s of steps) {
      switch (s.kind) {
        case 'sendTo':
          outcomes.push(submit((cb) => io.sendTo(a, Buffer.alloc(s.length, 0x41), '127.0.0.1', port, cb)));
          break;
        case 'recvFrom':
          outcomes.push(submit((cb) => io.recvFrom(b, Buffer.alloc(s.length), address, cb)));
          break;
        case 'sendFile':
          outcomes.push(submit((cb) => io.sendFile(server, file, s.offset, s.length, cb)));
          break;
        case 'connectUnix': {
          if (!unix) break;
          const fd = io.socket('unix');
          fds.push(fd);
          outcomes.push(submit((cb) => io.connectUnix(fd, unixPath, cb)));
          break;
        }
        case 'cancel':
          if (outcomes.length > 0) io.cancel(outcomes[s.index % outcomes.length].id);
          break;
        case 'tick':
          io.tick();
          break;
      }
    }
    if (end === 'deinit') {
      io.deinit();
    } else {
      const closes = fds.map((fd) => submit((cb) => io.close(fd, cb)));
      outcomes.push(...closes);
      runUntil(io, () => io.pending === 0, 'the workload to drain', { stepsMax: 10_000 });
      io.runForNs(2_000_000);
    }
    for (const [index, outcome] of outcomes.entries()) {
      expect(outcome.calls, `operation ${index} callbacks`).to.equal(1);
      expect(outcome.ranInsideSubmit, `operation ${index} ran inside its submit`).to.equal(false);
      if (outcome.error !== null) expect(outcome.error.code).to.be.a('string');
    }
  } finally {
    io.deinit();
  }
  expect(exists(unixPath), 'the Unix listener path is removed').to.equal(false);
}

forEachBackend('exactly one callback per issue 14 operation', (scope) => {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-once-'));
    // (The simulation writes its own copy into its world: machine().)
    if (!scope.simulated) fs.writeFileSync(path.join(dir, 'file.bin'), Buffer.alloc(FILE_BYTES, 0x5a));
  });
  afterEach(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  for (const end of ['close', 'deinit'] as const) {
    it(`calls each callback exactly once across a random mix ended by ${end} (fast-check)`, function () {
      this.timeout(60_000);
      let run = 0;
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) =>
          runWorkload(scope.backend, path.join(dir, 'file.bin'), path.join(dir, `s${run++}.sock`), steps, end)),
        propertyParameters(`exactly once, datagrams and files ended by ${end}, ${scope.backend}`, 25),
      );
    });
  }
});
