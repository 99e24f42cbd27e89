// The README's examples must really run: each ```js block that requires
// 'tigerio' runs in a child process against this checkout; so does the
// simulation guide's worked example, whose output the guide shows.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
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
});
