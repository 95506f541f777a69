import type { z } from 'zod';
import { envSchema as gatewayEnv } from '../../gateway/src/config.ts';
import { envSchema as authEnv } from '../../subgraphs/auth/src/config.ts';
import { envSchema as ordersEnv } from '../../subgraphs/orders/src/config.ts';
import { envSchema as productsEnv } from '../../subgraphs/products/src/config.ts';
import { envSchema as shipmentsEnv } from '../../subgraphs/shipments/src/config.ts';
import { envSchema as mailEnv } from '../../scripts/mail-sink.ts';

/** The program each of our services runs, and the schema of the variables it reads. */
export const PROGRAMS: Record<string, z.ZodObject> = {
  'gateway/src/index.ts': gatewayEnv,
  'subgraphs/auth/src/index.ts': authEnv,
  'subgraphs/products/src/index.ts': productsEnv,
  'subgraphs/orders/src/index.ts': ordersEnv,
  'subgraphs/shipments/src/index.ts': shipmentsEnv,
  'scripts/mail-sink.ts': mailEnv,
};

/**
 * Read by libraries or the operating system, not by a config.ts: the
 * OpenTelemetry SDK takes its standard OTEL_* variables itself, Node its
 * NODE_OPTIONS.
 */
export const LIBRARY_VARIABLES = /^(OTEL_[A-Z0-9_]+|NODE_OPTIONS)$/;
