// What the machine and the database were doing during a fault run: enough to
// tell a slow system from a busy machine, and to see a connection pool run dry.
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import pg from 'pg';

/** The machine's CPU counters (/proc/stat); `since` gives the busy cores on average between two readings. */
export function machineCpu() {
  let total = 0;
  let idle = 0;
  try {
    const values = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    total = values.reduce((a, b) => a + b, 0);
    idle = values[3] + (values[4] ?? 0); // idle + iowait
  } catch {
    /* no /proc: report zeros */
  }
  return {
    total,
    idle,
    since(earlier: { total: number; idle: number }) {
      const cores = cpus().length;
      const elapsed = total - earlier.total;
      return { cores, busyCores: elapsed > 0 ? (cores * (elapsed - (idle - earlier.idle))) / elapsed : 0 };
    },
  };
}

/**
 * Samples pg_stat_activity every `intervalMs` until stopped: the most
 * sessions seen at once per database and state, and the statement that
 * transactions idle for over a second last ran (a transaction idle between
 * statements holds a pooled connection while its process does something
 * else; many of them are a starved pool). A sample that fails (PostgreSQL
 * restarting) is skipped.
 */
export function sampleSessions(postgresUrl: string, { intervalMs = 2_000 } = {}) {
  const peaks = new Map<string, number>();
  const idleInTransaction = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const c = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 1_000 });
      c.on('error', () => {});
      try {
        await c.connect();
        const { rows } = await c.query<{ db: string; state: string; age: number; query: string }>(
          `SELECT replace(datname, 'orderflow_', '') AS db, coalesce(state, '?') AS state,
                  coalesce(extract(epoch FROM now() - xact_start) * 1000, 0)::int AS age, left(query, 60) AS query
             FROM pg_stat_activity WHERE datname LIKE 'orderflow_%' AND pid <> pg_backend_pid()`,
        );
        const now = new Map<string, number>();
        for (const r of rows) now.set(`${r.db} ${r.state}`, (now.get(`${r.db} ${r.state}`) ?? 0) + 1);
        for (const [k, n] of now) peaks.set(k, Math.max(peaks.get(k) ?? 0, n));
        for (const r of rows.filter((r) => r.state.startsWith('idle in transaction') && r.age > 1_000)) {
          const k = `${r.db}: ${r.query.replace(/\s+/g, ' ')}`;
          idleInTransaction.set(k, (idleInTransaction.get(k) ?? 0) + 1);
        }
      } catch {
        /* PostgreSQL is being restarted */
      } finally {
        await c.end().catch(() => {});
      }
      if (running) await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    peaks,
    idleInTransaction,
    async stop() {
      running = false;
      await loop;
    },
  };
}
