import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ErrorCode } from '@orderflow/contracts';

/**
 * Trusted documents: the operations of our own web app, known at build time
 * (codegen's persisted documents, `web/src/gql/persisted-documents.json`:
 * `"sha256:<hex>"` → the operation's text), accepted by id.
 *
 * - **Everyone** may send a listed operation by id alone, without its text:
 *   Apollo's automatic persisted queries format
 *   (`extensions.persistedQuery.sha256Hash`) or the GraphQL-over-HTTP
 *   proposal's `documentId` (`"sha256:<hex>"`). The gateway runs the
 *   manifest's text, as if the client had sent it.
 * - **First-party clients** (the OAuth client ids of `enforcedClients`, read
 *   from the verified access token: a header anyone could set or leave
 *   out) may send nothing else when `enforce` is on (production): a request
 *   with a document, or with an id the manifest does not list, is refused
 *   with PERSISTED_QUERY_NOT_LISTED before it is parsed. Someone holding a
 *   customer's token can then run only what the storefront runs.
 * - **Everyone else** (third-party clients, anonymous callers, and
 *   first-party clients outside production, Apollo Sandbox included) keeps
 *   full GraphQL under the usual limits, and automatic persisted queries as
 *   Apollo Server answers them (an unknown hash: PERSISTED_QUERY_NOT_FOUND,
 *   then hash and text register it).
 *
 * WebSocket subscriptions are not covered: graphql-ws sends the text.
 */
export type TrustedDocuments = ReadonlyMap<string, string>;

export interface TrustedDocumentOptions {
  /** sha256 (hex) → operation text. */
  documents: TrustedDocuments;
  /** OAuth client ids that may run only trusted documents, sent by id. */
  enforcedClients: ReadonlySet<string>;
  /** Whether `enforcedClients` are held to the manifest (production). */
  enforce: boolean;
  /** Called for each refused request (metrics). */
  onRefused?: () => void;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const HEX = /^[0-9a-f]{64}$/;

/** `sha256:<hex>` or `<hex>` → `<hex>`; anything else → null. */
function hashOf(id: unknown): string | null {
  if (typeof id !== 'string') return null;
  const hex = id.startsWith('sha256:') ? id.slice(7) : id;
  return HEX.test(hex) ? hex : null;
}

/**
 * Reads manifests (codegen's `persisted-documents.json`: `"sha256:<hex>"` →
 * text; plain `<hex>` keys are accepted too) into one map. Each entry's hash
 * is checked against its text: a corrupt or hand-edited manifest stops the
 * gateway at start-up rather than refusing the app's requests later.
 * Several files: the current release's and, during a roll-out or a roll
 * back, the other release's, so pages loaded from either keep working.
 */
export function loadTrustedDocuments(files: readonly string[]): Map<string, string> {
  const documents = new Map<string, string>();
  for (const file of files) {
    let manifest: unknown;
    try {
      manifest = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`Trusted documents: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest))
      throw new Error(`Trusted documents: ${file} is not an object of "sha256:<hash>": "<document>"`);
    for (const [id, text] of Object.entries(manifest)) {
      const hex = hashOf(id);
      if (!hex || typeof text !== 'string' || sha256(text) !== hex)
        throw new Error(
          `Trusted documents: ${file}: the entry ${JSON.stringify(id)} is not the sha256 of its document`,
        );
      documents.set(hex, text);
    }
  }
  return documents;
}

interface Operation {
  /** The document text the request carries, if any. */
  query?: unknown;
  /** The id it names (documentId or the APQ hash), if any. */
  id?: unknown;
}

function operationOf(req: Request): Operation {
  if (req.method === 'GET') {
    const params = new URLSearchParams(req.url.split('?')[1] ?? '');
    let extensions: { persistedQuery?: { sha256Hash?: unknown } } | undefined;
    try {
      extensions = JSON.parse(params.get('extensions') ?? 'null') ?? undefined;
    } catch {
      extensions = undefined;
    }
    return {
      query: params.get('query') ?? undefined,
      id: params.get('documentId') ?? extensions?.persistedQuery?.sha256Hash,
    };
  }
  const body = req.body as
    { query?: unknown; documentId?: unknown; extensions?: { persistedQuery?: { sha256Hash?: unknown } } } | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {};
  return { query: body.query, id: body.documentId ?? body.extensions?.persistedQuery?.sha256Hash };
}

/** Puts the trusted text in the request, where Apollo Server reads it, and drops the id. */
function useDocument(req: Request, text: string) {
  if (req.method === 'GET') {
    const [path, search = ''] = req.url.split('?');
    const params = new URLSearchParams(search);
    params.delete('documentId');
    params.delete('extensions');
    params.set('query', text);
    req.url = `${path}?${params.toString()}`;
    return;
  }
  const body = req.body as Record<string, unknown> & { extensions?: Record<string, unknown> };
  delete body.documentId;
  // Not an automatic persisted query any more: nothing for Apollo Server to register.
  if (body.extensions && typeof body.extensions === 'object') delete body.extensions.persistedQuery;
  body.query = text;
}

/**
 * The middleware in front of Apollo Server on /graphql: after the request
 * guard (which sets `req.viewer` from the verified token) and the body
 * parser.
 */
export function createTrustedDocuments({
  documents,
  enforcedClients,
  enforce,
  onRefused = () => {},
}: TrustedDocumentOptions): RequestHandler {
  const refuse = (res: Response, message: string) => {
    onRefused();
    res.status(400).json({ errors: [{ message, extensions: { code: ErrorCode.PERSISTED_QUERY_NOT_LISTED } }] });
  };
  return (req: Request, res: Response, next: NextFunction) => {
    const { query, id } = operationOf(req);
    const hex = hashOf(id);
    const listed = hex ? documents.get(hex) : undefined;
    if (listed !== undefined && query === undefined) {
      useDocument(req, listed);
      return next();
    }
    const clientId = req.viewer?.clientId;
    if (!enforce || !clientId || !enforcedClients.has(clientId)) return next();
    if (query !== undefined)
      return refuse(
        res,
        'This client may run only the operations of its published app, sent by id without a document ' +
          '(extensions.persistedQuery.sha256Hash or documentId)',
      );
    refuse(
      res,
      id === undefined
        ? 'No operation: send the id of one of the app’s operations'
        : 'Unknown operation id: not an operation of the published app (reload the app to get its current version)',
    );
  };
}
