import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '@orderflow/common/observability';
import { registerOrdersByStatus } from './metrics.ts';

describe('orders_by_status', () => {
  it('exposes a labelled gauge in Prometheus text, replacing the previous set of series', async () => {
    const registry = createMetricsRegistry('orders', { defaultMetrics: false });
    let rows = [{ status: 'PENDING_PAYMENT', count: 2 }];
    registerOrdersByStatus(registry, async () => rows, { minIntervalMs: 0 });
    expect(await registry.metrics()).toContain('orders_by_status{status="PENDING_PAYMENT",service="orders"} 2');
    rows = [{ status: 'SHIPPED', count: 1 }];
    const text = await registry.metrics();
    expect(text).toContain('orders_by_status{status="SHIPPED",service="orders"} 1');
    expect(text).not.toContain('PENDING_PAYMENT');
  });
});
