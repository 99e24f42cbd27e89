// Durable writes: a 4 KiB write, then an fdatasync, one pair at a time in a
// loop for --duration ms (a write-ahead log's commit path). tigerio: write
// and fdatasync callbacks on an IO driven by run(). Peer: node:fs's
// fs.write + fs.fdatasync callbacks (libuv's thread pool). Both write the
// same positions into their own file, preallocated with zeros (written, not
// sparse), so a write never extends the file and fdatasync flushes data
// only, as a log that preallocates its segments does. 200 ms of warm-up are
// not counted.
//
//   node fsync.js --impl tigerio|fs [--backend B] [--duration 5000] [--dir DIR]
//   node fsync.js --mode pingpong --backend B [--duration 6000] [--phase-ms 200] [--dir DIR]
//
// --mode pingpong: does that loop stall the IO's sockets? A ping-pong's
// round-trip p99 on one IO, alone and while the same IO, or node:fs,
// runs the loop (fsync-pingpong.ts).
//
// The directory must be on the disk being measured (the default: /var/tmp
// where it exists, else os.tmpdir()); on tmpfs fdatasync does nothing and
// the result says so (`tmpfs: true`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IO } from '../../io';
import { numberFlag, parseFlags, report } from './common';
import { pingPongUnderDisk } from './fsync-pingpong';

const args = parseFlags(process.argv.slice(2));
const impl = args.impl ?? 'tigerio';
const durationMs = numberFlag(args, 'duration', 5000);
const warmupMs = 200;
const BLOCK_BYTES = 4096;
/** The region the writes cycle through: 16 MiB, so the file stays small. */
const REGION_BLOCKS = 4096;
const TMPFS_MAGIC = 0x01021994;

const directory = args.dir ?? (fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir());
const file = path.join(directory, `tigerio-bench-fsync-${impl}-${process.pid}.bin`);

function preallocate(): void {
  const fd = fs.openSync(file, 'w');
  const zeros = Buffer.alloc(1 << 20);
  for (let written = 0; written < REGION_BLOCKS * BLOCK_BYTES; written += zeros.byteLength) fs.writeSync(fd, zeros);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

function onTmpfs(): boolean {
  try {
    return fs.statfsSync(directory).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/** Counts pairs from the end of the warm-up to the end of the duration; `next` starts one pair. */
class Clock {
  pairs = 0;
  private readonly warmEnd = process.hrtime.bigint() + BigInt(warmupMs) * 1_000_000n;
  private measuringFrom = 0n;
  private end = 0n;
  elapsedNs = 0;

  /** Called after each pair: false once the duration has passed. */
  tick(): boolean {
    const now = process.hrtime.bigint();
    if (this.measuringFrom === 0n) {
      if (now < this.warmEnd) return true;
      this.measuringFrom = now;
      this.end = now + BigInt(durationMs) * 1_000_000n;
      return true;
    }
    this.pairs++;
    if (now < this.end) return true;
    this.elapsedNs = Number(now - this.measuringFrom);
    return false;
  }
}

function finish(clock: Clock, extra: Record<string, unknown>): void {
  fs.rmSync(file, { force: true });
  report({
    impl,
    ...extra,
    pairs: clock.pairs,
    pairsPerSecond: clock.pairs / (clock.elapsedNs / 1e9),
    microsecondsPerPair: clock.elapsedNs / 1e3 / clock.pairs,
    directory,
    tmpfs: onTmpfs(),
  });
}

preallocate();
if (args.mode === 'pingpong') {
  const backend = args.backend ?? IO.backends()[0];
  void pingPongUnderDisk(backend, file, REGION_BLOCKS, durationMs, numberFlag(args, 'phase-ms', 200)).then((result) => {
    fs.rmSync(file, { force: true });
    report({ ...result, directory, tmpfs: onTmpfs() });
  });
} else {
  runPairs();
}

function runPairs(): void {
  const block = Buffer.alloc(BLOCK_BYTES, 0x5a);
  const clock = new Clock();
  let index = 0;
  const position = (): number => (index++ % REGION_BLOCKS) * BLOCK_BYTES;

  if (impl === 'tigerio') {
    const backend = args.backend ?? IO.backends()[0];
    const io = new IO({ backend });
    let fd = -1;
    const written = (error: Error | null): void => {
      if (error) throw error;
      io.fdatasync(fd, synced);
    };
    const synced = (error: Error | null): void => {
      if (error) throw error;
      if (clock.tick()) io.write(fd, block, position(), written);
    };
    io.open(file, 'r+', undefined, (error, opened) => {
      if (error) throw error;
      fd = opened;
      io.write(fd, block, position(), written);
    });
    io.run();
    io.close(fd, (error) => {
      if (error) throw error;
    });
    io.run();
    io.deinit();
    finish(clock, { backend });
  } else if (impl === 'fs') {
    const fd = fs.openSync(file, 'r+');
    const written = (error: Error | null): void => {
      if (error) throw error;
      fs.fdatasync(fd, synced);
    };
    const synced = (error: Error | null): void => {
      if (error) throw error;
      if (clock.tick()) {
        fs.write(fd, block, 0, BLOCK_BYTES, position(), written);
      } else {
        fs.closeSync(fd);
        finish(clock, {});
      }
    };
    fs.write(fd, block, 0, BLOCK_BYTES, position(), written);
  } else {
    process.stderr.write(`fsync: unknown --impl ${impl}\n`);
    process.exit(2);
  }
}
