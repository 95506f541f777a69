import type { ReactNode } from 'react';
import { useMutation } from '@apollo/client/react';
import { LOG_OUT } from './graphql/auth.ts';
import { useCart } from './lib/cart.tsx';
import { customer } from './lib/clients.ts';
import { useTokens } from './lib/orderflow-context.tsx';
import { href, matchPath, navigate, routeQuery, usePath } from './lib/router.ts';
import { AuthPage } from './pages/auth-page.tsx';
import { CartPage } from './pages/cart-page.tsx';
import { CatalogPage } from './pages/catalog-page.tsx';
import { OperatorPage } from './pages/operator-page.tsx';
import { OrderPage } from './pages/order-page.tsx';
import { OrdersPage } from './pages/orders-page.tsx';

function SignInFirst({ next }: { next: string }) {
  return (
    <div className="auth-card card">
      <h1>Please sign in</h1>
      <p>
        <a href={href(`/login?next=${encodeURIComponent(next)}`)}>Log in</a> or{' '}
        <a href={href(`/signup?next=${encodeURIComponent(next)}`)}>create an account</a> to see your orders.
      </p>
    </div>
  );
}

function Page({ path, signedIn }: { path: string; signedIn: boolean }) {
  const route = path.split('?')[0];
  const next = routeQuery(path).get('next') || '/';
  if (route === '/') return <CatalogPage />;
  if (route === '/cart') return <CartPage />;
  if (route === '/login') return <AuthPage key="login" mode="login" next={next} />;
  if (route === '/signup') return <AuthPage key="signup" mode="signup" next={next} />;
  if (route === '/operator' || route.startsWith('/operator/')) return <OperatorPage path={path} />;
  if (route === '/orders') return signedIn ? <OrdersPage /> : <SignInFirst next={route} />;
  const order = matchPath('/orders/:id', route);
  if (order) return signedIn ? <OrderPage key={order.id} id={order.id} /> : <SignInFirst next={route} />;
  return (
    <div className="empty">
      Page not found. <a href={href('/')}>Go to the catalog</a>
    </div>
  );
}

function NavLink({ to, path, children }: { to: string; path: string; children: ReactNode }) {
  const active = to === '/' ? path === '/' : path.startsWith(to);
  return (
    <a href={href(to)} className={active ? 'active' : undefined}>
      {children}
    </a>
  );
}

export function App() {
  const path = usePath();
  const tokens = useTokens(customer.session);
  const cart = useCart();
  const [logOut] = useMutation(LOG_OUT);

  async function signOut() {
    const refreshToken = tokens?.refreshToken;
    // Revoke server-side when possible; signed out locally whatever happens.
    if (refreshToken) await logOut({ variables: { refreshToken } }).catch(() => null);
    customer.session.set(null);
    navigate('/');
  }

  return (
    <div className="app">
      <header className="topbar">
        <a href={href('/')} className="brand">
          orderflow
        </a>
        <nav>
          <NavLink to="/" path={path}>
            Catalog
          </NavLink>
          <NavLink to="/cart" path={path}>
            Cart{' '}
            {cart.count > 0 && (
              <span className="count" data-testid="cart-count">
                {cart.count}
              </span>
            )}
          </NavLink>
          <NavLink to="/orders" path={path}>
            My orders
          </NavLink>
          <NavLink to="/operator" path={path}>
            Operator
          </NavLink>
        </nav>
        <div className="account">
          {tokens ? (
            <>
              <span className="muted" data-testid="signed-in-as">
                {tokens.label}
              </span>
              <button type="button" className="link" onClick={signOut}>
                Log out
              </button>
            </>
          ) : (
            <>
              <a href={href('/login')}>Log in</a>
              <a href={href('/signup')} className="button primary">
                Sign up
              </a>
            </>
          )}
        </div>
      </header>
      <main>
        <Page path={path} signedIn={!!tokens} />
      </main>
    </div>
  );
}
