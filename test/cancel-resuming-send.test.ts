// A cancel (or a close) that meets a send resuming as room opens in the
// socket buffer: the peer reads, and the sender's waiting send or sendFile
// is cancelled at once. Wine 8 lost such a CancelIoEx (its wineserver skips
// an operation it is resuming, and the operation then waits for room that
// never comes): the core asks again until the kernel answers
// (native/core/loop.h). Each round gets exactly one callback, whatever
// the race between the cancel and the resumed send.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { IO, IOError } from '../io';
import { forEachBackend } from './support/backends';
import { complete, runUntil, submit, succeed, type Outcome } from './support/run';
import { connectedPair } from './support/sockets';

const CHUNK_BYTES = 64 * 1024;
const FILE_BYTES = 4 << 20;
const ROUNDS = 12;
/** Sends per round at most before one waits for room (a loopback buffer takes a few MiB). */
const SENDS_MAX = 512;

forEachBackend('a cancel that meets a send resuming as the peer reads', (scope) => {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tigerio-resuming-'));
  });
  afterEach(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  for (const kind of ['send', 'sendFile'] as const) {
    for (const end of ['cancel', 'close'] as const) {
      it(`completes a waiting ${kind} exactly once when the peer has just read and the ${end} comes at once`, function () {
        this.timeout(120_000);
        const io = scope.create();
        const chunk = Buffer.alloc(CHUNK_BYTES, 0x61);
        let file = -1;
        if (kind === 'sendFile') {
          const at = path.join(dir, 'file.bin');
          scope.writeFile(io, at, Buffer.alloc(FILE_BYTES, 0x62));
          file = succeed(io, 'open', (cb) => io.open(at, 'r', undefined, cb));
        }
        const sink = Buffer.alloc(256 * 1024);
        const outcomes: Outcome[] = [];
        const rounds = end === 'close' ? 1 : ROUNDS;
        const { client, server } = connectedPair(io);
        for (let round = 0; round < rounds; round++) {
          // Sends until one is still waiting after a step: the peer reads nothing meanwhile.
          let waiting: Outcome | null = null;
          for (let sends = 0; sends < SENDS_MAX && waiting === null; sends++) {
            const sending = submit((cb) => startSend(io, kind, server, chunk, file, cb));
            outcomes.push(sending);
            io.runForNs(1_000_000);
            if (!sending.done) waiting = sending;
          }
          expect(waiting, `a ${kind} waits for room within ${SENDS_MAX} sends`).to.not.equal(null);
          // The peer makes room, and the cancel follows at once.
          complete(io, 'the peer reads', (cb) => io.recv(client, sink, cb));
          if (end === 'cancel') {
            io.cancel(waiting!.id);
          } else {
            outcomes.push(submit((cb) => io.close(server, cb)));
          }
          runUntil(io, () => waiting!.done, `the ${kind} after the ${end}`, { stepsMax: 20_000 });
          if (waiting!.error !== null) expect(waiting!.error.code).to.equal('ECANCELED');
        }
        runUntil(io, () => io.pending === 0, 'every operation', { stepsMax: 20_000 });
        io.runForNs(2_000_000);
        for (const [index, outcome] of outcomes.entries()) {
          expect(outcome.calls, `operation ${index} callbacks`).to.equal(1);
        }
      });
    }
  }
});

/** One send of `chunk`, or one sendFile of as many bytes from the start of `file`. */
function startSend(io: IO, kind: 'send' | 'sendFile', socket: number, chunk: Buffer, file: number,
                   callback: (error: IOError | null, result: number) => void): number {
  return kind === 'send' ? io.send(socket, chunk, callback) : io.sendFile(socket, file, 0, CHUNK_BYTES, callback);
}
