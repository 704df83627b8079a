/**
 * The portal session token and the sign-in state of the app.
 *
 * The portal is opened through a link whose fragment carries the token
 * (`/portal/#token=mps_…`). Browsers never send a fragment to a server, so the token reaches
 * no access log. At start-up {@link captureTokenFromFragment} moves it to `sessionStorage`
 * (gone when the tab closes; never `localStorage`, never the query string) and strips it from
 * the address bar. The token is then sent as the bearer credential of every API call.
 *
 * A new link pasted into a tab that is already open changes only the fragment: no page load,
 * just a `hashchange`. {@link restartOnNewLink} captures its token then and reloads the page,
 * so the app starts afresh with it (nothing of the previous session's state or cache stays).
 */
import { useSyncExternalStore } from 'react';

export const TOKEN_KEY = 'portal-token';

/** Where the app stands with its session. */
export type AuthState = 'signed-in' | 'missing' | 'expired' | 'signed-out';

interface LocationLike {
  hash: string;
  pathname: string;
  search: string;
}

interface HistoryLike {
  state: unknown;
  replaceState(data: unknown, unused: string, url?: string | URL | null): void;
}

/**
 * Moves `token=` from the URL fragment into `storage` and removes the fragment (keeping the
 * path and query). Returns whether a token was found.
 */
export function captureTokenFromFragment(
  location: LocationLike,
  history: HistoryLike,
  storage: Storage,
): boolean {
  const hash = location.hash.startsWith('#') ? location.hash.slice(1) : location.hash;
  if (!hash) return false;
  const params = new URLSearchParams(hash);
  const token = params.get('token');
  if (token === null) return false;
  history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  const trimmed = token.trim();
  if (!trimmed) return false;
  storage.setItem(TOKEN_KEY, trimmed);
  return true;
}

interface WindowLike {
  location: LocationLike & { reload(): void };
  history: HistoryLike;
  sessionStorage: Storage;
  addEventListener(type: 'hashchange', listener: () => void): void;
  removeEventListener(type: 'hashchange', listener: () => void): void;
}

/**
 * On each `hashchange` of `win` (a link pasted into this tab), captures a token from the
 * fragment; if one was found, reloads the page. Returns the function that stops listening.
 */
export function restartOnNewLink(win: WindowLike): () => void {
  const onHashChange = () => {
    if (captureTokenFromFragment(win.location, win.history, win.sessionStorage)) {
      win.location.reload();
    }
  };
  win.addEventListener('hashchange', onHashChange);
  return () => win.removeEventListener('hashchange', onHashChange);
}

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export function getToken(): string | null {
  return storage()?.getItem(TOKEN_KEY) ?? null;
}

export function clearToken(): void {
  storage()?.removeItem(TOKEN_KEY);
}

let authState: AuthState | null = null;
const listeners = new Set<() => void>();

function currentAuthState(): AuthState {
  authState ??= getToken() ? 'signed-in' : 'missing';
  return authState;
}

/** Ends the session in the app: the token is forgotten and `state` is shown. */
export function endSession(state: Exclude<AuthState, 'signed-in'>): void {
  clearToken();
  // The first ending wins: a 401 racing a sign-out does not turn "Signed out" into "expired".
  if (currentAuthState() !== 'signed-in') return;
  authState = state;
  for (const listener of listeners) listener();
}

/** Re-reads the token (tests, and after a fresh capture). */
export function resetAuthState(): void {
  authState = null;
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useAuthState(): AuthState {
  return useSyncExternalStore(subscribe, currentAuthState, currentAuthState);
}
