import { describe, expect, it } from 'vitest';
import { isEmail, normalizeEmail, validateSignUp } from './credentials.ts';

const valid = { email: 'Ada@Example.org', password: 'correct horse', name: 'Ada' };

describe('credentials', () => {
  it.each(['ada@example.org', 'a.b+tag@mail.example.co.uk', 'x@xn--bcher-kva.de'])('accepts %s', (e) =>
    expect(isEmail(e)).toBe(true),
  );

  it.each([
    '',
    'ada',
    'ada@',
    '@example.org',
    'ada@example',
    'a da@example.org',
    'ada@@example.org',
    'ada@exa_mple.org',
    'ada@-example.org',
    `${'a'.repeat(65)}@example.org`,
    `a@${'b'.repeat(250)}.org`,
  ])('refuses %j', (e) => expect(isEmail(e)).toBe(false));

  it('normalizes case and spaces', () => expect(normalizeEmail('  Ada@Example.ORG ')).toBe('ada@example.org'));

  it('validates a sign-up field by field', () => {
    expect(validateSignUp(valid)).toBeNull();
    expect(validateSignUp({ ...valid, email: 'nope' })?.field).toBe('email');
    expect(validateSignUp({ ...valid, password: 'short12' })?.field).toBe('password');
    expect(validateSignUp({ ...valid, password: '🔒🔒🔒🔒🔒🔒🔒🔒' })).toBeNull();
    expect(validateSignUp({ ...valid, password: 'x'.repeat(1025) })?.field).toBe('password');
    expect(validateSignUp({ ...valid, name: '   ' })?.field).toBe('name');
  });
});
