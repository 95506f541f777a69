import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './errors.ts';

/** Errors as Prisma 7 with the pg adapter throws them (shapes taken from a real server being stopped and restarted). */
const adapterError = (cause: Record<string, unknown>, code = 'P2010') => Object.assign(new Error('Raw query failed.'), { code, meta: { driverAdapterError: { name: 'DriverAdapterError', cause } } });

describe('isDatabaseUnavailable', () => {
  it('recognises a server that is down, shutting down, starting up or out of connections', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), { code: 'P1001' }))).toBe(true);
    expect(isDatabaseUnavailable(adapterError({ kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 }))).toBe(true);
    expect(isDatabaseUnavailable(adapterError({ kind: 'postgres', originalCode: '57P01', message: 'terminating connection due to administrator command' }))).toBe(true);
    expect(isDatabaseUnavailable(adapterError({ kind: 'postgres', originalCode: '57P03', message: 'the database system is starting up' }))).toBe(true);
    expect(isDatabaseUnavailable(adapterError({ kind: 'postgres', originalCode: '08006' }))).toBe(true);
    expect(isDatabaseUnavailable(adapterError({ kind: 'ConnectionClosed' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('handler failed', { cause: new Error('Connection terminated unexpectedly') }))).toBe(true);
  });

  it('leaves every other failure alone', () => {
    expect(isDatabaseUnavailable(adapterError({ kind: 'postgres', originalCode: '23514', message: 'violates check constraint' }))).toBe(false);
    expect(isDatabaseUnavailable(adapterError({ kind: 'UniqueConstraintViolation' }, 'P2002'))).toBe(false);
    expect(isDatabaseUnavailable(new Error('order not visible yet'))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
    expect(isDatabaseUnavailable('Connection terminated')).toBe(false);
  });
});
