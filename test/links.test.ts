// Every relative link and image in the repository's Markdown must lead to a
// file in the repository, and every #anchor into a Markdown file to one of its
// headings: what someone reading a fresh clone (or the repository on GitHub) can follow.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { extname, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import GithubSlugger from 'github-slugger';
import type { Nodes } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Files a clone has: tracked ones, and new ones not ignored (so a link to a file about to be committed passes). */
function repositoryFiles(): Set<string> {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return new Set(out.split('\0').filter((f) => f && existsSync(resolve(ROOT, f))));
}

/** Repository-relative folders that hold at least one of the files (a link may name a folder). */
function foldersOf(files: Iterable<string>): Set<string> {
  const folders = new Set<string>(['']);
  for (const file of files) for (let d = posix.dirname(file); d !== '.'; d = posix.dirname(d)) folders.add(d);
  return folders;
}

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:|^\/\//i;
const HTML_URL = /\b(?:href|src)\s*=\s*["']([^"']*)["']/gi;
const HTML_ANCHOR = /\b(?:id|name)\s*=\s*["']([^"']*)["']/gi;

interface Link {
  url: string;
  line: number;
}

function textOf(node: Nodes): string {
  if ('value' in node && node.type !== 'html') return node.value;
  if (node.type === 'image') return node.alt ?? '';
  return 'children' in node ? node.children.map((c) => textOf(c)).join('') : '';
}

function walk(node: Nodes, visit: (node: Nodes) => void) {
  visit(node);
  if ('children' in node) for (const child of node.children) walk(child, visit);
}

/** The links and images of a Markdown text (inline, reference definitions and raw HTML), and its anchors as GitHub names them. */
function readMarkdown(markdown: string): { links: Link[]; anchors: Set<string> } {
  const links: Link[] = [];
  const anchors = new Set<string>();
  const slugger = new GithubSlugger();
  walk(fromMarkdown(markdown), (node) => {
    const line = node.position?.start.line ?? 0;
    if (node.type === 'link' || node.type === 'image' || node.type === 'definition')
      links.push({ url: node.url, line });
    if (node.type === 'heading') anchors.add(slugger.slug(textOf(node)));
    if (node.type === 'html') {
      for (const [, url] of node.value.matchAll(HTML_URL)) links.push({ url, line });
      for (const [, id] of node.value.matchAll(HTML_ANCHOR)) anchors.add(id);
    }
  });
  return { links, anchors };
}

/** What a link may lead to: the repository's files and folders, and a Markdown file's anchors. */
interface Repository {
  files: Set<string>;
  folders: Set<string>;
  anchorsOf(file: string): Set<string>;
}

/**
 * The relative links of one Markdown file (repository-relative path) that a
 * reader of the repository could not follow, each with the reason.
 */
function brokenLinks(file: string, markdown: string, { files, folders, anchorsOf }: Repository) {
  const broken: string[] = [];
  for (const { url, line } of readMarkdown(markdown).links) {
    if (!url || HAS_SCHEME.test(url)) continue;
    const [rawPath, anchor] = url.split('#', 2) as [string, string | undefined];
    let path: string;
    let heading: string | undefined;
    try {
      path = decodeURIComponent(rawPath.split('?')[0]);
      heading = anchor === undefined ? undefined : decodeURIComponent(anchor).toLowerCase();
    } catch {
      broken.push(`${file}:${line} ${url}: not a valid URL`);
      continue;
    }
    const target = path
      ? posix.normalize(path.startsWith('/') ? path.slice(1) : posix.join(posix.dirname(file), path)).replace(/\/$/, '')
      : file;
    if (target === '..' || target.startsWith('../')) {
      broken.push(`${file}:${line} ${url}: outside the repository`);
    } else if (!files.has(target) && !folders.has(target === '.' ? '' : target)) {
      broken.push(`${file}:${line} ${url}: no such file in the repository`);
    } else if (heading && extname(target).toLowerCase() === '.md' && !anchorsOf(target).has(heading)) {
      broken.push(`${file}:${line} ${url}: ${target} has no heading #${anchor}`);
    }
  }
  return broken;
}

describe('links in the Markdown files', () => {
  it('lead to files in the repository (and to headings that exist)', () => {
    const files = repositoryFiles();
    const markdownFiles = [...files].filter((f) => f.toLowerCase().endsWith('.md'));
    const cache = new Map<string, Set<string>>();
    const anchorsOf = (f: string) => {
      if (!cache.has(f)) cache.set(f, readMarkdown(readFileSync(resolve(ROOT, f), 'utf8')).anchors);
      return cache.get(f)!;
    };
    expect(markdownFiles).toContain('README.md');
    const repository = { files, folders: foldersOf(files), anchorsOf };
    const broken = markdownFiles.flatMap((f) => brokenLinks(f, readFileSync(resolve(ROOT, f), 'utf8'), repository));
    expect(broken, 'links a reader of the repository cannot follow').toEqual([]);
  });

  it('would report a missing file, a path outside the repository and an unknown heading (the check can fail)', () => {
    const files = new Set(['README.md', 'docs/guide.md', 'docs/img/a.png', 'web/src/app.tsx']);
    const anchors: Record<string, string[]> = {
      'docs/guide.md': ['setup', 'apollo-sandbox'],
      'README.md': ['quick-start'],
    };
    const markdown = [
      '# Quick start',
      '[ok](docs/guide.md#setup) [ok](./docs/) [ok](web/src) [ok](#quick-start) [ok](https://example.com/x.md)',
      '![ok](docs/img/a.png) [ok][ref] <img src="docs/img/a.png">',
      '[missing](docs/nope.md) ![missing](docs/img/b.png) <img src="docs/img/c.png">',
      '[outside](../shared/contract/api.graphql) [bad anchor](docs/guide.md#teardown) [bad anchor](#nowhere)',
      '',
      '[ref]: docs/guide.md#apollo-sandbox',
      '[broken ref]: docs/old.md',
      '',
      '```md',
      '[in a code block](not/checked.md)',
      '```',
    ].join('\n');
    const broken = brokenLinks('README.md', markdown, {
      files,
      folders: foldersOf(files),
      anchorsOf: (f) => (f === 'README.md' ? readMarkdown(markdown).anchors : new Set(anchors[f] ?? [])),
    });
    expect(broken).toEqual([
      'README.md:4 docs/nope.md: no such file in the repository',
      'README.md:4 docs/img/b.png: no such file in the repository',
      'README.md:4 docs/img/c.png: no such file in the repository',
      'README.md:5 ../shared/contract/api.graphql: outside the repository',
      'README.md:5 docs/guide.md#teardown: docs/guide.md has no heading #teardown',
      'README.md:5 #nowhere: README.md has no heading #nowhere',
      'README.md:8 docs/old.md: no such file in the repository',
    ]);
  });

  it('names headings as GitHub does', () => {
    const { anchors } = readMarkdown(
      '## Tracing (OpenTelemetry)\n\n### `npm start` on a fresh machine\n\n## Tracing (OpenTelemetry)\n',
    );
    expect([...anchors]).toEqual(['tracing-opentelemetry', 'npm-start-on-a-fresh-machine', 'tracing-opentelemetry-1']);
  });
});
