import { describe, expect, it } from 'vitest';
import { createSampler } from './metrics.ts';

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
