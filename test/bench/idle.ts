// Memory per idle connection: the measured process accepts --count
// connections (the connecting ends live in a helper process) and leaves each
// with a pending receive; the figure is the growth of its resident set size
// (after a full GC, before and after), less V8's young generation, divided by
// the count. Kernel socket memory is not in RSS, on either side.
//
// What the process pays once, whatever the count, is kept out of the figure
// (it was 150-250 B per connection at 10,000, on tigerio and node:net alike,
// and varied by 100 B run to run):
// - The same set-up runs first, for WARMUP_CONNECTIONS on a server of its
//   own that stays open to the end (so that none of its memory is reused by
//   the measured one): V8 compiles the set-up's hot paths then, and its
//   compiler threads' malloc arenas, which stay resident, grow before the
//   first figure.
// - The young generation is empty after a full GC (what lives is promoted),
//   so its resident pages hold no connection: they are V8's cache, grown
//   (or not) by its own heuristics under the set-up's garbage.
//
//   node --expose-gc idle.js --impl tigerio --backend epoll [--count 10000] [--pooled]
//   node --expose-gc idle.js --impl net
import * as v8 from 'node:v8';
import { IO, type BufferPool } from '../../io';
import { gc, numberFlag, parseFlags, report, rss, sleep } from './common';
import { IDLE_BUFFER_BYTES, IDLE_POOL_BUFFERS, IDLE_POOL_BUFFER_BYTES, netIdle, tigerioIdle } from './idle-support';

const args = parseFlags(process.argv.slice(2));
const impl = args.impl ?? 'tigerio';
const count = numberFlag(args, 'count', 10_000);
const WARMUP_CONNECTIONS = 1_000;
const SETTLE_MS = 200;

interface Snapshot {
  rss: number;
  /** Resident bytes of V8's young generation (empty after the GC). */
  young: number;
  heapUsed: number;
  external: number;
}

/**
 * RSS and heap after a full GC, once the pages it freed have gone back to
 * the kernel: V8's background threads give them back after gc() returns,
 * so a figure read at once counts some of them or not, by a few hundred KB
 * either way (tens of bytes per connection at 10,000).
 */
async function snapshot(): Promise<Snapshot> {
  gc();
  await sleep(SETTLE_MS);
  const usage = process.memoryUsage();
  const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  return { rss: rss(), young: young?.physical_space_size ?? 0, heapUsed: usage.heapUsed, external: usage.external + usage.arrayBuffers };
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
    const before = await snapshot();
    const set = tigerioIdle(io, count, pool);
    await sleep(200); // let the helper settle; nothing is running in the IO
    const after = await snapshot();
    set.helper.kill();
    warmSet.helper.kill();
    io.deinit();
    warm.deinit();
    report(result(before, after, { backend, pooled, recvBufferBytes: pooled ? 0 : IDLE_BUFFER_BYTES }));
  } else if (impl === 'net') {
    const warmSet = await netIdle(WARMUP_CONNECTIONS);
    await sleep(50);
    const before = await snapshot();
    const set = await netIdle(count);
    await sleep(200);
    const after = await snapshot();
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
  before: Snapshot,
  after: Snapshot,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return {
    impl,
    count,
    warmupConnections: WARMUP_CONNECTIONS,
    rssBefore: before.rss,
    rssAfter: after.rss,
    rssPerConnection: (after.rss - after.young - (before.rss - before.young)) / count,
    youngPerConnection: (after.young - before.young) / count,
    heapPerConnection: (after.heapUsed - before.heapUsed) / count,
    externalPerConnection: (after.external - before.external) / count,
    ...extra,
  };
}

void main();
