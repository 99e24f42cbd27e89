// The README's examples must really run: each ```js block that requires
// 'tigerio' runs in a child process against this checkout; so does the
// simulation guide's worked example, whose output the guide shows.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');

function readmeExamples(): string[] {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]);
  return blocks.filter((block) => block.includes("require('tigerio')"));
}

function runExample(source: string): string {
  const program = source.replace("require('tigerio')", `require(${JSON.stringify(root)})`);
  return execFileSync(process.execPath, ['-e', program], { encoding: 'utf8', timeout: 20000 });
}

/** The simulation guide's worked example, and the output the guide says it prints (the plain block after it). */
function simulationExample(): { source: string; printed: string } {
  const guide = fs.readFileSync(path.join(root, 'native', 'backend', 'simulation.md'), 'utf8');
  const example = [...guide.matchAll(/```js\n([\s\S]*?)```/g)].find((match) => match[1].includes('function scenario'));
  const output = example === undefined ? null : /```\n([\s\S]*?)```/.exec(guide.slice(example.index! + example[0].length));
  if (example === undefined || output === null) {
    throw new Error('native/backend/simulation.md has no worked example followed by its output');
  }
  return { source: example[1], printed: output[1] };
}

/** The IO guide's example that drains on SIGTERM (a ```js block that requires 'tigerio'). */
function signalExample(): string {
  const guide = fs.readFileSync(path.join(root, 'io', 'README.md'), 'utf8');
  const example = [...guide.matchAll(/```js\n([\s\S]*?)```/g)].find(
    (match) => match[1].includes("require('tigerio')") && match[1].includes("io.signal('SIGTERM'"),
  );
  if (example === undefined) throw new Error('io/README.md has no example that drains on SIGTERM');
  return example[1];
}

/** One request on a new connection; resolves with the whole reply. */
async function request(port: number): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  let reply = '';
  socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
  await once(socket, 'close');
  return reply;
}

describe('README examples', () => {
  const examples = readmeExamples();

  it('has the quick start and the promise example', () => {
    expect(examples.length).to.be.at.least(2);
  });

  it('quick start echoes a message over TCP', () => {
    expect(runExample(examples[0])).to.equal('echoed: hello, tigerio\n');
  });

  it('promise example writes and reads back a file from an attached IO', () => {
    expect(runExample(examples[1])).to.equal('read back: stored\n');
  });

  it("the simulation guide's worked example finds the bug at the seed, and replays it, as the guide prints", () => {
    const { source, printed } = simulationExample();
    expect(runExample(source)).to.equal(printed);
  });

  it("the IO guide's blocking-run() server answers a connection open at SIGTERM, then exits 0", async function () {
    if (process.platform === 'win32') this.skip(); // no signal can be sent there
    const program = signalExample().replace("require('tigerio')", `require(${JSON.stringify(root)})`);
    const server = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    const guard = setTimeout(() => server.kill('SIGKILL'), 20_000); // hang guard
    try {
      let output = '';
      while (!/listening on \d+\n/.test(output)) {
        const [chunk] = (await once(server.stdout!, 'data')) as [Buffer];
        output += chunk.toString();
      }
      const port = Number(/listening on (\d+)/.exec(output)![1]);
      const client = net.connect(port, '127.0.0.1');
      await once(client, 'connect');
      // A second connection served in full: accepted after the first, so the first is accepted too
      // (one still in the listen backlog at SIGTERM is reset when the listener closes).
      expect(await request(port)).to.match(/ok\n$/);
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      // The connection was open before SIGTERM: it is still served.
      client.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      let reply = '';
      client.on('data', (chunk: Buffer) => (reply += chunk.toString()));
      await once(client, 'close');
      expect(reply).to.match(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok\n$/);
      expect(await exited).to.deep.equal([0, null]);
    } finally {
      clearTimeout(guard);
    }
  });
});
