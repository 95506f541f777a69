/**
 * The simulated card processor, like a real one's test mode. Pure: the
 * attempt number and a random draw come in, the outcome goes out.
 */
export type PaymentDecision =
  { outcome: 'succeeded' } | { outcome: 'declined'; reason: string } | { outcome: 'transient'; reason: string };

export const TEST_TOKENS = {
  visa: 'tok_visa',
  declined: 'tok_chargeDeclined',
  processingError: 'tok_processingError',
} as const;

/** tok_processingError fails this many times before it succeeds. */
export const TRANSIENT_FAILURES = 2;

export function decidePayment(
  token: string,
  attempt: number,
  { failureRate = 0, random = Math.random }: { failureRate?: number; random?: () => number } = {},
): PaymentDecision {
  switch (token) {
    case TEST_TOKENS.visa:
      return failureRate > 0 && random() < failureRate
        ? { outcome: 'declined', reason: 'card declined (simulated failure rate)' }
        : { outcome: 'succeeded' };
    case TEST_TOKENS.declined:
      return { outcome: 'declined', reason: 'card declined' };
    case TEST_TOKENS.processingError:
      return attempt <= TRANSIENT_FAILURES
        ? { outcome: 'transient', reason: 'processing error' }
        : { outcome: 'succeeded' };
    default:
      return { outcome: 'declined', reason: 'unknown payment token' };
  }
}

/** A payment token for logs and events: never the whole token. */
export function maskToken(token: string): string {
  return token.startsWith('tok_') && token.length <= 24 ? token : `${token.slice(0, 4)}…(${token.length})`;
}
