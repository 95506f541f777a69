import { describe, expect, it } from 'vitest';
import { canCancel, canTransition, mirrorShipment } from './order-status.ts';
import { decidePayment } from './payment.ts';

describe('order lifecycle', () => {
  it('cancels only before shipping', () => {
    expect(canCancel('PENDING_PAYMENT')).toBe(true);
    expect(canCancel('PENDING_SHIPMENT')).toBe(true);
    for (const s of ['SHIPPED', 'IN_TRANSIT', 'DELIVERED', 'CANCELLED', 'PAYMENT_FAILED'] as const)
      expect(canCancel(s)).toBe(false);
  });
  it('never goes backwards', () => {
    expect(canTransition('PENDING_SHIPMENT', 'PENDING_PAYMENT')).toBe(false);
    expect(canTransition('DELIVERED', 'IN_TRANSIT')).toBe(false);
    expect(canTransition('PAYMENT_FAILED', 'PENDING_SHIPMENT')).toBe(false);
  });
  it('mirrors shipment steps in order, waits for a missing step, ignores stale ones', () => {
    expect(mirrorShipment('PENDING_SHIPMENT', 'PROCESSING', 'SHIPPED')).toEqual({ action: 'apply', status: 'SHIPPED' });
    expect(mirrorShipment('PENDING_SHIPMENT', 'SHIPPED', 'IN_TRANSIT')).toEqual({ action: 'wait' });
    expect(mirrorShipment('IN_TRANSIT', 'PROCESSING', 'SHIPPED')).toEqual({ action: 'ignore' });
    expect(mirrorShipment('CANCELLED', 'PROCESSING', 'SHIPPED')).toEqual({ action: 'ignore' });
  });
});

describe('simulated payments', () => {
  it('follows the test tokens', () => {
    expect(decidePayment('tok_visa', 1)).toEqual({ outcome: 'succeeded' });
    expect(decidePayment('tok_chargeDeclined', 1).outcome).toBe('declined');
    expect(decidePayment('tok_processingError', 1).outcome).toBe('transient');
    expect(decidePayment('tok_processingError', 2).outcome).toBe('transient');
    expect(decidePayment('tok_processingError', 3).outcome).toBe('succeeded');
    expect(decidePayment('tok_anything', 1).outcome).toBe('declined');
  });
  it('fails tok_visa at the configured rate', () => {
    expect(decidePayment('tok_visa', 1, { failureRate: 0.5, random: () => 0.4 }).outcome).toBe('declined');
    expect(decidePayment('tok_visa', 1, { failureRate: 0.5, random: () => 0.6 }).outcome).toBe('succeeded');
  });
});
