/** Rules of customer credentials (contract: SignUpInput, LogInInput). */

export const MIN_PASSWORD_LENGTH = 8;
/** Bounds the work of one hash; a passphrase of this size is already absurd. */
export const MAX_PASSWORD_LENGTH = 1024;
const MAX_EMAIL_LENGTH = 254;
const MAX_NAME_LENGTH = 200;

// Pragmatic, not RFC 5322: one @, no spaces, a dotted domain of sane labels.
const EMAIL =
  /^[^\s@"(),:;<>[\\\]]{1,64}@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** One form of an email address for storage and look-up (case-insensitive). */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export const isEmail = (email: string) => email.length <= MAX_EMAIL_LENGTH && EMAIL.test(email);

/** Passwords are compared as NFKC, so the same characters typed on another keyboard still match. */
export const normalizePassword = (password: string) => password.normalize('NFKC');

/** Counted in code points, not UTF-16 units: "🔒" is one character. */
const length = (s: string) => [...s].length;

export interface CredentialProblem {
  field: 'email' | 'password' | 'name';
  message: string;
}

export function validateSignUp(input: { email: string; password: string; name: string }): CredentialProblem | null {
  if (!isEmail(normalizeEmail(input.email))) return { field: 'email', message: 'Enter a valid email address' };
  const pw = length(input.password);
  if (pw < MIN_PASSWORD_LENGTH)
    return { field: 'password', message: `The password needs at least ${MIN_PASSWORD_LENGTH} characters` };
  if (pw > MAX_PASSWORD_LENGTH)
    return { field: 'password', message: `The password may have at most ${MAX_PASSWORD_LENGTH} characters` };
  const name = input.name.trim();
  if (name.length === 0 || name.length > MAX_NAME_LENGTH)
    return { field: 'name', message: `The name needs 1 to ${MAX_NAME_LENGTH} characters` };
  return null;
}
