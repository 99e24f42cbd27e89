// Reading Markdown as GitHub renders it, for the link check
// (test/docs-links.test.ts): which files there are, the links each holds,
// and the anchors its headings get; and for the examples that must run
// (test/readme.test.ts): its fenced code blocks.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Folders that hold no documentation of ours: dependencies, build output, caches. */
const SKIPPED = new Set(['node_modules', 'dist', 'build', 'prebuilds']);

/** Every .md file under `root`, outside dependencies, build output and dot-folders other than .github. */
export function markdownFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (SKIPPED.has(entry.name)) continue;
        if (entry.name.startsWith('.') && entry.name !== '.github') continue;
        walk(full);
      } else if (entry.isFile() && entry.name.endsWith('.md')) {
        found.push(full);
      }
    }
  };
  walk(root);
  return found.sort();
}

/** A fenced code block. */
export interface CodeBlock {
  /** The fence's info string: the language (`js`, `sh`), or '' for a plain block. */
  info: string;
  /** Its lines, each ending in a newline. */
  text: string;
}

/** The lines of `markdown` outside fenced code blocks, with their 1-based numbers, and the blocks, in order. */
function split(markdown: string): { prose: { text: string; line: number }[]; blocks: CodeBlock[] } {
  const prose: { text: string; line: number }[] = [];
  const blocks: CodeBlock[] = [];
  let fence: string | null = null;
  let block: CodeBlock | null = null;
  markdown.split(/\r?\n/).forEach((text, index) => {
    const opening = /^\s{0,3}(`{3,}|~{3,})\s*(\S*)/.exec(text);
    if (fence === null && opening !== null) {
      fence = opening[1][0].repeat(opening[1].length);
      block = { info: opening[2], text: '' };
    } else if (fence !== null) {
      if (text.trim().startsWith(fence) && text.trim().replace(/[`~]/g, '') === '') {
        fence = null;
        blocks.push(block!);
      } else {
        block!.text += `${text}\n`;
      }
    } else {
      prose.push({ text, line: index + 1 });
    }
  });
  return { prose, blocks };
}

/** The fenced code blocks of `markdown`, in order (a block left open at the end is not one). */
export function codeBlocks(markdown: string): CodeBlock[] {
  return split(markdown).blocks;
}

/** The lines of `markdown` outside fenced code blocks, with their 1-based numbers. */
function proseLines(markdown: string): { text: string; line: number }[] {
  return split(markdown).prose;
}

/** A line without its inline code spans (a link written inside backticks is an example, not a link). */
function withoutCode(text: string): string {
  return text.replace(/(`+)[\s\S]*?\1/g, '');
}

export interface MarkdownLink {
  target: string;
  line: number;
}

/** The targets of inline links, images and reference definitions, outside code. */
export function linksOf(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  for (const { text, line } of proseLines(markdown)) {
    const prose = withoutCode(text);
    for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^()\s<>]+(?:\([^()\s]*\))?)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ target: match[1], line });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(prose);
    if (definition !== null) links.push({ target: definition[1], line });
  }
  return links;
}

/** GitHub's slug of a heading's text: lower case, punctuation dropped, each space a hyphen. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1') // an image: its alt text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link: its text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[`*]/g, '') // code and emphasis marks
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

/** Every anchor of a Markdown file: its headings' slugs (repeats numbered -1, -2, ...) and explicit ids. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (heading !== null) {
      const base = slug(heading[1]);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const id of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id[1]);
  }
  return anchors;
}
