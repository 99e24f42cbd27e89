// The CLI as a user runs it: --help, bad flags, the startup line, signals,
// graceful shutdown with requests in flight and under load.
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { expect } from 'chai';
import { MAX_CONNECTIONS_LIMIT } from '../../server/limits';
import { FLAGS } from '../../server/options';
import { delay, ipv6LoopbackAvailable, killAll, RawClient, request, runCli, startServer, untilRefused, within } from './support';

const HELLO = 'Hello, World!';

describe('server: CLI', function () {
  this.timeout(60_000);
  afterEach(killAll);

  it('--help documents every flag and exits 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).to.equal(0);
    for (const flag of FLAGS) expect(stdout).to.include(`--${flag.name}`);
    expect(stdout).to.match(/Usage: tigerio-server \[flags\].*npm start -- \[flags\]/);
    for (const route of ['/json', '/echo']) expect(stdout).to.include(route);
  });

  it('`npm start -- --help` works', async () => {
    const root = path.join(__dirname, '..', '..', '..');
    const result = await within(
      new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile('npm', ['start', '--silent', '--', '--help'], { cwd: root, encoding: 'utf8' }, (error, stdout) =>
          resolve({ code: error === null ? 0 : 1, stdout }),
        ),
      ),
      30_000,
      'npm start -- --help',
    );
    expect(result.code).to.equal(0);
    expect(result.stdout).to.include('--threads');
  });

  // One test per case: each spawns a server process, and under ASan (with
  // its leak check at every exit) one process takes seconds, so a table of
  // them in one test outgrew one test's time limit on a loaded machine.
  const badFlags: [string[], RegExp][] = [
    [['--port', 'abc'], /--port must be an integer in 0\.\.65535, got 'abc'/],
    [['--port', '70000'], /--port must be an integer/],
    [['--threads', '0'], /--threads must be an integer in 1\.\.256/],
    [['--frobnicate'], /unknown flag --frobnicate/],
    [['--port'], /--port needs a value/],
    [['--host', 'localhost'], /--host must be an IPv4 or IPv6 address literal/],
    [['--accept-mode', 'maybe'], /--accept-mode must be 'reuseport' or 'single'/],
    [['--root', '/nonexistent/tigerio'], /--root \/nonexistent\/tigerio: ENOENT/],
    [['--backend', 'nope'], /--backend nope is not available here; available: /],
    [['--header-timeout-ms', '-5'], /--header-timeout-ms must be an integer/],
    [['stray'], /unexpected argument 'stray': every flag starts with --/],
  ];
  for (const [args, message] of badFlags) {
    it(`rejects \`${args.join(' ')}\` with a clear message and status 2`, async () => {
      const { code, stderr } = await runCli(args);
      expect(code, args.join(' ')).to.equal(2);
      expect(stderr, args.join(' ')).to.match(message);
      expect(stderr).to.include('--help');
    });
  }

  const mistypedFlags: [string[], RegExp][] = [
    [['--prot', '80'], /unknown flag --prot; did you mean --port\?/],
    [['--max-connections', '200000'], new RegExp(`--max-connections must be an integer in 1\\.\\.${MAX_CONNECTIONS_LIMIT}, got '200000'`)],
    [['--quiet=yes'], /--quiet takes no value; write --quiet alone/],
    [['--port', '1', '--port', '2'], /--port given twice; give it once/],
  ];
  for (const [args, message] of mistypedFlags) {
    it(`says how to fix \`${args.join(' ')}\` (a mistyped, repeated or valued flag, or past the largest --max-connections)`, async () => {
      const { code, stderr } = await runCli(args);
      expect(code, args.join(' ')).to.equal(2);
      expect(stderr, args.join(' ')).to.match(message);
    });
  }

  it('--port in use: exits 1 saying so', async () => {
    const first = await startServer(['--port', '0', '--threads', '1', '--accept-mode', 'single']);
    const { code, stderr } = await runCli(['--port', String(first.port), '--threads', '1', '--accept-mode', 'single']);
    expect(code).to.equal(1);
    expect(stderr).to.match(/EADDRINUSE: something else listens on that port; stop it, or choose another --port/);
    await first.stop();
  });

  it('starts with the largest --max-connections, which its IO can carry', async () => {
    const server = await startServer(['--port', '0', '--threads', '1', '--max-connections', String(MAX_CONNECTIONS_LIMIT)]);
    expect((await request(server.port, { path: '/' })).body.toString()).to.equal(HELLO);
    await server.stop();
  });

  it('--threads 1, --backend and --host ::1 show in the startup line', async function () {
    const backends = await new Promise<string>((resolve) =>
      execFile(process.execPath, ['-e', `console.log(require(${JSON.stringify(path.join(__dirname, '..', '..', 'io'))}).IO.backends()[0])`], { encoding: 'utf8' }, (_e, out) => resolve(out.trim())),
    );
    // Whether ::1 exists is asked of node:net on its own, so that a server
    // that fails to start on ::1 fails this test instead of skipping it.
    if (!(await ipv6LoopbackAvailable())) this.skip(); // no IPv6 loopback on this machine
    const server = await startServer(['--port', '0', '--threads', '1', '--backend', backends, '--host', '::1']);
    expect(server.startupLine).to.match(new RegExp(`listening on http://\\[::1\\]:\\d+ \\(backend ${backends}, 1 thread, accept`));
    await server.stop();
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} with no connections: exits 0`, async () => {
      const server = await startServer(['--port', '0', '--threads', '2']);
      expect((await request(server.port, { path: '/' })).body.toString()).to.equal(HELLO);
      const exit = await server.stop(signal);
      expect(exit.code).to.equal(0);
    });
  }

  for (const mode of ['reuseport', 'single'] as const) {
    it(`SIGTERM: stops accepting, finishes the request in flight, closes idle connections, exits 0 (accept-mode ${mode})`, async () => {
      const server = await startServer(['--port', '0', '--threads', '2', '--accept-mode', mode, '--shutdown-timeout-ms', '5000']);
      const port = server.port;
      const idle = await RawClient.connect(port);
      idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await idle.responses(1);
      // A request half sent when the signal comes. A whole request in the
      // same write goes first: its response shows the server has read (and
      // parsed) the half request too, with no sleep.
      const busy = await RawClient.connect(port);
      busy.write('GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello');
      await busy.responses(1);
      server.child.kill('SIGTERM');
      await idle.waitClosed(); // idle: closed at once
      await untilRefused(port); // no accept path is left open...
      // ...and both workers have begun draining (each says so once it has).
      await server.stderrMatches(/\[0\]: shutting down[\s\S]*\[1\]: shutting down|\[1\]: shutting down[\s\S]*\[0\]: shutting down/);
      busy.write('world');
      const rs = await busy.responses(2);
      expect(rs[1].status).to.equal(200);
      expect(rs[1].body.toString()).to.equal('helloworld');
      expect(rs[1].headers.connection).to.equal('close');
      await busy.waitClosed();
      const exit = await within(server.exited, 15_000, 'exit');
      expect(exit.code).to.equal(0);
      // Nobody listens any more.
      const refused = await request(port, { path: '/' }, 5000).then(() => null, (e: NodeJS.ErrnoException) => e.code);
      expect(refused).to.equal('ECONNREFUSED');
    });
  }

  it('shutdown deadline: a request that never completes does not keep the server up', async () => {
    const server = await startServer(['--port', '0', '--threads', '2', '--shutdown-timeout-ms', '500', '--header-timeout-ms', '60000']);
    const stuck = await RawClient.connect(server.port);
    // A whole request, then one that never gets its blank line; the first
    // response shows the server holds the second.
    stuck.write('GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n');
    await stuck.responses(1);
    const exit = await server.stop('SIGTERM', 15_000);
    expect(exit.code).to.equal(0);
    await stuck.waitClosed();
    expect(server.stderr()).to.match(/closing 1 connection/);
  });

  for (const mode of ['reuseport', 'single'] as const) {
    it(`SIGTERM during load: every completed response is correct, and the server exits 0 (accept-mode ${mode})`, async () => {
      const server = await startServer(['--port', '0', '--threads', '2', '--accept-mode', mode, '--quiet']);
      const port = server.port;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
      let ok = 0;
      const failures: string[] = [];
      let stop = false;
      const loop = async (i: number): Promise<void> => {
        while (!stop) {
          try {
            const res = await request(port, { path: i % 2 ? '/json' : '/', agent }, 10_000);
            expect(res.status).to.equal(200);
            expect(res.body.toString()).to.equal(i % 2 ? JSON.stringify({ message: HELLO }) : HELLO);
            ok++;
          } catch (error) {
            if ((error as Error).name === 'AssertionError') throw error;
            // Connection closed or refused by the shutdown: expected. Kept
            // to be checked below (a hang or a garbled response is not).
            failures.push((error as NodeJS.ErrnoException).code ?? (error as Error).message);
            await delay(10);
          }
        }
      };
      const loops = Array.from({ length: 20 }, (_, i) => loop(i));
      // Under load: wait for a number of answers, not for a time.
      await within(
        (async () => {
          while (ok < 200) await new Promise((resolve) => setTimeout(resolve, 5));
        })(),
        30_000,
        '200 responses before the signal',
      );
      const okBefore = ok;
      const exit = await server.stop('SIGTERM', 20_000);
      stop = true;
      await within(Promise.all(loops), 20_000, 'load loops to end');
      agent.destroy();
      expect(okBefore).to.be.at.least(200);
      expect(exit.code).to.equal(0);
      // A request that failed did so because the connection was closed or
      // refused: never a timeout (a hung request) or a parse error (a
      // response cut or garbled by the shutdown).
      const allowed = ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'socket hang up'];
      expect(failures.filter((f) => !allowed.includes(f)), failures.join(', ')).to.deep.equal([]);
      // And the server really is gone.
      const after = await request(port, { path: '/' }, 5000).then(() => null, (e: NodeJS.ErrnoException) => e.code);
      expect(after).to.equal('ECONNREFUSED');
    });
  }
});
