import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildWebIfStale, isWebBuildStale } from './web-build.ts';

describe('when npm start rebuilds the web app', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** A web/ folder whose sources and build were last written at the given times (seconds). */
  function webFolder({ source, build }: { source: number; build?: number }) {
    const root = mkdtempSync(join(tmpdir(), 'orderflow-webbuild-'));
    dirs.push(root);
    const web = join(root, 'web');
    mkdirSync(join(web, 'src', 'pages'), { recursive: true });
    const page = join(web, 'src', 'pages', 'catalog-page.tsx');
    writeFileSync(join(web, 'package.json'), '{}');
    writeFileSync(page, 'export {}');
    utimesSync(join(web, 'package.json'), 1_000, 1_000);
    utimesSync(page, source, source);
    if (build !== undefined) {
      mkdirSync(join(web, 'dist'));
      writeFileSync(join(web, 'dist', 'index.html'), '<!doctype html>');
      utimesSync(join(web, 'dist', 'index.html'), build, build);
    }
    return { root, web };
  }

  it('builds when there is no build yet', () => {
    expect(isWebBuildStale(webFolder({ source: 2_000 }).web)).toBe(true);
  });

  it('builds when a source file, however deep, is newer than the build', () => {
    expect(isWebBuildStale(webFolder({ source: 3_000, build: 2_000 }).web)).toBe(true);
  });

  it('keeps a build newer than every source', async () => {
    const { root, web } = webFolder({ source: 2_000, build: 3_000 });
    expect(isWebBuildStale(web)).toBe(false);
    expect(await buildWebIfStale({ root, print: () => {} })).toEqual({ state: 'fresh', dist: join(web, 'dist') });
  });

  it('does nothing without a web/ folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'orderflow-webbuild-'));
    dirs.push(root);
    expect(await buildWebIfStale({ root, print: () => {} })).toEqual({ state: 'absent' });
  });
});
