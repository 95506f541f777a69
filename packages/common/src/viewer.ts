import { forbidden, unauthenticated } from './errors.ts';

/** The verified caller of a request, as every subgraph sees it. */
export interface Viewer {
  /** Token subject: the customer id, or the client id for service clients. */
  id: string;
  clientId: string;
  kind: 'customer' | 'client' | 'service';
  scopes: ReadonlySet<string>;
  email?: string;
  /** The access token's `jti`, so a subgraph can revoke the caller's own token (logOut). */
  tokenId?: string;
  /** The access token's `exp` (seconds since the epoch), how long a revocation must be kept. */
  tokenExpiresAt?: number;
}

export function hasScope(viewer: Viewer | null, scope: string): boolean {
  return !!viewer && viewer.scopes.has(scope);
}

/** Throws UNAUTHENTICATED without a viewer, FORBIDDEN without the scope. */
export function requireScope(viewer: Viewer | null, scope: string): Viewer {
  if (!viewer) throw unauthenticated();
  if (!viewer.scopes.has(scope)) throw forbidden(`Missing scope ${scope}`);
  return viewer;
}

export function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw unauthenticated();
  return viewer;
}
