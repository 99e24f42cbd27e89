// An fd accepted by one IO and closed by another (a server's acceptor hands
// sockets to workers) is no longer the first IO's: its deinit must not close
// whatever the number has been given to since.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { forEachBackend } from './support/backends';
import { succeed } from './support/run';
import { connectedPair } from './support/sockets';

forEachBackend('fd ownership across IOs', (scope) => {
  it('does not close at deinit an fd it accepted that another IO has closed', function () {
    // A node:fs descriptor is a CRT descriptor on Windows, not a handle: this
    // needs the two numbering schemes to be one, as they are on POSIX.
    if (process.platform === 'win32') this.skip();
    const acceptor = scope.create();
    const worker = scope.create();
    const pair = connectedPair(acceptor);
    succeed(worker, 'close of the accepted fd by another IO', (callback) => worker.close(pair.server, callback));
    const victimPath = path.join(os.tmpdir(), `tigerio-fd-ownership-${process.pid}-${scope.backend}`);
    const victim = fs.openSync(victimPath, 'w');
    try {
      acceptor.deinit();
      // Whatever number the victim got (often the one just freed), it is still open.
      expect(() => fs.fstatSync(victim)).to.not.throw();
      expect(fs.writeSync(victim, 'still mine')).to.equal(10);
    } finally {
      fs.closeSync(victim);
      fs.rmSync(victimPath, { force: true });
    }
  });
});
