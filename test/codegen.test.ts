import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, type CodegenConfig } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config, { subgraphTypesFile } from '../codegen.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Runs codegen in memory: the files it would write, nothing written. */
async function generated(generates: CodegenConfig['generates']) {
  return generate({ ...config, generates, silent: true }, false) as Promise<{ filename: string; content: string }[]>;
}

describe('generated GraphQL types (codegen.ts)', () => {
  it('are committed and up to date with the schemas and operations: otherwise run `npm run codegen`', async () => {
    const files = await generated(config.generates);
    expect(files.map((f) => relative(ROOT, f.filename)).sort()).toEqual(
      Object.keys(config.generates)
        .map((f) => relative(ROOT, f))
        .sort(),
    );
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
});
