import { EventSchemas } from '@orderflow/contracts';
import { describe, expect, it } from 'vitest';
import { EMAIL_AFTER, EMAIL_FOR_STATUS, type EmailKind } from './emails.ts';
import { canTransition } from './order-status.ts';

const STATUSES = EventSchemas['orders.status_changed'].shape.status.options;
const statusOf = (kind: EmailKind) => STATUSES.find((s) => EMAIL_FOR_STATUS[s] === kind);

/** Statuses an order can reach from PENDING_PAYMENT without passing through `avoid`. */
function reachableAvoiding(avoid: string): Set<string> {
  const seen = new Set<string>(['PENDING_PAYMENT']);
  const todo = ['PENDING_PAYMENT'];
  while (todo.length) {
    const from = todo.pop()!;
    for (const to of STATUSES) {
      if (to === avoid || seen.has(to) || !canTransition(from as never, to as never)) continue;
      seen.add(to);
      todo.push(to);
    }
  }
  return seen;
}

describe('the stage order of customer emails', () => {
  it('starts every chain at order-received, which follows nothing', () => {
    expect(EMAIL_AFTER['order-received']).toBeNull();
    for (const kind of Object.keys(EMAIL_AFTER) as EmailKind[]) {
      const chain: EmailKind[] = [kind];
      while (EMAIL_AFTER[chain[chain.length - 1]] && chain.length < 10) chain.push(EMAIL_AFTER[chain.at(-1)!]!);
      expect(chain.at(-1)).toBe('order-received');
    }
  });

  // An email waits for the one before it: if an order could reach a status without passing the status of
  // that earlier email, its email would wait for one that never comes (and be dead-lettered).
  it('makes each email follow one whose status every order passes on the way', () => {
    for (const status of STATUSES) {
      const kind = EMAIL_FOR_STATUS[status];
      const after = kind && EMAIL_AFTER[kind];
      if (!after || after === 'order-received') continue;
      const before = statusOf(after);
      expect(before, `${after} is sent for a status`).toBeDefined();
      expect(reachableAvoiding(before!).has(status), `${status} is reachable without ${before}`).toBe(false);
    }
  });
});
