// The web app that the gateway serves at `/` (gateway/src/web-app.ts), built
// by `npm start` when its build is missing or older than its sources.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** What `npm start` found or did; `dist` has an index.html unless `failed` or `absent`. */
export type WebBuild =
  { state: 'absent' } | { state: 'fresh' | 'built'; dist: string } | { state: 'failed'; reason: string };

/** Files whose change needs a new build, besides everything under web/src. */
const INPUTS = ['index.html', 'vite.config.ts', 'package.json', 'tsconfig.json'];

function newestInput(web: string): number {
  let newest = 0;
  const src = join(web, 'src');
  const files = [
    ...INPUTS.map((f) => join(web, f)),
    ...(existsSync(src)
      ? readdirSync(src, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => join(e.parentPath, e.name))
      : []),
  ];
  for (const file of files) if (existsSync(file)) newest = Math.max(newest, statSync(file).mtimeMs);
  return newest;
}

/** Whether `<web>/dist` is missing or older than a source of the app. */
export function isWebBuildStale(web: string): boolean {
  const index = join(web, 'dist', 'index.html');
  return !existsSync(index) || statSync(index).mtimeMs < newestInput(web);
}

/**
 * Runs `npm run build -w web` when `<root>/web` exists and its dist/ is
 * missing or stale, relaying the output through `print`. A failed build is
 * reported, not thrown: the API is usable without the web app.
 */
export async function buildWebIfStale({
  root,
  print,
}: {
  root: string;
  print: (line: string) => void;
}): Promise<WebBuild> {
  const web = join(root, 'web');
  if (!existsSync(join(web, 'package.json'))) return { state: 'absent' };
  const dist = join(web, 'dist');
  if (!isWebBuildStale(web)) return { state: 'fresh', dist };
  print(
    existsSync(join(dist, 'index.html'))
      ? 'web/src changed since the last build: building the web app…'
      : 'building the web app (npm run build -w web)…',
  );
  const code = await new Promise<number | string>((done) => {
    const child = spawn('npm', ['run', 'build', '-w', 'web', '--', '--logLevel', 'warn'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', print);
    child.on('error', (err) => done(err.message));
    child.on('close', (exit) => done(exit ?? 'killed'));
  });
  if (code !== 0) return { state: 'failed', reason: typeof code === 'string' ? code : `exit code ${code}` };
  print('web app built into web/dist');
  return { state: 'built', dist };
}
