// `npm run build`: every program we ship, compiled to plain JavaScript that
// Node runs without tsx (the Docker image runs these). One ES module bundle per
// program, beside its source: gateway/dist/index.js, subgraphs/<name>/dist/index.js,
// scripts/dist/mail-sink.js. Our own workspace packages (@orderflow/*) and the
// generated Prisma clients are compiled in; every npm dependency stays an
// import of node_modules, installed in the image with `npm ci --omit=dev`.
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Program {
  /** The TypeScript entry point. */
  entry: string;
  /** Where its bundle goes; the bundle is `<outdir>/<entry's name>.js`. */
  outdir: string;
  /** Files the program reads next to itself at run time (`new URL('./x', import.meta.url)`), copied beside the bundle. */
  assets: string[];
}

/**
 * What the image runs. A subgraph's bundle sits in `subgraphs/<name>/dist/`,
 * one folder below `src/` like its source, so the paths it resolves from its
 * own location (`../prisma/migrations`, the gateway's `../../web/dist` and
 * `../../schema/supergraph.graphql`) stay true; its SDL is copied beside it.
 */
export function programs(root = ROOT): Program[] {
  const subgraphs = readdirSync(join(root, 'subgraphs')).filter((name) =>
    existsSync(join(root, 'subgraphs', name, 'src', 'index.ts')),
  );
  return [
    { entry: 'gateway/src/index.ts', outdir: 'gateway/dist', assets: [] },
    ...subgraphs.map((name) => ({
      entry: `subgraphs/${name}/src/index.ts`,
      outdir: `subgraphs/${name}/dist`,
      assets: [`subgraphs/${name}/src/schema.graphql`],
    })),
    { entry: 'scripts/mail-sink.ts', outdir: 'scripts/dist', assets: [] },
  ];
}

/** npm packages stay imports (resolved in node_modules at run time); our workspaces are compiled in. */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@orderflow/') ? undefined : { path: args.path, external: true },
    );
  },
};

export async function buildPrograms(root = ROOT, log: (line: string) => void = console.log): Promise<void> {
  for (const program of programs(root)) {
    const outdir = join(root, program.outdir);
    rmSync(outdir, { recursive: true, force: true });
    await build({
      absWorkingDir: root,
      entryPoints: [program.entry],
      outdir,
      bundle: true,
      // Chunks keep the entry's dynamic imports lazy: index.ts starts OpenTelemetry before the
      // modules it instruments are imported, and a single file would import them all first.
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      // The source files' own names in stack traces.
      keepNames: true,
      logLevel: 'warning',
      plugins: [externalPackages],
    });
    for (const asset of program.assets) copyFileSync(join(root, asset), join(outdir, asset.split('/').pop()!));
    log(`built ${relative(root, join(outdir, program.entry.split('/').pop()!.replace(/\.ts$/, '.js')))}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildPrograms();
