import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildSchema } from 'graphql';
import { parse } from 'yaml';
import { SUBGRAPHS } from '@orderflow/contracts';
import {
  createMetricsRegistry,
  registerConsumerMetrics,
  registerDlqMetrics,
  registerOutboxMetrics,
  timeRootFields,
} from '@orderflow/common/observability';
import { createGatewayMetrics, registerActiveSubscriptions } from '../gateway/src/metrics.ts';
import { registerOrdersByStatus } from '../subgraphs/orders/src/metrics.ts';
import { createReservationFailures } from '../subgraphs/products/src/metrics.ts';
import { createPasswordCheckRefusals } from '../subgraphs/auth/src/metrics.ts';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** Every metric name a process can expose (histograms with their series suffixes). */
async function exposedNames(): Promise<Set<string>> {
  const registry = createMetricsRegistry('any');
  createGatewayMetrics(registry);
  registerActiveSubscriptions(registry, () => 0);
  timeRootFields(buildSchema('type Query { a: Int }'), registry);
  registerOutboxMetrics(registry, async () => ({ backlog: 0, oldestAgeSeconds: 0 }));
  registerConsumerMetrics(registry, async () => []);
  registerDlqMetrics(registry, async () => 0);
  registerOrdersByStatus(registry, async () => []);
  createReservationFailures(registry);
  createPasswordCheckRefusals(registry);
  const names = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (['histogram', 'summary'].includes(String(m.type)))
      for (const suffix of ['_bucket', '_count', '_sum']) names.add(m.name + suffix);
  }
  return names;
}

describe('observability config for docker compose', () => {
  const compose = parse(read('docker-compose.yml'));

  it('Prometheus scrapes every service of the compose file on the port it serves /metrics on', () => {
    const prometheus = parse(read('ops/prometheus/prometheus.yml'));
    const targets = Object.fromEntries(
      prometheus.scrape_configs.map(
        (job: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }) => [
          job.dns_sd_configs[0].names[0],
          job.dns_sd_configs[0].port,
        ],
      ),
    );
    // The gateway serves /metrics on its metrics listener, not on its public port.
    expect(targets.gateway).toBe(Number(compose.services.gateway.environment.METRICS_PORT));
    expect(compose.services.gateway.environment.METRICS_PORT).not.toBe(compose.services.gateway.environment.PORT);
    for (const { name } of SUBGRAPHS) expect(targets[name], name).toBe(Number(compose.services[name].environment.PORT));
    for (const name of ['prometheus', 'grafana']) expect(compose.services[name].profiles).toEqual(['observability']);
  });

  it('the compose file runs every subgraph on its default port from the contracts, and calls it there', () => {
    const env = (service: string): Record<string, string> => compose.services[service].environment;
    for (const { name, defaultPort } of SUBGRAPHS) {
      expect(Number(env(name).PORT), name).toBe(defaultPort);
      for (const service of Object.keys(compose.services)) {
        const url = env(service)?.[`${name.toUpperCase()}_URL`];
        if (url) expect(url, `${service}: ${name.toUpperCase()}_URL`).toBe(`http://${name}:${defaultPort}`);
      }
    }
  });

  it('the Grafana dashboard only queries metrics the services expose', async () => {
    const dashboard = JSON.parse(read('ops/grafana/dashboards/orderflow.json'));
    const exprs: string[] = dashboard.panels.flatMap((p: { targets?: { expr: string }[] }) =>
      (p.targets ?? []).map((t) => t.expr),
    );
    expect(exprs.length).toBeGreaterThan(10);
    const names = await exposedNames();
    // Metric names: identifiers left once label matchers, groupings, ranges and function calls are taken out.
    const metricNames = (expr: string) =>
      expr
        .replace(/\{[^}]*\}|\[[^\]]*\]|\b(by|without)\s*\([^)]*\)|"[^"]*"/g, ' ')
        .match(/\b[a-z_][a-z0-9_]*\b(?!\s*\()/g) ?? [];
    const referenced = new Set(exprs.flatMap(metricNames));
    expect(referenced.size).toBeGreaterThan(15);
    for (const name of referenced) expect(names.has(name), `${name} is not exposed by any service`).toBe(true);
  });

  it('the provisioning points Grafana at the dashboards and at Prometheus', () => {
    const grafana = compose.services.grafana;
    expect(grafana.volumes).toEqual(
      expect.arrayContaining([
        './ops/grafana/provisioning:/etc/grafana/provisioning:ro',
        './ops/grafana/dashboards:/var/lib/grafana/dashboards:ro',
      ]),
    );
    expect(parse(read('ops/grafana/provisioning/dashboards/orderflow.yml')).providers[0].options.path).toBe(
      '/var/lib/grafana/dashboards',
    );
    expect(parse(read('ops/grafana/provisioning/datasources/prometheus.yml')).datasources[0]).toMatchObject({
      uid: 'prometheus',
      url: 'http://prometheus:9090',
    });
  });
});
