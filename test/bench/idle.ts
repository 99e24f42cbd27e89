// Memory per idle connection: the measured process accepts --count
// connections (the connecting ends live in a helper process) and leaves each
// with a pending receive; the figure is the growth of its resident set size
// (after a full GC, before and after) divided by the count. Kernel socket
// memory is not in RSS, on either side.
//
// The same set-up runs first, for WARMUP_CONNECTIONS on a server of its own
// that stays open to the end (so that none of its memory is reused by the
// measured one): what the process pays once, whatever the count, is then
// paid before the first figure. Without it, V8 compiling the set-up's hot
// paths (its compiler threads' malloc arenas stay resident) and growing its
// young generation under the set-up's garbage added 150-200 B per connection
// at 10,000, on tigerio and node:net alike, and varied by as much run to run.
//
//   node --expose-gc idle.js --impl tigerio --backend epoll [--count 10000] [--pooled]
//   node --expose-gc idle.js --impl net
import { IO, type BufferPool } from '../../io';
import { gc, numberFlag, parseFlags, report, rss, sleep } from './common';
import { IDLE_BUFFER_BYTES, IDLE_POOL_BUFFERS, IDLE_POOL_BUFFER_BYTES, netIdle, tigerioIdle } from './idle-support';

const args = parseFlags(process.argv.slice(2));
const impl = args.impl ?? 'tigerio';
const count = numberFlag(args, 'count', 10_000);
const WARMUP_CONNECTIONS = 1_000;

function snapshot(): { rss: number; heapUsed: number; external: number } {
  gc();
  const usage = process.memoryUsage();
  return { rss: rss(), heapUsed: usage.heapUsed, external: usage.external + usage.arrayBuffers };
}

async function main(): Promise<void> {
  if (impl === 'tigerio') {
    const backend = args.backend ?? IO.backends()[0];
    const pooled = args.pooled !== undefined;
    const warm = new IO({ backend });
    const warmSet = tigerioIdle(warm, WARMUP_CONNECTIONS, pooled ? idlePool(warm) : null);
    const io = new IO({ backend });
    // Made before the first figure: the pool's memory is the IO's, not the connections'.
    const pool = pooled ? idlePool(io) : null;
    await sleep(50);
    const before = snapshot();
    const set = tigerioIdle(io, count, pool);
    await sleep(200); // let the helper settle; nothing is running in the IO
    const after = snapshot();
    set.helper.kill();
    warmSet.helper.kill();
    io.deinit();
    warm.deinit();
    report(result(before, after, { backend, pooled, recvBufferBytes: pooled ? 0 : IDLE_BUFFER_BYTES }));
  } else if (impl === 'net') {
    const warmSet = await netIdle(WARMUP_CONNECTIONS);
    await sleep(50);
    const before = snapshot();
    const set = await netIdle(count);
    await sleep(200);
    const after = snapshot();
    set.helper.kill();
    warmSet.helper.kill();
    for (const socket of [...set.sockets, ...warmSet.sockets]) socket.destroy();
    report(result(before, after, {}));
  } else {
    throw new Error(`unknown --impl ${impl}`);
  }
  setImmediate(() => process.exit(0));
}

function idlePool(io: IO): BufferPool {
  return io.bufferPool({ count: IDLE_POOL_BUFFERS, size: IDLE_POOL_BUFFER_BYTES });
}

function result(
  before: ReturnType<typeof snapshot>,
  after: ReturnType<typeof snapshot>,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return {
    impl,
    count,
    rssBefore: before.rss,
    rssAfter: after.rss,
    rssPerConnection: (after.rss - before.rss) / count,
    heapPerConnection: (after.heapUsed - before.heapUsed) / count,
    externalPerConnection: (after.external - before.external) / count,
    ...extra,
  };
}

void main();
