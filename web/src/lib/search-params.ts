/** Helpers for views whose filters and cursors live in the query string. */

/** A copy of `params` with `changes` applied: `undefined`, `null` and '' remove a key. */
export function withParams(
  params: URLSearchParams,
  changes: Record<string, string | null | undefined>,
): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === null || value === '') next.delete(key);
    else next.set(key, value);
  }
  return next;
}

/** `?a=b` for a non-empty set of params, '' otherwise. */
export function toSearch(params: URLSearchParams): string {
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** A query param's value, or `undefined` when absent or empty. */
export function param(params: URLSearchParams, key: string): string | undefined {
  const value = params.get(key);
  return value ? value : undefined;
}
