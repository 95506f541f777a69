import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, createSampler, timeRootFields } from './metrics.ts';

describe('scrape-time samples', () => {
  it('reads at most once per interval, and keeps the last value when a read fails or is too slow', async () => {
    let reads = 0;
    let behaviour: 'ok' | 'fail' | 'hang' = 'ok';
    const sample = createSampler(
      async () => {
        reads++;
        if (behaviour === 'fail') throw new Error('db down');
        if (behaviour === 'hang') await new Promise((r) => setTimeout(r, 3_000));
        return reads;
      },
      { timeoutMs: 100, minIntervalMs: 400 },
    );
    expect(await sample()).toBe(1);
    expect(await sample()).toBe(1); // within the interval: no read
    expect(reads).toBe(1);
    await new Promise((r) => setTimeout(r, 450));
    behaviour = 'fail';
    expect(await sample()).toBe(1);
    behaviour = 'hang';
    const started = Date.now();
    expect(await sample()).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
    behaviour = 'ok';
    expect(await sample()).toBe(4);
  });
});

describe('root field latency', () => {
  it('times each root field once with its outcome, and no nested field', async () => {
    const registry = createMetricsRegistry('test', { defaultMetrics: false });
    const schema = timeRootFields(
      buildSubgraphSchema({
        typeDefs: parse(`type Query { order: Order, broken: Int, failing: Int } type Order { id: ID! items: [Item!]! }
                   type Item { n: Int! } type Mutation { place: Order }`),
        resolvers: {
          Query: {
            order: async () => ({ id: '1', items: [{ n: 1 }, { n: 2 }] }),
            broken: () => {
              throw new Error('sync');
            },
            failing: async () => {
              throw new Error('async');
            },
          },
          Mutation: { place: () => ({ id: '2', items: [] }) },
        },
      }),
      registry,
    );
    const run = (source: string) => graphql({ schema, source });
    expect((await run('{ order { id items { n } } }')).data).toEqual({
      order: { id: '1', items: [{ n: 1 }, { n: 2 }] },
    });
    await run('{ order { id } broken failing }');
    await run('mutation { place { id } }');
    const { values } = (await registry.getSingleMetric('graphql_resolver_duration_seconds')!.get()) as {
      values: { metricName?: string; labels: Record<string, string>; value: number }[];
    };
    const counts = values
      .filter((v) => v.metricName === 'graphql_resolver_duration_seconds_count')
      .map((v) => `${v.labels.type}.${v.labels.field} ${v.labels.outcome} ${v.value}`)
      .sort();
    expect(counts).toEqual([
      'Mutation.place ok 1',
      'Query.broken error 1',
      'Query.failing error 1',
      'Query.order ok 2',
    ]);
  });
});
