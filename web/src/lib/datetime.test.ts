import { describe, expect, it } from 'vitest';
import { isoToLocalInput, localInputToIso } from './datetime';

describe('localInputToIso', () => {
  it('reads a datetime-local value as local time and answers RFC 3339 UTC', () => {
    const expected = new Date(2026, 10, 22, 10, 30).toISOString();
    expect(localInputToIso('2026-11-22T10:30')).toBe(expected);
    expect(localInputToIso('2026-11-22T10:30')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('keeps seconds', () => {
    expect(localInputToIso('2026-11-22T10:30:15')).toBe(new Date(2026, 10, 22, 10, 30, 15).toISOString());
  });

  it('answers undefined for empty or unreadable values', () => {
    expect(localInputToIso('')).toBeUndefined();
    expect(localInputToIso('  ')).toBeUndefined();
    expect(localInputToIso('tomorrow')).toBeUndefined();
    expect(localInputToIso('2026-11-22')).toBeUndefined();
  });
});

describe('isoToLocalInput', () => {
  it('round-trips with localInputToIso', () => {
    const iso = localInputToIso('2026-03-01T08:05');
    expect(isoToLocalInput(iso)).toBe('2026-03-01T08:05');
  });

  it('answers empty for nothing or garbage', () => {
    expect(isoToLocalInput(undefined)).toBe('');
    expect(isoToLocalInput('garbage')).toBe('');
  });
});
