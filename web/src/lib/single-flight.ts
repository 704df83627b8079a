import { useCallback, useRef } from 'react';

/**
 * Runs an action unless the previous one is still under way. A button disabled while its
 * request is pending is re-rendered only after the click, so a double click can land twice
 * first: with this, it sends one request. The action's failure is not thrown: show it from
 * the mutation's state.
 */
export function useSingleFlight(): (action: () => Promise<unknown>) => void {
  const busy = useRef(false);
  return useCallback((action: () => Promise<unknown>) => {
    if (busy.current) return;
    busy.current = true;
    action()
      .catch(() => {})
      .finally(() => {
        busy.current = false;
      });
  }, []);
}
