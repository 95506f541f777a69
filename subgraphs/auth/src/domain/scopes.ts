/** Scope strings, RFC 6749 §3.3: space-separated tokens of printable ASCII without `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The scopes of a `scope` parameter (null: malformed; empty list: absent). */
export function parseScope(raw: string | undefined): string[] | null {
  if (raw === undefined) return [];
  if (raw.length > 2000) return null;
  const tokens = raw.split(' ').filter((t) => t !== '');
  if (!tokens.every((t) => SCOPE_TOKEN.test(t))) return null;
  return [...new Set(tokens)];
}

/**
 * The scopes to grant: all of `allowed` when none are requested, else the
 * requested ones if every one is allowed (null otherwise: invalid_scope).
 * Sorted, so equal grants print equally.
 */
export function grantScopes(requested: string[], allowed: readonly string[]): string[] | null {
  if (requested.length === 0) return [...allowed].sort();
  const permitted = new Set(allowed);
  return requested.every((s) => permitted.has(s)) ? [...requested].sort() : null;
}

export const formatScope = (scopes: readonly string[]) => [...scopes].sort().join(' ');
