import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@orderflow/contracts';
import { appError, isDatabaseUnavailable, maskError } from './errors.ts';

/** Errors as Prisma 7 with the pg adapter throws them (shapes taken from a real server being stopped and restarted). */
const adapterError = (cause: Record<string, unknown>, code = 'P2010') =>
  Object.assign(new Error('Raw query failed.'), {
    code,
    meta: { driverAdapterError: { name: 'DriverAdapterError', cause } },
  });

describe('isDatabaseUnavailable', () => {
  it('recognises a server that is down, shutting down, starting up or out of connections', () => {
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), { code: 'P1001' }),
      ),
    ).toBe(true);
    expect(isDatabaseUnavailable(adapterError({ kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 }))).toBe(
      true,
    );
    expect(
      isDatabaseUnavailable(
        adapterError({
          kind: 'postgres',
          originalCode: '57P01',
          message: 'terminating connection due to administrator command',
        }),
      ),
    ).toBe(true);
    expect(
      isDatabaseUnavailable(
        adapterError({ kind: 'postgres', originalCode: '57P03', message: 'the database system is starting up' }),
      ),
    ).toBe(true);
    expect(isDatabaseUnavailable(adapterError({ kind: 'postgres', originalCode: '08006' }))).toBe(true);
    expect(isDatabaseUnavailable(adapterError({ kind: 'ConnectionClosed' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(
      isDatabaseUnavailable(new Error('handler failed', { cause: new Error('Connection terminated unexpectedly') })),
    ).toBe(true);
  });

  it('leaves every other failure alone', () => {
    expect(
      isDatabaseUnavailable(
        adapterError({ kind: 'postgres', originalCode: '23514', message: 'violates check constraint' }),
      ),
    ).toBe(false);
    expect(isDatabaseUnavailable(adapterError({ kind: 'UniqueConstraintViolation' }, 'P2002'))).toBe(false);
    expect(isDatabaseUnavailable(new Error('order not visible yet'))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
    expect(isDatabaseUnavailable('Connection terminated')).toBe(false);
  });
});

describe('maskError', () => {
  const formatted = (message: string, code = 'INTERNAL_SERVER_ERROR') => ({
    message,
    path: ['products'],
    locations: [{ line: 1, column: 3 }],
    extensions: { code, stacktrace: ['at x'] },
  });

  it('answers SERVICE_UNAVAILABLE, without host or SQL, when the database cannot be reached', () => {
    const down = adapterError({ kind: 'DatabaseNotReachable', host: '10.0.0.7', port: 5432 });
    const { masked, error } = maskError(
      formatted("Can't reach database server at 10.0.0.7:5432 SELECT * FROM products"),
      down,
    );
    expect(masked).toBe('unavailable');
    expect(error).toEqual({
      message: 'The service is temporarily unavailable (its database cannot be reached); please retry',
      path: ['products'],
      locations: [{ line: 1, column: 3 }],
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
  });

  it('masks any other unexpected error as INTERNAL_SERVER_ERROR and passes known codes', () => {
    const broken = adapterError({ kind: 'postgres', originalCode: '23514', message: 'violates check constraint' });
    expect(maskError(formatted('violates check constraint "stock" on 10.0.0.7'), broken)).toEqual({
      masked: 'unexpected',
      error: {
        message: 'Internal server error',
        path: ['products'],
        locations: [{ line: 1, column: 3 }],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    });
    const notFound = appError(ErrorCode.NOT_FOUND, 'Order not found');
    expect(maskError(formatted('Order not found', 'NOT_FOUND'), notFound)).toMatchObject({
      masked: false,
      error: { message: 'Order not found', extensions: { code: 'NOT_FOUND' } },
    });
  });
});
