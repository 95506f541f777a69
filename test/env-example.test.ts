// .env.example is the one list of every environment variable: this test fails
// when the code reads a variable it does not list, or lists a default the code
// does not have. To fix a failure, add the named variable to .env.example as
// `# NAME=<default>` under a one-line comment saying what it does.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LIBRARY_VARIABLES, PROGRAMS } from './support/env-schemas.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Set by the shell or the OS, never by an operator of orderflow. */
const SYSTEM_VARIABLES = new Set(['PATH', 'HOME', 'CI', 'NODE_OPTIONS']);

/** Names listed more than once (the parser keeps the last). */
const duplicates: string[] = [];

/** `# NAME=value` or `NAME=value`, the value unquoted. */
function parseEnvExample(text: string): Map<string, { value: string; comment: string }> {
  const lines = text.split('\n');
  const entries = new Map<string, { value: string; comment: string }>();
  lines.forEach((line, i) => {
    const m = /^#?\s?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) return;
    const value = m[2].trim().replace(/^"(.*)"$/, '$1');
    // The comment above it, or above the group of variables it belongs to.
    let j = i - 1;
    while (j >= 0 && /^#?\s?[A-Z][A-Z0-9_]*=/.test(lines[j])) j--;
    if (entries.has(m[1])) duplicates.push(m[1]);
    entries.set(m[1], { value, comment: j >= 0 && lines[j].startsWith('# ') ? lines[j] : '' });
  });
  return entries;
}

/** Source files of the programs we ship and run (tests and generated code excluded). */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' || name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mjs)$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : [];
  });
}

/** Where the programs we run live: their own source, not tests or generated code. */
const SOURCE_DIRS = [
  'scripts',
  'gateway/src',
  ...['packages', 'subgraphs'].flatMap((d) => readdirSync(join(ROOT, d)).map((name) => `${d}/${name}/src`)),
];
const sources = SOURCE_DIRS.flatMap((d) => sourceFiles(join(ROOT, d))).map((file) => ({
  file: file.slice(ROOT.length + 1),
  text: readFileSync(file, 'utf8'),
}));

/** Variables read outside the config schemas: `process.env.X`, `env.X` (a passed-in environment), `envPort('X', …)`. */
function variablesReadBySource(): Map<string, string> {
  const found = new Map<string, string>();
  const pattern =
    /process\.env\[['"]([A-Z][A-Z0-9_]*)['"]\]|\benv\.([A-Z][A-Z0-9_]*)\b|envPort\(\s*'([A-Z][A-Z0-9_]*)'/g;
  for (const { file, text } of sources) {
    for (const m of text.matchAll(pattern)) {
      const name = m[1] ?? m[2] ?? m[3];
      if (!SYSTEM_VARIABLES.has(name) && !found.has(name)) found.set(name, file);
    }
  }
  return found;
}

const example = parseEnvExample(readFileSync(join(ROOT, '.env.example'), 'utf8'));

describe('.env.example', () => {
  it('lists every variable a config schema reads', () => {
    const missing = Object.entries(PROGRAMS).flatMap(([program, schema]) =>
      Object.keys(schema.shape)
        .filter((name) => !example.has(name))
        .map((name) => `${name} (read by ${program.replace(/index\.ts$/, 'config.ts')})`),
    );
    expect([...new Set(missing)], 'add these variables to .env.example: # NAME=<default>').toEqual([]);
  });

  it('lists every variable the scripts and shared packages read', () => {
    const missing = [...variablesReadBySource()]
      .filter(([name]) => !example.has(name))
      .map(([name, file]) => `${name} (read in ${file})`);
    expect(missing, 'add these variables to .env.example: # NAME=<default>').toEqual([]);
  });

  it('lists every variable docker-compose.yml takes from the environment or .env', () => {
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const read = new Set([...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
    const missing = [...read].filter((name) => !example.has(name));
    expect(missing, 'add these variables to .env.example: # NAME=<default>').toEqual([]);
  });

  it('lists each variable once', () => {
    expect(duplicates).toEqual([]);
  });

  it('gives each variable a one-line comment', () => {
    const bare = [...example].filter(([, e]) => e.comment.length < 10).map(([name]) => name);
    expect(bare, 'variables without a comment line above them').toEqual([]);
  });

  it('shows the default each config schema really has (an empty value means "no single default")', () => {
    const wrong: string[] = [];
    for (const [name, { value }] of example) {
      if (value === '') continue;
      for (const [program, schema] of Object.entries(PROGRAMS)) {
        const field = schema.shape[name] as { safeParse(v: unknown): { success: boolean; data?: unknown } } | undefined;
        if (!field) continue;
        const given = field.safeParse(value);
        const fallback = field.safeParse(undefined);
        if (!given.success || !isDeepStrictEqual(given.data, fallback.data))
          wrong.push(`${name}=${value} is not ${program}'s default (${JSON.stringify(fallback.data)})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lists nothing the code or compose does not read (a typo, or a variable that was removed)', () => {
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const known = new Set([
      ...Object.values(PROGRAMS).flatMap((s) => Object.keys(s.shape)),
      ...variablesReadBySource().keys(),
      ...[...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]),
    ]);
    // A name in quotes counts too: scripts/start.ts reads the subgraphs' ports through a table ('AUTH_PORT').
    const quoted = (name: string) => sources.some(({ text }) => text.includes(`'${name}'`));
    const unknown = [...example.keys()].filter(
      (name) => !known.has(name) && !quoted(name) && !LIBRARY_VARIABLES.test(name),
    );
    expect(unknown).toEqual([]);
  });
});
