import { z } from 'zod';
import { loadSubgraphConfig, subgraphEnvSchema } from '@orderflow/common/server';
import {
  amountLimitEnv,
  defaultPortOf,
  defaultUrlOf,
  checkReservationTiming,
  reservationEnvSchema,
} from '@orderflow/contracts';

const schema = subgraphEnvSchema('orders', defaultPortOf('orders'))
  .extend({
    PRODUCTS_URL: z.string().url().default(defaultUrlOf('products')),
    // INVENTORY_TIMEOUT_MS (one reservation call) and RESERVATION_DEADLINE_MS (read to check that
    // products' sweeper cannot release a reservation this service may still be confirming).
    ...reservationEnvSchema.shape,
    /**
     * How long cancelOrder of a paid order waits for the shipments service's verdict before answering
     * CancellationPending (the cancel still completes). Default 3000; keep it under the gateway's
     * SUBGRAPH_TIMEOUT_MS (5 s). 0 answers CancellationPending at once.
     */
    CANCEL_VERDICT_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(3_000),
    /** Share of tok_visa payments that fail at random, for load tests. Default 0. */
    PAYMENT_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
    /** Where customer emails go. Default: the local sink `npm start` runs. */
    SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
      .default('smtp://127.0.0.1:2525'),
    MAIL_FROM: z.string().default('orderflow <orders@orderflow.local>'),
    /** Largest order total in cents; placeOrder answers InvalidOrder above it. Default 99999999 (999999.99). */
    MAX_ORDER_TOTAL_CENTS: amountLimitEnv(),
  })
  .superRefine(checkReservationTiming);

export type OrdersConfig = ReturnType<typeof loadConfig>;
/** Every variable this service reads (test/compose.test.ts checks docker-compose.yml against it). */
export const envSchema = schema;
export const loadConfig = (env: NodeJS.ProcessEnv) => loadSubgraphConfig(schema, env);
