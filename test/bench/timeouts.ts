// 1,000,000 timeouts of a random 0-1000 ms (whole milliseconds, the same
// seeded sequence on both sides), all submitted at once; the figure is the
// wall time from the first submission to the last callback, with the CPU
// time (user + system) the process spent in it.
//
//   node timeouts.js --impl tigerio --backend epoll [--count 1000000 --max-ms 1000]
//   node timeouts.js --impl settimeout
import { IO } from '../../io';
import { seededRandom } from '../support/random';
import { numberFlag, parseFlags, report } from './common';

const args = parseFlags(process.argv.slice(2));
const impl = args.impl ?? 'tigerio';
const count = numberFlag(args, 'count', 1_000_000);
const maxMs = numberFlag(args, 'max-ms', 1000);

const next = seededRandom(42);
const delaysMs = new Uint16Array(count);
for (let i = 0; i < count; i++) delaysMs[i] = Math.floor(next() * (maxMs + 1));

let fired = 0;
let lastFiredNs = 0n;
const cpuBefore = process.cpuUsage();
const start = process.hrtime.bigint();

function finish(extra: Record<string, unknown>): void {
  const wallSeconds = Number(lastFiredNs - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  report({
    impl,
    count,
    fired,
    wallSeconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    userSeconds: cpu.user / 1e6,
    systemSeconds: cpu.system / 1e6,
    rssBytes: process.memoryUsage().rss,
    ...extra,
  });
}

if (impl === 'tigerio') {
  const backend = args.backend ?? IO.backends()[0];
  const io = new IO({ backend, operationsMax: Math.max(count, 1) });
  const onTimeout = (error: unknown): void => {
    if (error) throw error;
    fired++;
    if (fired === count) lastFiredNs = process.hrtime.bigint();
  };
  for (let i = 0; i < count; i++) io.timeout(delaysMs[i] * 1_000_000, onTimeout);
  const submittedSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  io.run();
  io.deinit();
  finish({ backend, submitSeconds: submittedSeconds });
} else if (impl === 'settimeout') {
  const onTimeout = (): void => {
    fired++;
    if (fired === count) {
      lastFiredNs = process.hrtime.bigint();
      finish({ submitSeconds });
    }
  };
  for (let i = 0; i < count; i++) setTimeout(onTimeout, delaysMs[i]);
  const submitSeconds = Number(process.hrtime.bigint() - start) / 1e9;
} else {
  throw new Error(`unknown --impl ${impl}`);
}
