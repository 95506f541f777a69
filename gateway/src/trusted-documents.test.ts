import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTrustedDocuments } from './trusted-documents.ts';

const dir = mkdtempSync(join(tmpdir(), 'trusted-documents-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const hex = (text: string) => createHash('sha256').update(text).digest('hex');

describe('loadTrustedDocuments', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads manifests of two releases into one map by hash', () => {
    const a = '{ me { id } }';
    const b = '{ products(first: 1) { totalCount } }';
    const docs = loadTrustedDocuments([
      file('current.json', { [`sha256:${hex(a)}`]: a }),
      file('previous.json', { [hex(b)]: b }),
    ]);
    expect([...docs.entries()]).toEqual([
      [hex(a), a],
      [hex(b), b],
    ]);
  });

  it('refuses a manifest whose ids are not the hashes of their documents, or that cannot be read', () => {
    const a = '{ me { id } }';
    expect(() => loadTrustedDocuments([file('edited.json', { [`sha256:${hex(a)}`]: '{ me { id email } }' })])).toThrow(
      /is not the sha256 of its document/,
    );
    expect(() => loadTrustedDocuments([file('list.json', [a])])).toThrow(/is not an object/);
    expect(() => loadTrustedDocuments([file('broken.json', '{')])).toThrow(/cannot read/);
    expect(() => loadTrustedDocuments([join(dir, 'missing.json')])).toThrow(/cannot read/);
  });
});
