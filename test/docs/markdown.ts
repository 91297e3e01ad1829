/**
 * The Markdown the docs tests read: which pages there are, their fenced blocks (with the info string's
 * language and tags), their links, and the anchors GitHub gives their headings.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** README.md, ARCHITECTURE.md, src/pipeline/ARCHITECTURE.md and docs/**\/*.md, relative to the repo. */
export function docPages(root = REPO_ROOT): string[] {
  const pages = ['README.md', 'ARCHITECTURE.md', 'src/pipeline/ARCHITECTURE.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.md')) pages.push(rel);
    }
  };
  walk('docs');
  return pages.filter((p) => existsSync(path.join(root, p)));
}

export interface Block {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  /** The info string's words after the language, e.g. `output`, `systemd`, `no-check:`. */
  tags: string[];
  /** Text after `no-check:`, the reason the block is not checked. */
  noCheck?: string;
  text: string;
}

/** Fenced blocks (``` only, indented ones in list items too), in page order. */
export function fencedBlocks(page: string, markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(.*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const indent = open[1]?.length ?? 0;
    const info = (open[2] ?? '').trim();
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] ?? ''); j++)
      body.push((lines[j] ?? '').slice(indent));
    const [lang = '', ...rest] = info.split(/\s+/);
    const reasonAt = info.indexOf('no-check:');
    blocks.push({
      page,
      line: i + 1,
      lang,
      tags: rest,
      ...(reasonAt >= 0 ? { noCheck: info.slice(reasonAt + 'no-check:'.length).trim() } : {}),
      text: `${body.join('\n')}\n`,
    });
    i = j;
  }
  return blocks;
}

/** The page without its fenced blocks and inline code, where links and headings are read. */
function prose(markdown: string): string {
  return markdown.replace(/^\s*```[\s\S]*?^\s*```\s*$/gm, '').replace(/`[^`\n]*`/g, '``');
}

export interface Link {
  page: string;
  target: string;
}

/** Every Markdown link `[text](target)` outside code. */
export function links(page: string, markdown: string): Link[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => ({
    page,
    target: m[1] as string,
  }));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to `-`, repeats numbered. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const text = markdown.replace(/^\s*```[\s\S]*?^\s*```\s*$/gm, '');
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = (m[1] as string)
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Why a relative link does not resolve, or undefined when it does (web links are not fetched). */
export function brokenLink(link: Link, root = REPO_ROOT): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) return undefined;
  const [file = '', anchor] = link.target.split('#');
  const target = file
    ? path.join(path.dirname(path.join(root, link.page)), decodeURI(file))
    : path.join(root, link.page);
  if (!target.startsWith(root)) return `${link.target} points outside the repository`;
  if (!existsSync(target)) return `${link.target}: no such file`;
  if (anchor === undefined || anchor === '') return undefined;
  if (statSync(target).isDirectory() || !target.endsWith('.md'))
    return `${link.target}: an anchor into a non-Markdown file`;
  if (!anchors(readFileSync(target, 'utf8')).has(anchor))
    return `${link.target}: no heading has the anchor #${anchor}`;
  return undefined;
}
