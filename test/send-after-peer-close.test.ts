// A send to a peer that has closed must end: with bytes sent (the kernel
// took them before it learned of the close), then an error on a later send,
// or with ECONNRESET/EPIPE at once. Never a callback that does not come
// (IOCP under Wine once left a 1 MiB send pending for good).
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { runUntil, submit, succeed } from './support/run';
import { connectedPair } from './support/sockets';

const PEER_GONE = ['ECONNRESET', 'EPIPE', 'ECONNABORTED'];
const SENDS_MAX = 64; // 64 MiB: far past any socket buffer

forEachBackend('send after the peer closed', (scope) => {
  for (const size of [1 << 20, 64 << 10]) {
    it(`a ${size >> 10} KiB send right after the peer closed completes, and sending on fails with the peer's reset`, function () {
      const io = scope.create();
      const { client, server } = connectedPair(io);
      succeed(io, 'close', (callback) => io.close(server, callback));
      const buffer = Buffer.alloc(size, 0x61);
      let failure: string | null = null;
      for (let round = 0; round < SENDS_MAX && failure === null; round++) {
        const send = submit((callback) => io.send(client, buffer, callback));
        runUntil(io, () => send.done, `send ${round} after the peer's close`);
        expect(send.calls).to.equal(1);
        if (send.error !== null) {
          failure = send.error.code;
        } else {
          expect(send.result).to.be.within(1, size);
        }
      }
      expect(failure, `an error within ${SENDS_MAX} sends`).to.not.equal(null);
      expect(PEER_GONE).to.include(failure);
    });
  }
});
