import { createHash, randomInt } from 'node:crypto';

export const CARRIERS = [
  { name: 'UPS', prefix: '1Z' },
  { name: 'FedEx', prefix: 'FX' },
  { name: 'DHL', prefix: 'DH' },
  { name: 'USPS', prefix: '94' },
] as const;

/** Same order, same carrier: a redelivered event cannot pick another. */
export function carrierFor(orderId: string) {
  const n = createHash('sha256').update(orderId).digest().readUInt32BE(0);
  return CARRIERS[n % CARRIERS.length];
}

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** A carrier-style tracking number: prefix + 16 random characters (unique by index). */
export function newTrackingNumber(prefix: string): string {
  let s = prefix;
  for (let i = 0; i < 16; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}
