import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('gateway config: deadlines, connection cap and metrics listener', () => {
  it('defaults: 5 s headers, 10 s request, 128 connections per address, 5 s per subgraph call, metrics on 127.0.0.1:9464', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      HEADERS_TIMEOUT_MS: 5_000,
      BODY_TIMEOUT_MS: 10_000,
      maxConnectionsPerAddress: 128,
      SUBGRAPH_TIMEOUT_MS: 5_000,
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: 9464,
    });
    expect(c.METRICS_PORT).not.toBe(c.PORT);
  });

  it('has no per-address connection cap behind a trusted proxy unless one is set', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).maxConnectionsPerAddress).toBe(0);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8' }).maxConnectionsPerAddress).toBe(0);
    expect(loadConfig({ TRUST_PROXY: '1', MAX_CONNECTIONS_PER_ADDRESS: '500' }).maxConnectionsPerAddress).toBe(500);
    expect(loadConfig({ MAX_CONNECTIONS_PER_ADDRESS: '0' }).maxConnectionsPerAddress).toBe(0);
  });

  it('refuses a headers deadline longer than the whole request’s, naming the variable', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '20000' })).toThrow(
      /HEADERS_TIMEOUT_MS: must be at most BODY_TIMEOUT_MS/,
    );
    expect(() => loadConfig({ SUBGRAPH_TIMEOUT_MS: 'soon' })).toThrow(/SUBGRAPH_TIMEOUT_MS/);
  });

  it('shares identical in-flight subgraph fetches unless GATEWAY_DEDUP=off; anything else is refused by name', () => {
    expect(loadConfig({}).GATEWAY_DEDUP).toBe('on');
    expect(loadConfig({ GATEWAY_DEDUP: 'off' }).GATEWAY_DEDUP).toBe('off');
    expect(() => loadConfig({ GATEWAY_DEDUP: 'no' })).toThrow(/GATEWAY_DEDUP/);
  });
});
