// Every relative link in the repository's Markdown resolves: the file or
// folder it names exists, and its #anchor is a heading (or an explicit
// id) of the Markdown file it points to, slugged as GitHub slugs headings.
// Links to the web (http:, https:, mailto:) are not fetched.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { anchorsOf, linksOf, markdownFiles } from './support/markdown';

const root = path.join(__dirname, '..', '..');

/** What is wrong with one link of `file`, or null when it resolves. */
function brokenReason(file: string, target: string, anchorCache: Map<string, Set<string>>): string | null {
  const hash = target.indexOf('#');
  const linkPath = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
  const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
  const resolved = linkPath === '' ? file : path.resolve(path.dirname(file), linkPath.split('?')[0]);
  if (!resolved.startsWith(root)) return 'points outside the repository';
  if (!fs.existsSync(resolved)) return `${path.relative(root, resolved)} does not exist`;
  if (anchor === null || anchor === '') return null;
  if (!resolved.endsWith('.md')) return null; // #L10 in a source file: GitHub's line anchors
  let anchors = anchorCache.get(resolved);
  if (anchors === undefined) {
    anchors = anchorsOf(fs.readFileSync(resolved, 'utf8'));
    anchorCache.set(resolved, anchors);
  }
  return anchors.has(anchor) ? null : `#${anchor} is not a heading of ${path.relative(root, resolved)}`;
}

describe('documentation links', () => {
  const files = markdownFiles(root);

  it('finds the Markdown files: the README and the guides', () => {
    const names = files.map((file) => path.relative(root, file).split(path.sep).join('/'));
    expect(names).to.include.members(['README.md', 'io/README.md', 'native/README.md', 'server/README.md', 'test/bench/README.md']);
  });

  it('every relative link and #anchor in every Markdown file resolves', () => {
    const anchorCache = new Map<string, Set<string>>();
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const link of linksOf(fs.readFileSync(file, 'utf8'))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue; // http:, https:, mailto:
        checked++;
        const reason = brokenReason(file, link.target, anchorCache);
        if (reason !== null) broken.push(`${path.relative(root, file)}:${link.line}: (${link.target}) ${reason}`);
      }
    }
    expect(checked, 'relative links checked').to.be.greaterThan(10);
    expect(broken, 'broken links').to.deep.equal([]);
  });
});

describe('documentation links: GitHub anchor slugs', () => {
  const slugs = (markdown: string): string[] => [...anchorsOf(markdown)];

  it('lower-cases, drops punctuation and code marks, and turns spaces into hyphens', () => {
    expect(slugs('## Where backends differ: kernel facts only')).to.include('where-backends-differ-kernel-facts-only');
    expect(slugs('### `new IO(options?)`')).to.include('new-iooptions');
    expect(slugs("### A file's operations run in order")).to.include('a-files-operations-run-in-order');
    expect(slugs('## The same benchmarks on a second VM (AMD EPYC, 2026-12-06)')).to.include(
      'the-same-benchmarks-on-a-second-vm-amd-epyc-2026-12-06',
    );
  });

  it('numbers repeated headings -1, -2, and ignores headings inside code blocks', () => {
    expect(slugs('## Notes\n\n## Notes\n\n## Notes\n')).to.have.members(['notes', 'notes-1', 'notes-2']);
    expect(slugs('```sh\n# not a heading\n```\n## Real\n')).to.have.members(['real']);
  });

  it('keeps the text of links and emphasis in a heading, and explicit ids', () => {
    expect(slugs('## See [the guide](x.md) **now**')).to.include('see-the-guide-now');
    expect(slugs('<a id="kept"></a>\n')).to.include('kept');
  });

  it('finds inline, image and reference links, and skips code', () => {
    const targets = linksOf('[a](x.md) ![b](y.svg "title") `[c](no.md)`\n```\n[d](no.md)\n```\n[e]: z.md\n').map((l) => l.target);
    expect(targets).to.have.members(['x.md', 'y.svg', 'z.md']);
  });
});
