/**
 * How far back a subscription may replay with its `after:` cursor. A replay
 * reads the stream from the cursor on (every event of the subscription's
 * type, then matched to the subscriber in memory), so its cost grows with the
 * events since the cursor: the oldest cursor would read the whole stream. A
 * client past a bound is told to refetch the current state with a query and
 * subscribe again without `after:`, which costs one query whatever it missed.
 */
export interface ReplayBounds {
  /** Most events of the subscription's type after the cursor. Default 10,000. */
  maxEvents: number;
  /** Oldest event a replay may start from, in ms ago. Default a day. */
  maxAgeMs: number;
}

export const DEFAULT_REPLAY_BOUNDS: ReplayBounds = { maxEvents: 10_000, maxAgeMs: 24 * 3600_000 };

/** Why a replay was refused: too many events since the cursor, too old, or the events after it are no longer stored. */
export type ReplayRefusal = 'events' | 'age' | 'gone';

/** A refused replay; `message` tells the client what to do instead. */
export class ReplayTooOldError extends Error {
  constructor(readonly refusal: ReplayRefusal) {
    super(
      `${REASONS[refusal]}: refetch the current state with a query, then subscribe again without after (or with a recent cursor)`,
    );
    this.name = 'ReplayTooOldError';
  }
}

const REASONS: Record<ReplayRefusal, string> = {
  events: 'Too many events since this cursor to replay',
  age: 'This cursor is older than the replay window',
  gone: 'Events after this cursor are no longer stored',
};

/**
 * The refusal, if any, of a replay: `oldestAt` is when the first event to
 * replay happened (ms since the epoch; null when unknown), `pending` how many
 * events of the type it would read, `gap` whether events after the cursor have
 * already left the stream.
 */
export function replayRefusal(
  { pending, oldestAt, gap }: { pending: number; oldestAt: number | null; gap: boolean },
  bounds: ReplayBounds,
  now: number,
): ReplayRefusal | null {
  if (gap) return 'gone';
  if (oldestAt != null && now - oldestAt > bounds.maxAgeMs) return 'age';
  if (pending > bounds.maxEvents) return 'events';
  return null;
}
