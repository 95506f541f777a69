import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type Response } from 'express';

/** The gateway's own routes: never answered with the web app's index.html. */
const GATEWAY_PATHS = /^\/(graphql|oauth|\.well-known|health|metrics)(\/|$)/;

/**
 * Vite names every file under assets/ by its content hash, so a browser may
 * keep them for good; index.html names the current ones, so it is revalidated
 * on every load (a new build is seen at once).
 */
function setCacheHeaders(res: Response, path: string) {
  res.setHeader('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
}

/**
 * Serves a built single-page app (web/dist) on the gateway's origin: its files
 * at `/`, and index.html for any other page a browser navigates to (a GET
 * that asks for text/html), except the gateway's own routes. Returns null when
 * `distDir` holds no index.html: the gateway then serves only the API.
 */
export function createWebApp({ distDir }: { distDir: string }): express.Router | null {
  const root = resolve(distDir);
  const index = join(root, 'index.html');
  if (!existsSync(index)) return null;
  const router = express.Router();
  router.use(express.static(root, { setHeaders: setCacheHeaders }));
  router.use((req, res, next) => {
    if (
      (req.method !== 'GET' && req.method !== 'HEAD') ||
      GATEWAY_PATHS.test(req.path) ||
      !req.headers.accept?.includes('text/html')
    )
      return next();
    res.sendFile(index, { headers: { 'cache-control': 'no-cache' } });
  });
  return router;
}
