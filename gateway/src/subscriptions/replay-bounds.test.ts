import { describe, expect, it } from 'vitest';
import { ReplayTooOldError, replayRefusal } from './replay-bounds.ts';

const bounds = { maxEvents: 100, maxAgeMs: 60_000 };
const now = Date.parse('2026-01-01T12:00:00Z');

describe('replayRefusal', () => {
  it('admits a replay within both bounds, and one with nothing to read', () => {
    expect(replayRefusal({ pending: 100, oldestAt: now - 60_000, gap: false }, bounds, now)).toBeNull();
    expect(replayRefusal({ pending: 0, oldestAt: null, gap: false }, bounds, now)).toBeNull();
  });

  it('refuses more events than the bound', () => {
    expect(replayRefusal({ pending: 101, oldestAt: now - 1_000, gap: false }, bounds, now)).toBe('events');
  });

  it('refuses a start older than the window, whatever the count', () => {
    expect(replayRefusal({ pending: 1, oldestAt: now - 60_001, gap: false }, bounds, now)).toBe('age');
  });

  it('refuses a cursor whose following events have left the stream', () => {
    expect(replayRefusal({ pending: 1, oldestAt: now, gap: true }, bounds, now)).toBe('gone');
  });
});

describe('ReplayTooOldError', () => {
  it('tells the client what to do instead, for every reason', () => {
    for (const reason of ['events', 'age', 'gone'] as const) {
      const err = new ReplayTooOldError(reason);
      expect(err.refusal).toBe(reason);
      expect(err.message).toMatch(/refetch the current state with a query, then subscribe again without after/);
    }
  });
});
