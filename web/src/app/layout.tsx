import { Suspense, useState, type MouseEvent } from 'react';
import { Link, NavLink, Outlet, useLocation, useNavigationType } from 'react-router';
import { useCurrentSession, useSignOut } from '@/features/auth/api/session';
import { ErrorView, Loading } from '@/components/feedback';
import { useSingleFlight } from '@/lib/single-flight';
import { NavigationCount, PRODUCT_NAME } from '@/components/page';
import { Time } from '@/components/time';

const NAV = [
  { to: '/orders', label: 'Orders' },
  { to: '/webhooks', label: 'Webhooks' },
  { to: '/event-types', label: 'Event types' },
  { to: '/api-keys', label: 'API keys' },
];

function skipToContent(event: MouseEvent<HTMLAnchorElement>) {
  const main = document.getElementById('main');
  if (!main) return;
  event.preventDefault();
  main.focus();
  main.scrollIntoView();
}

/** The frame of every signed-in page: skip link, header, navigation, `<main>`. */
export function AppLayout() {
  const location = useLocation();
  const navigationType = useNavigationType();
  // Counts navigations to a new path; each one moves focus to the new page's <h1>. A
  // redirect (a replace, like `/` → `/webhooks` on arrival) is not the user going somewhere.
  const [path, setPath] = useState(location.pathname);
  const [navigations, setNavigations] = useState(0);
  if (path !== location.pathname) {
    setPath(location.pathname);
    if (navigationType !== 'REPLACE') setNavigations((n) => n + 1);
  }

  const session = useCurrentSession();
  const signOut = useSignOut();
  const once = useSingleFlight();

  return (
    <NavigationCount.Provider value={navigations}>
      <a href="#main" className="skip-link" onClick={skipToContent}>
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar__inner">
          <Link to="/" className="brand">
            <span className="brand__mark" aria-hidden="true" />
            {PRODUCT_NAME}
          </Link>
          <nav aria-label="Main" className="nav">
            <ul className="nav__list">
              {NAV.map((item) => (
                <li key={item.to}>
                  <NavLink to={item.to} className="nav__link">
                    {item.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <div className="session">
            {session.data ? (
              <p className="session__who">
                <span className="session__name">{session.data.customer_name}</span>
                <span className="session__expiry">
                  Session ends <Time value={session.data.expires_at} />
                </span>
              </p>
            ) : null}
            <button
              type="button"
              className="button button--secondary button--small"
              disabled={signOut.isPending}
              onClick={() => once(() => signOut.mutateAsync())}
            >
              Sign out
            </button>
          </div>
          {signOut.isError ? (
            // Still signed in, with a token that still works: say so, beside the button.
            <div className="topbar__error">
              <ErrorView error={signOut.error} context="You are still signed in: signing out failed." />
            </div>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1} className="main">
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
    </NavigationCount.Provider>
  );
}
