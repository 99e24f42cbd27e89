// Simulated operations per second: one mixed scenario (connections echoing
// messages, short timeouts, file writes and reads) run on the simulation,
// and the same program on a kernel backend. Ops are completed callbacks;
// the figure is ops per second of wall time. On the simulation, timeouts
// cost no wall time (its clock jumps), so it also shows what a simulated
// test saves; faults are off, so both runs do the same work.
//
//   node simulation.js --impl simulation|kernel [--backend epoll --duration 2000]
import { IO, Simulation } from '../../io';
import { numberFlag, parseFlags, report } from './common';

const args = parseFlags(process.argv.slice(2));
const impl = args.impl ?? 'simulation';
const durationMs = numberFlag(args, 'duration', 2000);

const CONNECTIONS = 16;
const ROUNDS = 20;
const MESSAGE_BYTES = 1024;
const TIMEOUT_NS = 100_000;

/** One run of the scenario on `io` (server and clients on it); returns the ops it completed. */
function scenario(io: IO, drive: () => void, file: string): number {
  let ops = 0;
  const listener = io.listen('127.0.0.1', 0);
  const { port } = io.localAddress(listener);
  const accept = (): void => {
    io.accept(listener, (error, fd) => {
      ops++;
      if (error !== null) return; // the listener closed at the end
      accept();
      const buffer = Buffer.alloc(MESSAGE_BYTES);
      const echo = (): void => {
        io.recv(fd, buffer, (recvError, n) => {
          ops++;
          if (recvError !== null || n === 0) return void io.close(fd, () => ops++);
          io.send(fd, buffer.subarray(0, n), () => {
            ops++;
            echo();
          });
        });
      };
      echo();
    });
  };
  accept();
  io.open(file, 'w+', undefined, (error, fileFd) => {
    ops++;
    if (error !== null) throw error;
    let clientsDone = 0;
    for (let c = 0; c < CONNECTIONS; c++) client(c, fileFd, () => {
      if (++clientsDone < CONNECTIONS) return;
      io.close(listener, () => ops++);
      io.close(fileFd, () => ops++);
    });
  });
  const client = (c: number, fileFd: number, done: () => void): void => {
    const fd = io.socket('ipv4');
    const message = Buffer.alloc(MESSAGE_BYTES, c);
    const reply = Buffer.alloc(MESSAGE_BYTES);
    let round = 0;
    const next = (): void => {
      if (round++ === ROUNDS) {
        return void io.close(fd, () => {
          ops++;
          done();
        });
      }
      io.timeout(TIMEOUT_NS, () => {
        ops++;
        io.write(fileFd, message, c * MESSAGE_BYTES, () => {
          ops++;
          io.read(fileFd, reply, c * MESSAGE_BYTES, () => {
            ops++;
            io.send(fd, message, () => ops++);
            let got = 0;
            const recv = (): void => {
              io.recv(fd, reply.subarray(got), (error, n) => {
                ops++;
                if (error !== null) throw error;
                got += n;
                if (got < MESSAGE_BYTES) recv();
                else next();
              });
            };
            recv();
          });
        });
      });
    };
    io.connect(fd, '127.0.0.1', port, () => {
      ops++;
      next();
    });
  };
  drive();
  return ops;
}

function measure(runOnce: () => number): { ops: number; ns: number; runs: number } {
  const warm = process.hrtime.bigint() + 200_000_000n;
  while (process.hrtime.bigint() < warm) runOnce();
  const start = process.hrtime.bigint();
  const end = start + BigInt(durationMs) * 1_000_000n;
  let ops = 0;
  let runs = 0;
  let now = start;
  while (now < end) {
    ops += runOnce();
    runs++;
    now = process.hrtime.bigint();
  }
  return { ops, ns: Number(now - start), runs };
}

const file = `${require('node:os').tmpdir()}/tigerio-bench-simulation-${process.pid}`;
if (impl === 'simulation') {
  let seed = 0;
  const result = measure(() => {
    const sim = new Simulation({ seed: seed++ });
    const io = sim.io();
    const ops = scenario(io, () => void sim.run(), file);
    io.deinit();
    return ops;
  });
  report({ impl, ...result, opsPerSecond: result.ops / (result.ns / 1e9), runsPerSecond: result.runs / (result.ns / 1e9) });
} else {
  const backend = args.backend ?? 'epoll';
  const result = measure(() => {
    const io = new IO({ backend });
    const ops = scenario(io, () => io.run(), file);
    io.deinit();
    return ops;
  });
  require('node:fs').rmSync(file, { force: true });
  report({ impl, backend, ...result, opsPerSecond: result.ops / (result.ns / 1e9), runsPerSecond: result.runs / (result.ns / 1e9) });
}
