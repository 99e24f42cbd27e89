// Does file work stall the loop? A 64-byte ping-pong over loopback TCP on
// one IO, measured round trip by round trip, in three interleaved phases:
//   none:    the ping-pong alone;
//   tigerio: the same IO also runs a loop of 4 KiB write + fdatasync;
//   fs:      node:fs runs that loop instead (libuv's thread pool).
// The phases take turns (--phase-ms each, for --duration ms in all), so the
// machine's load drifts over all three alike. The IO is attached to Node's
// event loop in every phase (node:fs callbacks need that loop). Reports
// each phase's round-trip p50 and p99 and the p99 ratios to `none`.
// (fsync.ts --mode pingpong runs this.)
import * as fs from 'node:fs';
import { IO } from '../../io';

const MESSAGE_BYTES = 64;
const BLOCK_BYTES = 4096;
const SAMPLES_MAX = 1 << 21;
const MODES = ['none', 'tigerio', 'fs'] as const;
type Mode = (typeof MODES)[number];

/** Round-trip samples of one phase kind, in microseconds. */
class Samples {
  private readonly values = new Float64Array(SAMPLES_MAX);
  count = 0;

  add(us: number): void {
    if (this.count < SAMPLES_MAX) this.values[this.count++] = us;
  }

  quantile(q: number): number {
    const sorted = this.values.slice(0, this.count).sort();
    return sorted[Math.min(this.count - 1, Math.floor(q * this.count))] ?? NaN;
  }
}

export interface PingPongUnderDiskResult {
  backend: string;
  [key: string]: unknown;
}

/** Runs the three phases on `backend`, the disk loops writing `file` (preallocated, `regionBlocks` blocks). */
export async function pingPongUnderDisk(
  backend: string,
  file: string,
  regionBlocks: number,
  durationMs: number,
  phaseMs: number,
): Promise<PingPongUnderDiskResult> {
  const io = new IO({ backend });
  io.attach();
  const listener = io.listen('127.0.0.1', 0);
  const client = io.socket('ipv4');
  const server = await new Promise<number>((resolve, reject) => {
    io.accept(listener, (error, fd) => (error ? reject(error) : resolve(fd)));
    io.connect(client, '127.0.0.1', io.localAddress(listener).port, (error) => error && reject(error));
  });
  const ioFd = await io.promises.open(file, 'r+');
  const fsFd = fs.openSync(file, 'r+');
  const samples: Record<Mode, Samples> = { none: new Samples(), tigerio: new Samples(), fs: new Samples() };
  const diskPairs: Record<Mode, number> = { none: 0, tigerio: 0, fs: 0 };

  // 'gap': between phases, while a disk pair in flight finishes: not sampled.
  let mode: Mode | 'gap' = 'none';
  let sampling = false; // the first round of phases warms up (JIT, caches, the pool's threads)
  let running = true;
  // The ping-pong: client sends, server echoes, client receives; one sample per round trip.
  const ping = Buffer.alloc(MESSAGE_BYTES, 1);
  const serverBuffer = Buffer.alloc(MESSAGE_BYTES);
  const clientBuffer = Buffer.alloc(MESSAGE_BYTES);
  let sentAt = 0n;
  let pingPongStopped: (() => void) | null = null;
  const roundTrip = (): void => {
    if (!running) {
      pingPongStopped?.();
      return;
    }
    sentAt = process.hrtime.bigint();
    io.send(client, ping, (error) => {
      if (error) throw error;
    });
    io.recv(server, serverBuffer, (error, n) => {
      if (error || n !== MESSAGE_BYTES) throw error ?? new Error('short ping');
      io.send(server, serverBuffer, (sendError) => {
        if (sendError) throw sendError;
      });
    });
    io.recv(client, clientBuffer, (error, n) => {
      if (error || n !== MESSAGE_BYTES) throw error ?? new Error('short pong');
      if (mode !== 'gap' && sampling) samples[mode].add(Number(process.hrtime.bigint() - sentAt) / 1000);
      roundTrip();
    });
  };

  // The disk loops: one write + fdatasync pair at a time while their phase lasts.
  const block = Buffer.alloc(BLOCK_BYTES, 0x5a);
  let index = 0;
  const position = (): number => (index++ % regionBlocks) * BLOCK_BYTES;
  const diskLoop = (kind: Mode): Promise<void> =>
    new Promise((resolve) => {
      const next = (): void => {
        if (mode !== kind) return resolve();
        const at = position();
        const synced = (error: Error | null): void => {
          if (error) throw error;
          diskPairs[kind]++;
          next();
        };
        if (kind === 'tigerio') {
          io.write(ioFd, block, at, (error) => {
            if (error) throw error;
            io.fdatasync(ioFd, synced);
          });
        } else {
          fs.write(fsFd, block, 0, BLOCK_BYTES, at, (error) => {
            if (error) throw error;
            fs.fdatasync(fsFd, synced);
          });
        }
      };
      next();
    });

  roundTrip();
  const phases = Math.max(MODES.length, Math.round(durationMs / phaseMs));
  for (let phase = 0; phase < phases + MODES.length; phase++) {
    sampling = phase >= MODES.length;
    mode = MODES[phase % MODES.length];
    const disk = mode === 'none' ? Promise.resolve() : diskLoop(mode);
    await new Promise((resolve) => setTimeout(resolve, phaseMs));
    mode = 'gap'; // ends the disk loop after its pair in flight
    await disk;
  }
  running = false;
  await new Promise<void>((resolve) => (pingPongStopped = resolve));
  fs.closeSync(fsFd);
  await io.promises.close(ioFd);
  await io.promises.close(client);
  await io.promises.close(server);
  await io.promises.close(listener);
  io.deinit();

  const result: PingPongUnderDiskResult = { backend };
  for (const kind of MODES) {
    result[`${kind}RoundTrips`] = samples[kind].count;
    result[`${kind}P50Us`] = samples[kind].quantile(0.5);
    result[`${kind}P99Us`] = samples[kind].quantile(0.99);
    result[`${kind}DiskPairs`] = diskPairs[kind];
  }
  result.tigerioP99Ratio = (result.tigerioP99Us as number) / (result.noneP99Us as number);
  result.fsP99Ratio = (result.fsP99Us as number) / (result.noneP99Us as number);
  return result;
}
