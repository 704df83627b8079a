import { act, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endSession, resetAuthState } from '@/lib/session';
import { App } from './app';

beforeEach(() => window.history.replaceState(null, '', '/portal/'));
afterEach(() => resetAuthState());

describe('App without a session', () => {
  it('asks to open the link from the provider, with no form for a key', () => {
    resetAuthState();
    render(<App />);
    expect(screen.getByRole('heading', { level: 1, name: 'Sign-in required' })).toBeInTheDocument();
    expect(screen.queryByRole('textbox')).not.toBeInTheDocument();
    expect(screen.queryByRole('form')).not.toBeInTheDocument();
    expect(document.title).toBe('Sign-in required · Mechanica');
  });

  it('says the link has expired when the session ends', () => {
    window.sessionStorage.setItem('portal-token', 'mps_1');
    resetAuthState();
    render(<App />);
    act(() => endSession('expired'));
    expect(screen.getByRole('heading', { level: 1, name: 'This link has expired' })).toBeInTheDocument();
    expect(window.sessionStorage.getItem('portal-token')).toBeNull();
  });
});
