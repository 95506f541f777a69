/**
 * Closes sockets when their access token expires, with one timer per second
 * in which some token expires instead of one per socket: tokens issued in
 * the same second share it, so thousands of sockets cost a few hundred
 * timers at most (one per second of the token lifetime) and a set entry
 * each. A socket is closed at most a second after its token expired.
 */
export function createExpiryWheel<S>(onExpired: (socket: S) => void, now: () => number = Date.now) {
  const buckets = new Map<number, { sockets: Set<S>; timer: NodeJS.Timeout }>();
  return {
    /** Calls `onExpired(socket)` once `expiresAt` (ms since the epoch) has passed. */
    add(socket: S, expiresAt: number) {
      const second = Math.ceil(expiresAt / 1000);
      let bucket = buckets.get(second);
      if (!bucket) {
        const timer = setTimeout(
          () => {
            const due = buckets.get(second);
            buckets.delete(second);
            for (const s of due?.sockets ?? []) onExpired(s);
          },
          Math.max(0, second * 1000 - now()),
        );
        timer.unref();
        buckets.set(second, (bucket = { sockets: new Set(), timer }));
      }
      bucket.sockets.add(socket);
    },
    /** Forgets a socket that closed first. */
    delete(socket: S, expiresAt: number) {
      const second = Math.ceil(expiresAt / 1000);
      const bucket = buckets.get(second);
      if (!bucket) return;
      bucket.sockets.delete(socket);
      if (!bucket.sockets.size) {
        clearTimeout(bucket.timer);
        buckets.delete(second);
      }
    },
    /** Timers running (tests). */
    get timers() {
      return buckets.size;
    },
    stop() {
      for (const b of buckets.values()) clearTimeout(b.timer);
      buckets.clear();
    },
  };
}
