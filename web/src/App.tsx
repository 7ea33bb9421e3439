import { lazy, Suspense, useEffect, useRef, type ReactNode } from 'react';
import { Link, NavLink, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { Loading } from './components/ui';
import { useAuth } from './lib/auth';
import { SearchPage } from './pages/SearchPage';

// Everything but the search page is its own chunk, loaded when first visited.
const PropertyPage = lazy(() => import('./pages/PropertyPage'));
const LoginPage = lazy(() => import('./pages/LoginPage'));
const RegisterPage = lazy(() => import('./pages/RegisterPage'));
const AccountPage = lazy(() => import('./pages/AccountPage'));
const AgentDesk = lazy(() => import('./pages/AgentDesk'));
const ListingEditor = lazy(() => import('./pages/ListingEditor'));
const AdminDesk = lazy(() => import('./pages/AdminDesk'));

function RequireRole({ roles, children }: { roles?: string[]; children: ReactNode }) {
  const { user } = useAuth();
  const location = useLocation();
  if (user === undefined) return <Loading label="Checking your session…" />;
  if (user === null) {
    return (
      <section className="page narrow">
        <h1>Please sign in</h1>
        <p>
          This page needs an account.{' '}
          <Link to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`}>Sign in</Link> or{' '}
          <Link to="/register">create an account</Link>.
        </p>
      </section>
    );
  }
  if (roles && !roles.includes(user.role)) {
    return (
      <section className="page narrow">
        <h1>Not available</h1>
        <p>This desk is for {roles.join(' and ')} accounts. Your account is {user.role === 'investor' ? 'an investor' : `an ${user.role}`} account.</p>
      </section>
    );
  }
  return <>{children}</>;
}

function Header() {
  const { user, signOut } = useAuth();
  const navigate = useNavigate();
  return (
    <header className="site-header">
      <Link to="/" className="brand" aria-label="REST-iN-U home">
        REST-iN-U
      </Link>
      <nav aria-label="Main">
        <ul>
          <li><NavLink to="/" end>Search</NavLink></li>
          {user && (user.role === 'agent' || user.role === 'admin') && <li><NavLink to="/desk">My listings</NavLink></li>}
          {user?.role === 'admin' && <li><NavLink to="/admin">Admin</NavLink></li>}
          {user ? (
            <>
              <li><NavLink to="/account">Account</NavLink></li>
              <li>
                <button type="button" className="link-button" onClick={() => void signOut().finally(() => navigate('/'))}>
                  Sign out
                </button>
              </li>
            </>
          ) : (
            user === null && (
              <>
                <li><NavLink to="/login">Sign in</NavLink></li>
                <li><NavLink to="/register">Register</NavLink></li>
              </>
            )
          )}
        </ul>
      </nav>
    </header>
  );
}

/** Moves focus to the main region on navigation, so keyboard and screen-reader users follow. */
function useFocusOnNavigate(ref: React.RefObject<HTMLElement | null>) {
  const { pathname } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    ref.current?.focus();
  }, [pathname, ref]);
}

export function App() {
  const main = useRef<HTMLElement>(null);
  useFocusOnNavigate(main);
  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <Header />
      <main id="main" ref={main} tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<SearchPage />} />
            <Route path="/properties/:id" element={<PropertyPage />} />
            <Route path="/login" element={<LoginPage />} />
            <Route path="/register" element={<RegisterPage />} />
            <Route path="/account" element={<RequireRole><AccountPage /></RequireRole>} />
            <Route path="/desk" element={<RequireRole roles={['agent', 'admin']}><AgentDesk /></RequireRole>} />
            <Route path="/desk/new" element={<RequireRole roles={['agent', 'admin']}><ListingEditor /></RequireRole>} />
            <Route path="/desk/:id/edit" element={<RequireRole roles={['agent', 'admin']}><ListingEditor /></RequireRole>} />
            <Route path="/admin" element={<RequireRole roles={['admin']}><AdminDesk /></RequireRole>} />
            <Route path="*" element={<section className="page narrow"><h1>Page not found</h1><p><Link to="/">Back to search</Link></p></section>} />
          </Routes>
        </Suspense>
      </main>
      <footer className="site-footer">
        <p>REST-iN-U · Prices in Indian rupees · Map outline simplified, not an official boundary</p>
      </footer>
    </>
  );
}
