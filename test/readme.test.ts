// The README's examples must really run: each ```js block that requires
// 'tigerio' runs in a child process against this checkout; so does the
// simulation guide's worked example, whose output the guide shows.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codeBlocks } from './support/markdown';
import { RawClient } from './server/support';

const root = path.join(__dirname, '..', '..');

/** The ```js blocks of a Markdown file of this checkout. */
function jsBlocks(file: string): string[] {
  return codeBlocks(fs.readFileSync(path.join(root, file), 'utf8'))
    .filter((block) => block.info === 'js')
    .map((block) => block.text);
}

function readmeExamples(): string[] {
  return jsBlocks('README.md').filter((block) => block.includes("require('tigerio')"));
}

/** An example as a program that requires this checkout instead of the installed package. */
function againstCheckout(source: string): string {
  return source.replace("require('tigerio')", `require(${JSON.stringify(root)})`);
}

function runExample(source: string): string {
  return execFileSync(process.execPath, ['-e', againstCheckout(source)], { encoding: 'utf8', timeout: 20000 });
}

/** The simulation guide's worked example, and the output the guide says it prints (the plain block after it). */
function simulationExample(): { source: string; printed: string } {
  const blocks = codeBlocks(fs.readFileSync(path.join(root, 'native', 'backend', 'simulation.md'), 'utf8'));
  const at = blocks.findIndex((block) => block.info === 'js' && block.text.includes('function scenario'));
  const output = at < 0 ? undefined : blocks[at + 1];
  if (output === undefined || output.info !== '') {
    throw new Error('native/backend/simulation.md has no worked example followed by its output');
  }
  return { source: blocks[at].text, printed: output.text };
}

/** The IO guide's example that drains on SIGTERM (a ```js block that requires 'tigerio'). */
function signalExample(): string {
  const example = jsBlocks(path.join('io', 'README.md')).find(
    (block) => block.includes("require('tigerio')") && block.includes("io.signal('SIGTERM'"),
  );
  if (example === undefined) throw new Error('io/README.md has no example that drains on SIGTERM');
  return example;
}

/** Sends one request on `client` and half-closes; resolves with the whole reply once the server closes. */
async function reply(client: RawClient): Promise<string> {
  client.socket.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.waitClosed();
  return client.data.toString();
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
    const server = spawn(process.execPath, ['-e', againstCheckout(signalExample())], { stdio: ['ignore', 'pipe', 'inherit'] });
    const guard = setTimeout(() => server.kill('SIGKILL'), 20_000); // hang guard
    try {
      let output = '';
      while (!/listening on \d+\n/.test(output)) {
        const [chunk] = (await once(server.stdout!, 'data')) as [Buffer];
        output += chunk.toString();
      }
      const port = Number(/listening on (\d+)/.exec(output)![1]);
      const client = await RawClient.connect(port);
      // A second connection served in full: accepted after the first, so the first is accepted too
      // (one still in the listen backlog at SIGTERM is reset when the listener closes).
      expect(await reply(await RawClient.connect(port))).to.match(/ok\n$/);
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      // The connection was open before SIGTERM: it is still served.
      expect(await reply(client)).to.match(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok\n$/);
      expect(await exited).to.deep.equal([0, null]);
    } finally {
      clearTimeout(guard);
    }
  });
});
