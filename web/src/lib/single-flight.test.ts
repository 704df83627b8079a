import { act, renderHook } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { useSingleFlight } from './single-flight';

describe('useSingleFlight', () => {
  it('runs one action at a time, and again once it has settled', async () => {
    const { result } = renderHook(() => useSingleFlight());
    let finish: () => void = () => {};
    const action = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    result.current(action);
    result.current(action);
    expect(action).toHaveBeenCalledOnce();
    await act(async () => finish());
    result.current(action);
    expect(action).toHaveBeenCalledTimes(2);
  });

  it('swallows a failure (shown from the mutation state) and lets the next run', async () => {
    const { result } = renderHook(() => useSingleFlight());
    const failing = vi.fn(() => Promise.reject(new Error('boom')));
    result.current(failing);
    await act(async () => {});
    const next = vi.fn(() => Promise.resolve());
    result.current(next);
    expect(next).toHaveBeenCalledOnce();
  });
});
