import { describe, expect, it } from 'vitest';
import { createEvent } from './events.ts';
import {
  createTraceparent,
  currentTraceparent,
  parseTraceparent,
  runInTrace,
  traceHeaders,
  traceparentForRequest,
  withTraceparent,
} from './trace-context.ts';

const CALLER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('trace context', () => {
  it('accepts valid traceparents and refuses the rest', () => {
    expect(parseTraceparent(CALLER)).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      parentId: 'b7ad6b7169203331',
      flags: '01',
    });
    // A later version may append fields; version 00 may not.
    expect(parseTraceparent(`cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-future`)).not.toBeNull();
    for (const bad of [
      undefined,
      '',
      'garbage',
      `${CALLER}-extra`,
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      '00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01',
      `${CALLER}, ${CALLER}`,
    ])
      expect(parseTraceparent(bad), String(bad)).toBeNull();
  });

  it("continues the caller's trace with a new span id, or starts a new one", () => {
    const child = createTraceparent(CALLER);
    expect(child).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(child).not.toBe(CALLER);
    const fresh = traceparentForRequest('not a traceparent');
    expect(parseTraceparent(fresh)).not.toBeNull();
    expect(fresh.slice(3, 35)).not.toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('carries the trace into outgoing headers and new events, and nowhere outside a trace', async () => {
    expect(traceHeaders()).toEqual({});
    expect(
      createEvent({
        type: 'orders.cancelled',
        source: 't',
        correlationId: 'c',
        data: { orderId: 'o', reason: 'r', stockCommitted: false } as never,
      }).traceparent,
    ).toBeNull();

    await withTraceparent(createTraceparent(CALLER), async () => {
      await new Promise((r) => setTimeout(r, 1));
      expect(traceHeaders().traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/);
      const event = createEvent({
        type: 'orders.cancelled',
        source: 't',
        correlationId: 'c',
        data: { orderId: 'o', reason: 'r', stockCommitted: false } as never,
      });
      expect(event.traceparent).toBe(currentTraceparent());
    });

    // A consumer runs its handler in the trace the event carried.
    const seen = await runInTrace('consume', CALLER, async () => currentTraceparent());
    expect(seen).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/);
  });

  it('gives every new trace and span its own id', () => {
    const made = Array.from({ length: 5_000 }, () => createTraceparent());
    const children = Array.from({ length: 5_000 }, () => createTraceparent(CALLER));
    for (const t of [...made.slice(0, 50), ...children.slice(0, 50)]) expect(parseTraceparent(t)).not.toBeNull();
    expect(new Set(made.map((t) => parseTraceparent(t)!.traceId)).size).toBe(5_000);
    expect(new Set([...made, ...children].map((t) => parseTraceparent(t)!.parentId)).size).toBe(10_000);
  });
});
