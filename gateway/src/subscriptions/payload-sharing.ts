import type { Viewer } from '@orderflow/common/server';

export interface PayloadSharingOptions {
  /**
   * How long a payload stays shareable after it was first asked for, in ms:
   * between one and two windows. Default 1,000: long enough for the
   * subscriptions that were still sending their previous payload when the
   * event arrived, short enough that nobody gets a payload resolved
   * noticeably earlier than their own would have been.
   */
  windowMs?: number;
  /** The clock (tests). Default `performance.now`. */
  now?: () => number;
}

/**
 * One payload execution for identical subscriptions: the same viewer
 * identity, the same payload query and the same variables (the event's
 * values among them) get the same answer, so the first asks and the others
 * wait for it (200 tabs of one customer cost one federated query per event,
 * not 200). Keys are kept in two generations swapped every `windowMs`, so
 * memory is bounded by the events of the last two windows and no timer runs.
 */
export function createPayloadSharing<T>({
  windowMs = 1_000,
  now = () => performance.now(),
}: PayloadSharingOptions = {}) {
  let current = new Map<string, Promise<T>>();
  let previous = new Map<string, Promise<T>>();
  let swappedAt = now(); // generations start at multiples of windowMs from here
  return function share(key: string, execute: () => Promise<T>): Promise<T> {
    const windows = Math.floor((now() - swappedAt) / windowMs);
    if (windows > 0) {
      previous = windows === 1 ? current : new Map();
      current = new Map();
      swappedAt += windows * windowMs;
    }
    let result = current.get(key) ?? previous.get(key);
    if (!result) {
      result = execute();
      current.set(key, result);
    }
    return result;
  };
}

/**
 * Everything of a viewer that the internal token sent to the subgraphs
 * carries (internal-auth.ts): two subscriptions share payloads only when the
 * subgraphs would see the same caller.
 */
export function viewerIdentityKey(viewer: Viewer | null): string {
  if (!viewer) return '-';
  return [
    viewer.kind,
    viewer.id,
    viewer.clientId,
    [...viewer.scopes].sort().join(' '),
    viewer.email ?? '',
    viewer.tokenId ?? '',
    viewer.tokenExpiresAt ?? '',
  ].join('\u0000');
}
