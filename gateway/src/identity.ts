import type { IncomingHttpHeaders } from 'node:http';
import { CUSTOMER_SCOPES, SCOPES, badInput, type Viewer } from '@orderflow/common';

/**
 * Who is calling. The one seam between transport and identity: everything
 * downstream sees only the Viewer this returns (signed into the internal
 * token by the data source).
 *
 * Until OAuth2 tokens land, a development-only header names the customer:
 * `x-dev-customer-id: <id>` (customer scopes) and optionally
 * `x-dev-scopes: "products:write inventory:write"` for operator calls. In
 * production these headers are ignored.
 */
export const DEV_CUSTOMER_HEADER = 'x-dev-customer-id';
export const DEV_SCOPES_HEADER = 'x-dev-scopes';
export const DEV_EMAIL_HEADER = 'x-dev-customer-email';
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}$/;

const ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const KNOWN_SCOPES = new Set<string>(SCOPES);

export function createIdentityResolver({ allowDevHeaders }: { allowDevHeaders: boolean }) {
  return function resolveViewer(headers: IncomingHttpHeaders): Viewer | null {
    if (!allowDevHeaders) return null;
    const id = headers[DEV_CUSTOMER_HEADER];
    if (typeof id !== 'string') return null;
    if (!ID.test(id)) throw badInput(`${DEV_CUSTOMER_HEADER} must be 1-128 letters, digits or ._:@-`);
    const raw = headers[DEV_SCOPES_HEADER];
    const scopes = typeof raw === 'string' ? raw.split(/\s+/).filter(Boolean) : CUSTOMER_SCOPES;
    const unknown = scopes.filter((s) => !KNOWN_SCOPES.has(s));
    if (unknown.length) throw badInput(`Unknown scope ${unknown[0]}`);
    const email = headers[DEV_EMAIL_HEADER];
    if (email !== undefined && (typeof email !== 'string' || !EMAIL.test(email))) throw badInput(`${DEV_EMAIL_HEADER} is not an email address`);
    return { id, clientId: 'development', kind: 'customer', scopes: new Set(scopes), ...(email ? { email } : {}) };
  };
}
