// A leak planted in the soak's server, to show that `npm run soak`'s memory
// check fails on a small one: test/reliability/soak.ts loads this with
// --require into the server process (Node loads it into each worker thread
// too) only when TIGERIO_SOAK_PLANTED_LEAK_BYTES is set. Each accepted
// connection then keeps that many bytes for good. Test code only: neither
// the server nor the library reads the variable or knows of this file.
import { IO } from '../../../io';

const leakBytes = Number(process.env.TIGERIO_SOAK_PLANTED_LEAK_BYTES ?? '0');
/** The retained bytes live in slabs, so that each connection costs exactly `leakBytes`, not an object's overhead. */
const slabBytes = 64 << 10;
const slabs: Buffer[] = [];
let slabUsedBytes = slabBytes;

/** Keeps `bytes` more, written (a page untouched would not count in RSS). */
function retain(bytes: number): void {
  if (slabUsedBytes + bytes > slabBytes) {
    slabs.push(Buffer.alloc(slabBytes));
    slabUsedBytes = 0;
  }
  slabs[slabs.length - 1].fill(0xa5, slabUsedBytes, slabUsedBytes + bytes);
  slabUsedBytes += bytes;
}

if (Number.isInteger(leakBytes) && leakBytes > 0 && leakBytes <= slabBytes) {
  const accept = IO.prototype.accept;
  IO.prototype.accept = function acceptRetaining(this: IO, fd, callback) {
    return accept.call(this, fd, (error, socket) => {
      if (error === null) retain(leakBytes);
      callback(error, socket);
    });
  };
}
