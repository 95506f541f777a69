import { OAuthError, invalidClient, invalidRequest } from './oauth-error.ts';

/** What a token or revocation request says about the client (RFC 6749 §2.3.1). */
export interface PresentedClient {
  clientId: string;
  secret: string;
  /** HTTP Basic was used: a failure answers with a Basic challenge. */
  basic: boolean;
}

/** `application/x-www-form-urlencoded` decoding of one Basic credential part (§2.3.1 asks clients to encode them). */
function formDecode(part: string): string {
  return decodeURIComponent(part.replace(/\+/g, ' '));
}

/**
 * The client credentials of a request, from HTTP Basic or the body (never
 * both: §2.3.1 forbids more than one method). Null when none was presented.
 * Throws an OAuthError for a malformed or ambiguous presentation.
 */
export function readClientCredentials(
  authorization: string | undefined,
  params: Record<string, string>,
): PresentedClient | null {
  const inBody = params.client_id !== undefined || params.client_secret !== undefined;
  if (authorization !== undefined && authorization !== '') {
    const m = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(authorization.trim());
    if (!m) throw invalidClient(true);
    if (params.client_secret !== undefined)
      throw invalidRequest('Use one client authentication method, not HTTP Basic and client_secret');
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw invalidClient(true);
    let clientId: string;
    let secret: string;
    try {
      clientId = formDecode(decoded.slice(0, colon));
      secret = formDecode(decoded.slice(colon + 1));
    } catch {
      throw invalidClient(true);
    }
    if (params.client_id !== undefined && params.client_id !== clientId)
      throw invalidRequest('client_id differs from the authenticated client');
    return { clientId, secret, basic: true };
  }
  if (!inBody) return null;
  if (!params.client_id || params.client_secret === undefined) throw invalidClient(false);
  return { clientId: params.client_id, secret: params.client_secret, basic: false };
}

/**
 * The parameters of a form body, refusing repeated ones (§3.2: "MUST NOT be
 * included more than once") and anything that is not a string.
 */
export function readFormParams(body: unknown): Record<string, string> {
  if (!body || typeof body !== 'object')
    throw invalidRequest('Send the parameters as application/x-www-form-urlencoded');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (Array.isArray(value)) throw invalidRequest(`Parameter ${key} is repeated`);
    if (typeof value !== 'string') throw invalidRequest(`Parameter ${key} is malformed`);
    out[key] = value;
  }
  return out;
}

export { OAuthError };
