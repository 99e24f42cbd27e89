// Memory per idle connection: the measured process accepts --count
// connections (the connecting ends live in a helper process) and leaves each
// with a pending receive; the figure is the growth of its resident set size
// (after a full GC, before and after) divided by the count. Kernel socket
// memory is not in RSS, on either side.
//
//   node --expose-gc idle.js --impl tigerio --backend epoll [--count 10000] [--pooled]
//   node --expose-gc idle.js --impl net
import { IO } from '../../io';
import { gc, numberFlag, parseFlags, report, rss, sleep } from './common';
import { IDLE_BUFFER_BYTES, IDLE_POOL_BUFFERS, IDLE_POOL_BUFFER_BYTES, netIdle, tigerioIdle } from './idle-support';

const args = parseFlags(process.argv.slice(2));
const impl = args.impl ?? 'tigerio';
const count = numberFlag(args, 'count', 10_000);

function snapshot(): { rss: number; heapUsed: number; external: number } {
  gc();
  const usage = process.memoryUsage();
  return { rss: rss(), heapUsed: usage.heapUsed, external: usage.external + usage.arrayBuffers };
}

async function main(): Promise<void> {
  if (impl === 'tigerio') {
    const backend = args.backend ?? IO.backends()[0];
    const io = new IO({ backend });
    const pooled = args.pooled !== undefined;
    // Made before the first figure: the pool's memory is the IO's, not the connections'.
    const pool = pooled ? io.bufferPool({ count: IDLE_POOL_BUFFERS, size: IDLE_POOL_BUFFER_BYTES }) : null;
    await sleep(50);
    const before = snapshot();
    const set = tigerioIdle(io, count, pool);
    await sleep(200); // let the helper settle; nothing is running in the IO
    const after = snapshot();
    set.helper.kill();
    io.deinit();
    report(result(before, after, { backend, pooled, recvBufferBytes: pooled ? 0 : IDLE_BUFFER_BYTES }));
  } else if (impl === 'net') {
    await sleep(50);
    const before = snapshot();
    const set = await netIdle(count);
    await sleep(200);
    const after = snapshot();
    set.helper.kill();
    for (const socket of set.sockets) socket.destroy();
    report(result(before, after, {}));
  } else {
    throw new Error(`unknown --impl ${impl}`);
  }
  setImmediate(() => process.exit(0));
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
