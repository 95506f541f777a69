/**
 * Open WebSockets per client address: `open` admits a socket when its
 * address holds fewer than `max`, and the socket is counted until `release`.
 * Addresses with no socket are forgotten, so the map never outgrows the
 * sockets actually open.
 */
export function createConnectionCounter(max: number) {
  const open = new Map<string, number>();
  return {
    /** Counts a socket of `address` in, unless the address is at its limit (then false, nothing counted). */
    open(address: string): boolean {
      const n = open.get(address) ?? 0;
      if (n >= max) return false;
      open.set(address, n + 1);
      return true;
    },
    /** Counts one socket of `address` out. */
    release(address: string): void {
      const n = (open.get(address) ?? 1) - 1;
      if (n > 0) open.set(address, n);
      else open.delete(address);
    },
    /** Sockets counted for `address`. */
    of(address: string): number {
      return open.get(address) ?? 0;
    },
    /** Addresses with at least one socket. */
    get addresses(): number {
      return open.size;
    },
  };
}
export type ConnectionCounter = ReturnType<typeof createConnectionCounter>;
