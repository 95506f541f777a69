import { describe, expect, it } from 'vitest';
import { formatScope, grantScopes, parseScope } from './scopes.ts';

describe('scopes', () => {
  it('parses a scope parameter', () => {
    expect(parseScope(undefined)).toEqual([]);
    expect(parseScope('a:b  c a:b')).toEqual(['a:b', 'c']);
    expect(parseScope('bad"quote')).toBeNull();
    expect(parseScope('tab\there')).toBeNull();
    expect(parseScope('x'.repeat(2001))).toBeNull();
  });

  it('grants everything allowed by default and narrows to a subset', () => {
    expect(grantScopes([], ['b', 'a'])).toEqual(['a', 'b']);
    expect(grantScopes(['b'], ['a', 'b'])).toEqual(['b']);
    expect(grantScopes(['a', 'z'], ['a', 'b'])).toBeNull();
  });

  it('formats scopes in a stable order', () =>
    expect(formatScope(['orders:read', 'orders:create'])).toBe('orders:create orders:read'));
});
