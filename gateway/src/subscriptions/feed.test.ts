import { describe, expect, it } from 'vitest';
import { Feed } from './feed.ts';

const event = (seq: number) => ({
  seq,
  event: {
    id: String(seq),
    type: 't',
    version: 1,
    occurredAt: '',
    source: 's',
    correlationId: 'c',
    causationId: null,
    traceparent: null,
    data: { n: seq },
  },
});

function feed(maxQueue = 3) {
  const calls = { overflow: 0, closed: 0 };
  const f = new Feed({
    afterSeq: 0,
    maxQueue,
    resolve: async (e) => ({ data: { n: e.seq } }),
    onOverflow: () => calls.overflow++,
    onClose: () => calls.closed++,
  });
  return { f, calls };
}

describe('Feed', () => {
  it('yields events in order, each once, skipping what the cursor has seen', async () => {
    const { f } = feed(10);
    for (const s of [1, 2, 2, 1, 3]) f.push(event(s));
    const got = [await f.next(), await f.next(), await f.next()].map(
      (r) => (r.value as { data: { n: number } }).data.n,
    );
    expect(got).toEqual([1, 2, 3]);
  });

  it('answers a waiting next() with the next event, skipping events that give no payload', async () => {
    const f = new Feed({
      afterSeq: 0,
      maxQueue: 10,
      resolve: async (e) => (e.seq % 2 ? null : { data: { n: e.seq } }), // odd: no longer visible
      onOverflow: () => {},
      onClose: () => {},
    });
    const first = f.next();
    f.push(event(1));
    setTimeout(() => f.push(event(2)), 10);
    expect(await first).toEqual({ done: false, value: { data: { n: 2 } } });
    // A subclass gives the hooks as its own methods.
    class Evens extends Feed {
      protected async resolve(e: ReturnType<typeof event>) {
        return { data: { n: e.seq * 10 } };
      }
    }
    const g = new Evens({ afterSeq: 0, maxQueue: 10 });
    const waiting = g.next();
    g.push(event(4));
    expect(await waiting).toEqual({ done: false, value: { data: { n: 40 } } });
    await g.return();
    expect(await g.next()).toEqual({ done: true, value: undefined });
  });

  it('cuts off a subscriber that does not keep up instead of growing its queue', async () => {
    const { f, calls } = feed(3);
    for (let s = 1; s <= 1_000; s++) f.push(event(s));
    expect(f.pending).toBe(0); // released at the 4th unread event, not 1,000 held in memory
    expect(calls).toEqual({ overflow: 1, closed: 1 });
    expect(await f.next()).toEqual({ done: true, value: undefined });
  });

  it('releases at once on return(), even while a next() is waiting', async () => {
    const { f, calls } = feed();
    const waiting = f.next();
    await f.return();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(calls.closed).toBe(1);
  });

  it('tells a replay when there is room again, so the past never overflows the queue', async () => {
    const { f, calls } = feed(3);
    for (const s of [1, 2, 3]) f.push(event(s));
    let roomy = false;
    const room = f.room(3).then(() => (roomy = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(roomy).toBe(false);
    await f.next();
    await room;
    expect(f.pending).toBe(2);
    expect(calls.overflow).toBe(0);
    // A feed that ended has room for nothing more, and says so at once.
    await f.return();
    await f.room(0);
  });

  it('ends with the error of a failed replay once the events it got are delivered', async () => {
    const { f, calls } = feed(10);
    f.push(event(1));
    f.fail(new Error('replay failed'));
    expect(await f.next()).toEqual({ done: false, value: { data: { n: 1 } } });
    await expect(f.next()).rejects.toThrow('replay failed');
    expect(calls.closed).toBe(1);
  });
});
