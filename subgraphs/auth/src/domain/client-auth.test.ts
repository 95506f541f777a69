import { describe, expect, it } from 'vitest';
import { readClientCredentials, readFormParams } from './client-auth.ts';

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('client authentication', () => {
  it('reads HTTP Basic, form-decoding both parts', () => {
    expect(readClientCredentials(basic('ops-console', 'se:cr%et'), {})).toEqual({
      clientId: 'ops-console',
      secret: 'se:cr%et',
      basic: true,
    });
  });

  it('reads the body', () => {
    expect(readClientCredentials(undefined, { client_id: 'a', client_secret: 'b' })).toEqual({
      clientId: 'a',
      secret: 'b',
      basic: false,
    });
  });

  it('is null without credentials', () => expect(readClientCredentials(undefined, { grant_type: 'x' })).toBeNull());

  it.each([
    ['a Bearer header', 'Bearer abc', {}, 'invalid_client'],
    ['Basic without a colon', `Basic ${Buffer.from('nocolon').toString('base64')}`, {}, 'invalid_client'],
    ['Basic and a body secret', basic('a', 'b'), { client_secret: 'b' }, 'invalid_request'],
    ['a different body client_id', basic('a', 'b'), { client_id: 'c' }, 'invalid_request'],
    ['a body id without secret', undefined, { client_id: 'a' }, 'invalid_client'],
  ] as const)('refuses %s', (_name, header, params, error) => {
    expect(() => readClientCredentials(header, params as Record<string, string>)).toThrow(
      expect.objectContaining({ error }),
    );
  });

  it('refuses repeated parameters', () => {
    expect(readFormParams({ grant_type: 'client_credentials' })).toEqual({ grant_type: 'client_credentials' });
    expect(() => readFormParams({ scope: ['a', 'b'] })).toThrow(expect.objectContaining({ error: 'invalid_request' }));
    expect(() => readFormParams(undefined)).toThrow(expect.objectContaining({ error: 'invalid_request' }));
  });
});
