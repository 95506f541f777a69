import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, type CodegenConfig } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config, { WEB_CLIENT_DIR, WEB_MANIFEST, subgraphTypesFile } from '../codegen.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Runs codegen in memory: the files it would write, nothing written. */
async function generated(generates: CodegenConfig['generates']) {
  return generate({ ...config, generates, silent: true }, false) as Promise<{ filename: string; content: string }[]>;
}

/** The files an output of codegen.ts holds on disk: the file itself, or every file of a preset's folder. */
function committed(output: string): string[] {
  if (!output.endsWith('/')) return [output];
  return existsSync(output) ? readdirSync(output).map((f) => join(output, f)) : [];
}

const webClient = config.generates[WEB_CLIENT_DIR] as Record<string, unknown> & { documents: string[] };

describe('generated GraphQL types (codegen.ts)', () => {
  it('are committed and up to date with the schemas and operations: otherwise run `npm run codegen`', async () => {
    const files = await generated(config.generates);
    const expected = Object.keys(config.generates).flatMap(committed);
    expect(files.map((f) => relative(ROOT, f.filename)).sort()).toEqual(expected.map((f) => relative(ROOT, f)).sort());
    const stale = files
      .filter((f) => !existsSync(f.filename) || readFileSync(f.filename, 'utf8') !== f.content)
      .map((f) => relative(ROOT, f.filename));
    expect(stale, 'stale generated files: run `npm run codegen` and commit them').toEqual([]);
  });

  it('would see a schema change (the check above can fail)', async () => {
    const target = subgraphTypesFile('products');
    const original = config.generates[target] as Record<string, unknown>;
    const sdl = readFileSync(resolve(ROOT, 'subgraphs/products/src/schema.graphql'), 'utf8').replace(
      '  isActive: Boolean!\n',
      '  isActive: Boolean!\n  giftWrap: Boolean!\n',
    );
    const [file] = await generated({ [target]: { ...original, schema: sdl } });
    expect(file.content).toContain('giftWrap');
    expect(file.content).not.toBe(readFileSync(target, 'utf8'));
  });

  it('types every operation of the web app: each graphql(`…`) document has its typed document', () => {
    const types = readFileSync(join(WEB_CLIENT_DIR, 'graphql.ts'), 'utf8');
    const typed = new Set([...types.matchAll(/^export const (\w+)Document = /gm)].map((m) => m[1]));
    const operations = readdirSync(resolve(ROOT, 'web/src/graphql')).flatMap((f) => [
      ...readFileSync(resolve(ROOT, 'web/src/graphql', f), 'utf8').matchAll(
        /^\s*(?:query|mutation|subscription) (\w+)/gm,
      ),
    ]);
    expect(operations.length).toBeGreaterThan(10);
    expect(operations.map((m) => m[1]).filter((name) => !typed.has(name))).toEqual([]);
  });

  it('keeps the trusted-document manifest with the operations: sha256 ids, and a changed operation changes it', async () => {
    const manifest = JSON.parse(readFileSync(WEB_MANIFEST, 'utf8')) as Record<string, string>;
    const types = readFileSync(join(WEB_CLIENT_DIR, 'graphql.ts'), 'utf8');
    const embedded = [...types.matchAll(/"__meta__":\{"hash":"(sha256:[0-9a-f]{64})"\}/g)].map((m) => m[1]);
    expect(Object.keys(manifest).sort()).toEqual([...new Set(embedded)].sort());
    for (const [id, text] of Object.entries(manifest))
      expect(id).toBe(`sha256:${createHash('sha256').update(text).digest('hex')}`);
    // A new operation in web/src would be a new manifest entry: the staleness check above sees it.
    const extra = 'query GiftCards { products(first: 1) { totalCount } }';
    const files = await generated({ [WEB_CLIENT_DIR]: { ...webClient, documents: [...webClient.documents, extra] } });
    const regenerated = files.find((f) => f.filename === WEB_MANIFEST)!;
    expect(regenerated.content).toContain('GiftCards');
    expect(regenerated.content).not.toBe(readFileSync(WEB_MANIFEST, 'utf8'));
  });

  it('refuses a web operation that the API schema does not allow, and names the field', async () => {
    const bad = 'query GiftWrapped { products(first: 1) { edges { node { id giftWrap } } } }';
    await expect(
      generated({ [WEB_CLIENT_DIR]: { ...webClient, documents: [...webClient.documents, bad] } }),
    ).rejects.toThrow(/giftWrap/);
  });
});
