// The README's quick start, as a user would paste it into a project that
// installed tigerio: verbatim as CommonJS, and with its one require line
// turned into an import for ESM and TypeScript.
import * as fs from 'node:fs';
import * as path from 'node:path';

const REQUIRE_LINE = "const { IO } = require('tigerio');";
const IMPORT_LINE = "import { IO } from 'tigerio';";

/** The quick start: README.md's first ```js block that starts with the require line. */
export function quickStart(repoRoot: string): string {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]);
  const source = blocks.find((block) => block.startsWith(REQUIRE_LINE + '\n'));
  if (source === undefined) {
    throw new Error(`README.md has no \`\`\`js block starting with ${REQUIRE_LINE}; update test/package/quickstart.ts`);
  }
  return source;
}

/** The same program as an ES module (and as TypeScript, which accepts it unchanged). */
export function asModule(source: string): string {
  return IMPORT_LINE + source.slice(REQUIRE_LINE.length);
}
