/** Conversions between `<input type="datetime-local">` values and RFC 3339 timestamps. */

/**
 * A `datetime-local` value (`2026-11-22T10:00`, the user's local time) as an RFC 3339 UTC
 * timestamp; `undefined` for an empty or unreadable value.
 */
export function localInputToIso(value: string): string | undefined {
  const trimmed = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(trimmed)) return undefined;
  // A date-time without an offset is local time (ECMA-262 Date Time String Format).
  const date = new Date(trimmed);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An RFC 3339 timestamp as a `datetime-local` value in the user's time zone ('' if unreadable). */
export function isoToLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const base = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return date.getSeconds() ? `${base}:${pad(date.getSeconds())}` : base;
}
