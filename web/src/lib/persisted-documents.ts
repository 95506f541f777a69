import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { print, type DocumentNode } from 'graphql';

/**
 * Operations by id: the production build sends each query and mutation as
 * the sha256 of its text, which codegen embedded in the document
 * (`__meta__.hash`, the same id as in web/src/gql/persisted-documents.json),
 * and no text at all. A production gateway accepts nothing else from the
 * storefront's tokens (gateway/src/trusted-documents.ts); it runs the
 * manifest's text, identical to what this build would have sent.
 *
 * A document codegen did not make (none today) falls back to an automatic
 * persisted query: its hash computed here, its text sent once if the
 * gateway asks for it, which only clients outside the trusted list may do.
 */
export async function documentId(document: DocumentNode): Promise<string> {
  const embedded = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  if (typeof embedded === 'string') return embedded.replace(/^sha256:/, '');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(print(document)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The link that replaces an operation's text with its id (in front of the HttpLink). */
export function createTrustedDocumentLink(): PersistedQueryLink {
  return new PersistedQueryLink({ generateHash: documentId });
}
