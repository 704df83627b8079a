import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TOKEN_KEY, getToken, resetAuthState } from '@/lib/session';
import { json, mockApi, problem } from '@/testing/fetch';
import { App } from './app';

const CURRENT = 'GET /v1/portal-sessions/current';
const SIGN_OUT = 'DELETE /v1/portal-sessions/current';

const session = {
  id: 'ps_1',
  customer_id: 'cus_1',
  customer_name: 'Acme Freight',
  expires_at: '2030-01-01T00:00:00Z',
};

beforeEach(() => {
  // A page that needs nothing but the session.
  window.history.replaceState(null, '', '/portal/nowhere');
  window.sessionStorage.setItem(TOKEN_KEY, 'mps_1');
  resetAuthState();
});
afterEach(() => resetAuthState());

async function signOut() {
  const user = userEvent.setup();
  render(<App />);
  await user.click(await screen.findByRole('button', { name: 'Sign out' }));
}

describe('Sign out', () => {
  it('revokes the current session, forgets the token and says "Signed out"', async () => {
    const api = mockApi({
      [CURRENT]: () => json(session),
      [SIGN_OUT]: () => new Response(null, { status: 204 }),
    });
    await signOut();
    expect(
      await screen.findByRole('heading', { level: 1, name: 'Signed out' }),
    ).toBeInTheDocument();
    expect(getToken()).toBeNull();
    const [revoke, ...more] = api.sent(SIGN_OUT);
    expect(more).toHaveLength(0);
    expect(revoke?.headers.get('Authorization')).toBe('Bearer mps_1');
  });

  it('revokes even when the session could not be loaded', async () => {
    const api = mockApi({
      [CURRENT]: () => problem(500, 'internal', 'The server failed.'),
      [SIGN_OUT]: () => new Response(null, { status: 204 }),
    });
    await signOut();
    expect(
      await screen.findByRole('heading', { level: 1, name: 'Signed out' }),
    ).toBeInTheDocument();
    expect(api.sent(SIGN_OUT)).toHaveLength(1);
    expect(getToken()).toBeNull();
  });

  it('stays signed in and shows the error when the API cannot revoke', async () => {
    mockApi({
      [CURRENT]: () => json(session),
      [SIGN_OUT]: () => problem(500, 'internal', 'The session store is unavailable.', 'req_so'),
    });
    await signOut();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('You are still signed in: signing out failed.');
    expect(alert).toHaveTextContent('The session store is unavailable.');
    expect(alert).toHaveTextContent('Request ID: req_so');
    expect(screen.queryByRole('heading', { name: 'Signed out' })).not.toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign out' })).toBeEnabled();
    expect(getToken()).toBe('mps_1');
  });

  it('treats a session that had already ended as signed out', async () => {
    mockApi({
      [CURRENT]: () => json(session),
      [SIGN_OUT]: () => problem(401, 'portal-session-expired', 'The portal session has expired.'),
    });
    await signOut();
    expect(
      await screen.findByRole('heading', { level: 1, name: 'This link has expired' }),
    ).toBeInTheDocument();
    expect(getToken()).toBeNull();
  });

  it('is disabled while pending, and a double click sends one request', async () => {
    let answer: (response: Response) => void = () => {};
    const api = mockApi({
      [CURRENT]: () => json(session),
      [SIGN_OUT]: () => new Promise<Response>((resolve) => (answer = resolve)),
    });
    const user = userEvent.setup();
    render(<App />);
    const button = await screen.findByRole('button', { name: 'Sign out' });
    await user.dblClick(button);
    await waitFor(() => expect(button).toBeDisabled());
    expect(api.sent(SIGN_OUT)).toHaveLength(1);
    await act(async () => answer(new Response(null, { status: 204 })));
    expect(
      await screen.findByRole('heading', { level: 1, name: 'Signed out' }),
    ).toBeInTheDocument();
  });
});
