/** The OAuth2 scopes of the API (the contract's list); `requiresScopes` in the SDL names them. */
export const SCOPES = [
  'orders:create',
  'orders:read',
  'orders:read:all',
  'orders:cancel',
  // Staff: cancel any customer's order (cancelOrderAsOperator); replay a dead-lettered event (replayDeadLetter).
  'orders:cancel:any',
  'dlq:replay',
  'products:write',
  'inventory:read',
  'inventory:write',
  'shipments:read',
  'shipments:write',
] as const;
export type Scope = (typeof SCOPES)[number];

/** What a customer token carries (contract: signUp/logIn). */
export const CUSTOMER_SCOPES: Scope[] = ['orders:create', 'orders:read', 'orders:cancel', 'shipments:read'];

/** Scopes only sibling services hold; never granted to a client. */
export const SERVICE_SCOPES = ['internal:inventory', 'internal:shipments', 'internal:oauth'] as const;
