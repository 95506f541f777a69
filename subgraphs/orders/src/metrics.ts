import { Gauge, createSampler, type Registry, type SamplerOptions } from '@orderflow/common/observability';

/** Orders per status, read from the orders database at scrape time. */
export function registerOrdersByStatus(
  registry: Registry,
  read: () => Promise<{ status: string; count: number }[]>,
  options?: SamplerOptions,
) {
  const sample = createSampler(read, options);
  return new Gauge({
    name: 'orders_by_status',
    help: 'Orders in each status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const rows = await sample();
      if (!rows) return;
      this.reset();
      for (const r of rows) this.set({ status: r.status }, r.count);
    },
  });
}
