// The HTTP server under arbitrary and mutated byte streams (see
// support/server-fuzz.ts), on every backend: a short run here (a few
// seconds each), `npm run fuzz` for long. TIGERIO_FUZZ_SEED replays.
import { expect } from 'chai';
import { IO } from '../../io';
import { killAll, request, startServer, type ServerProcess } from '../server/support';
import { checkResponses, FUZZ_SERVER_CONFIGURATIONS, fuzzServer } from './support/server-fuzz';

describe('reliability: fuzzing the HTTP server', () => {
  it('the response checker accepts responses and HEAD heads, and rejects garbage and cut-off bodies', () => {
    const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n';
    expect(checkResponses(Buffer.from(''))).to.equal(null);
    expect(checkResponses(Buffer.from(ok + head + ok))).to.equal(null);
    expect(checkResponses(Buffer.from(ok + 'garbage'))).to.match(/no end of head|bad status/);
    expect(checkResponses(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel'))).to.match(/cut off/);
  });

  // The server runs as a child process that real TCP clients reach: not on
  // 'simulation', whose sockets exist only inside its world (the server
  // under the simulation has its own test, test/simulation/server.test.ts).
  for (const backend of IO.backends().filter((name) => name !== 'simulation')) for (const { name, flags } of FUZZ_SERVER_CONFIGURATIONS) {
    describe(`${backend}${name}`, () => {
      let server: ServerProcess;
      before(async () => {
        server = await startServer([...flags, '--backend', backend]);
      });
      after(async () => {
        if (server !== undefined) await server.stop('SIGTERM').catch(() => killAll());
      });

      it('never crashes or hangs, and answers every stream with valid responses or a close', async function () {
        const seconds = Number(process.env.TIGERIO_FUZZ_SECONDS ?? 3);
        this.timeout(seconds * 1000 + 30_000);
        const seed = Number(process.env.TIGERIO_FUZZ_SEED ?? (Date.now() & 0x7fffffff));
        const summary = await fuzzServer({ port: server.port, seed, cases: Number(process.env.TIGERIO_FUZZ_RUNS ?? 1e9), seconds });
        expect(summary.cases).to.be.greaterThan(0);
        // Still alive and serving (if not, say how the server process is, for the replay).
        const response = await request(server.port, { path: '/' }).catch((error: Error) => {
          throw new Error(
            `after ${summary.cases} cases (seed ${seed}), GET / failed: ${error.message}; ` +
              `server exit code ${server.child.exitCode}, signal ${server.child.signalCode}, stderr: ${server.stderr() || '(empty)'}`,
          );
        });
        expect(response.status).to.equal(200);
        expect(server.child.exitCode, `server stderr: ${server.stderr()}`).to.equal(null);
      });
    });
  }
});
