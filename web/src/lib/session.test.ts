import { describe, expect, it, vi } from 'vitest';
import {
  TOKEN_KEY,
  captureTokenFromFragment,
  endSession,
  getToken,
  resetAuthState,
  restartOnNewLink,
  useAuthState,
} from './session';
import { act, renderHook } from '@testing-library/react';

function fakeHistory() {
  return { state: { idx: 0 }, replaceState: vi.fn() };
}

describe('captureTokenFromFragment', () => {
  it('moves the token into sessionStorage and strips the fragment, keeping path and query', () => {
    const history = fakeHistory();
    const found = captureTokenFromFragment(
      { hash: '#token=mps_abc123', pathname: '/portal/orders', search: '?status=pending' },
      history,
      window.sessionStorage,
    );
    expect(found).toBe(true);
    expect(window.sessionStorage.getItem(TOKEN_KEY)).toBe('mps_abc123');
    expect(history.replaceState).toHaveBeenCalledWith({ idx: 0 }, '', '/portal/orders?status=pending');
  });

  it('reads the token among other fragment parameters', () => {
    const history = fakeHistory();
    captureTokenFromFragment(
      { hash: '#foo=1&token=mps_xyz', pathname: '/portal/', search: '' },
      history,
      window.sessionStorage,
    );
    expect(getToken()).toBe('mps_xyz');
    expect(history.replaceState).toHaveBeenCalledWith(history.state, '', '/portal/');
  });

  it('leaves other fragments and the stored token alone', () => {
    window.sessionStorage.setItem(TOKEN_KEY, 'mps_old');
    const history = fakeHistory();
    expect(
      captureTokenFromFragment({ hash: '#main', pathname: '/portal/', search: '' }, history, window.sessionStorage),
    ).toBe(false);
    expect(
      captureTokenFromFragment({ hash: '', pathname: '/portal/', search: '' }, history, window.sessionStorage),
    ).toBe(false);
    expect(history.replaceState).not.toHaveBeenCalled();
    expect(getToken()).toBe('mps_old');
  });

  it('strips an empty token without storing it', () => {
    const history = fakeHistory();
    expect(
      captureTokenFromFragment({ hash: '#token=', pathname: '/portal/', search: '' }, history, window.sessionStorage),
    ).toBe(false);
    expect(history.replaceState).toHaveBeenCalled();
    expect(getToken()).toBeNull();
  });

  it('never puts the token into the query string', () => {
    const history = fakeHistory();
    captureTokenFromFragment(
      { hash: '#token=mps_secret', pathname: '/portal/webhooks', search: '?cursor=ep_1' },
      history,
      window.sessionStorage,
    );
    const url = String(history.replaceState.mock.calls[0]?.[2]);
    expect(url).not.toContain('mps_secret');
    expect(url).not.toContain('#');
  });
});

describe('restartOnNewLink', () => {
  function fakeWindow(hash: string) {
    const target = new EventTarget();
    return {
      location: { hash, pathname: '/portal/', search: '', reload: vi.fn() },
      history: fakeHistory(),
      sessionStorage: window.sessionStorage,
      addEventListener: (type: 'hashchange', listener: () => void) =>
        target.addEventListener(type, listener),
      removeEventListener: (type: 'hashchange', listener: () => void) =>
        target.removeEventListener(type, listener),
      changeHash(next: string) {
        this.location.hash = next;
        target.dispatchEvent(new Event('hashchange'));
      },
    };
  }

  it('captures the token of a link pasted into the open tab and reloads', () => {
    const win = fakeWindow('');
    restartOnNewLink(win);
    expect(win.location.reload).not.toHaveBeenCalled();
    win.changeHash('#token=mps_new');
    expect(getToken()).toBe('mps_new');
    expect(win.history.replaceState).toHaveBeenCalledWith(win.history.state, '', '/portal/');
    expect(win.location.reload).toHaveBeenCalledOnce();
  });

  it('replaces the token of an ended session', () => {
    window.sessionStorage.setItem(TOKEN_KEY, 'mps_old');
    const win = fakeWindow('');
    restartOnNewLink(win);
    win.changeHash('#token=mps_other');
    expect(getToken()).toBe('mps_other');
    expect(win.location.reload).toHaveBeenCalledOnce();
  });

  it('ignores fragments without a token, and an empty token', () => {
    window.sessionStorage.setItem(TOKEN_KEY, 'mps_old');
    const win = fakeWindow('');
    restartOnNewLink(win);
    win.changeHash('#main');
    win.changeHash('#token=');
    expect(win.location.reload).not.toHaveBeenCalled();
    expect(getToken()).toBe('mps_old');
  });

  it('stops listening when told', () => {
    const win = fakeWindow('');
    const stop = restartOnNewLink(win);
    stop();
    win.changeHash('#token=mps_new');
    expect(win.location.reload).not.toHaveBeenCalled();
    expect(getToken()).toBeNull();
  });
});

describe('auth state', () => {
  it('is missing without a token, signed in with one', () => {
    resetAuthState();
    const { result } = renderHook(() => useAuthState());
    expect(result.current).toBe('missing');
    window.sessionStorage.setItem(TOKEN_KEY, 'mps_1');
    act(() => resetAuthState());
    expect(result.current).toBe('signed-in');
  });

  it('ends once: the token is cleared and the first reason wins', () => {
    window.sessionStorage.setItem(TOKEN_KEY, 'mps_1');
    resetAuthState();
    const { result } = renderHook(() => useAuthState());
    act(() => endSession('signed-out'));
    expect(result.current).toBe('signed-out');
    expect(getToken()).toBeNull();
    act(() => endSession('expired'));
    expect(result.current).toBe('signed-out');
  });
});
