import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { LOG_IN, SIGN_UP } from '../graphql/auth.ts';
import { ErrorBanner } from '../components/ui.tsx';
import { customer, tokensFromAuthPayload } from '../lib/clients.ts';
import { href, navigate } from '../lib/router.ts';

/** Sign up or log in as a customer; `next` is where to go afterwards (e.g. back to the cart). */
export function AuthPage({ mode, next }: { mode: 'login' | 'signup'; next: string }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [signUp, signUpState] = useMutation(SIGN_UP);
  const [logIn, logInState] = useMutation(LOG_IN);
  const state = mode === 'signup' ? signUpState : logInState;
  const other = mode === 'signup' ? 'login' : 'signup';

  async function submit(e: FormEvent) {
    e.preventDefault();
    const payload =
      mode === 'signup'
        ? (await signUp({ variables: { input: { email, password, name } } }).catch(() => null))?.data?.signUp
        : (await logIn({ variables: { input: { email, password } } }).catch(() => null))?.data?.logIn;
    if (!payload) return;
    customer.session.set(tokensFromAuthPayload(payload, email));
    navigate(next);
  }

  return (
    <div className="auth-card card">
      <h1>{mode === 'signup' ? 'Create your account' : 'Welcome back'}</h1>
      <p className="muted">
        {mode === 'signup'
          ? 'Sign up to place orders and follow them live.'
          : 'Log in to check out and see your orders.'}
      </p>
      <form onSubmit={submit} className="form" data-testid={`${mode}-form`}>
        {mode === 'signup' && (
          <label>
            Name
            <input name="name" value={name} onChange={(e) => setName(e.target.value)} required autoComplete="name" />
          </label>
        )}
        <label>
          Email
          <input
            name="email"
            type="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
            autoComplete="email"
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            minLength={mode === 'signup' ? 8 : undefined}
            autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
          />
          {mode === 'signup' && <span className="hint">At least 8 characters.</span>}
        </label>
        <ErrorBanner error={state.error} />
        <button type="submit" className="primary" disabled={state.loading}>
          {state.loading ? 'Please wait…' : mode === 'signup' ? 'Sign up' : 'Log in'}
        </button>
      </form>
      <p className="muted switch">
        {mode === 'signup' ? 'Already have an account?' : 'New here?'}{' '}
        <a href={href(`/${other}?next=${encodeURIComponent(next)}`)}>
          {mode === 'signup' ? 'Log in' : 'Create an account'}
        </a>
      </p>
    </div>
  );
}
