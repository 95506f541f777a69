import { useSyncExternalStore } from 'react';

/**
 * Routes live in the URL's hash (#/orders/42), so the built app needs no
 * server-side fallback: whatever serves web/dist at / serves every page.
 */
function currentPath() {
  return window.location.hash.replace(/^#/, '') || '/';
}

function subscribe(listener: () => void) {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, currentPath);
}

export function navigate(path: string) {
  window.location.hash = path;
}

export const href = (path: string) => `#${path}`;

/** `/orders/:id` against `/orders/abc` → { id: 'abc' }; null when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const a = path.split('?')[0].split('/');
  if (p.length !== a.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(a[i]);
    else if (p[i] !== a[i]) return null;
  }
  return params;
}

/** The query string of the hash route (#/login?next=/cart). */
export function routeQuery(path: string): URLSearchParams {
  return new URLSearchParams(path.split('?')[1] ?? '');
}
