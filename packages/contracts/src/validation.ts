/** Small input checks shared by every subgraph's domain rules. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** A string whose trimmed length is within [min, max]. */
export function isTextWithin(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.trim().length >= min && value.length <= max;
}

/** Opaque keyset cursors: base64url of a JSON tuple. */
export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): (string | number)[] | null {
  try {
    const parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(parts) || parts.length !== arity) return null;
    if (!parts.every((p) => typeof p === 'string' || typeof p === 'number')) return null;
    return parts;
  } catch {
    return null;
  }
}

/** Validates a page size argument; the API caps pages at 100. */
export function isPageSize(first: unknown): first is number {
  return Number.isInteger(first) && (first as number) >= 0 && (first as number) <= 100;
}
