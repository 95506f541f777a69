import { CUSTOMER_SCOPES, SCOPES } from '@orderflow/contracts';

/**
 * The registered OAuth clients the contract names. Their secrets come from
 * the configuration (development defaults below, never in production).
 */
export const SEED_CLIENTS = {
  storefront: {
    name: 'Storefront (customer-facing app)',
    allowedScopes: [...CUSTOMER_SCOPES],
    rateLimitPerMinute: 600,
  },
  'ops-console': { name: 'Operations console', allowedScopes: [...SCOPES], rateLimitPerMinute: 6000 },
  'delivery-partner': {
    name: 'Delivery partner',
    allowedScopes: ['shipments:read', 'shipments:write'],
    rateLimitPerMinute: 1200,
  },
} as const satisfies Record<string, { name: string; allowedScopes: readonly string[]; rateLimitPerMinute: number }>;
export type SeedClientId = keyof typeof SEED_CLIENTS;

/** The development secrets of the contract; used only outside production. */
export const DEV_CLIENT_SECRETS: Record<SeedClientId, string> = {
  storefront: 'storefront-dev-secret',
  'ops-console': 'ops-console-dev-secret',
  'delivery-partner': 'delivery-partner-dev-secret',
};

/** Customer tokens (signUp, logIn, their refreshes) are issued to this client. */
export const CUSTOMER_CLIENT_ID: SeedClientId = 'storefront';

/** Limit of tokens for a client that is not registered (customer tokens when the storefront is not seeded). */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;

export interface ClientSeed {
  id: string;
  name: string;
  secret: string;
  allowedScopes: readonly string[];
  rateLimitPerMinute: number;
}
