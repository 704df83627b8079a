import { describe, expect, it } from 'vitest';
import { SubmissionKey, idempotencyKey } from './idempotency';

function counter() {
  let n = 0;
  return () => `key_${++n}`;
}

describe('SubmissionKey', () => {
  it('sends the same body again with the same key (a retry, a double submission)', () => {
    const keys = new SubmissionKey(counter());
    const body = { url: 'https://example.com/hook', event_types: ['order.created'] };
    expect(keys.for(body)).toBe('key_1');
    expect(keys.for(body)).toBe('key_1');
    expect(keys.for({ url: 'https://example.com/hook', event_types: ['order.created'] })).toBe('key_1');
  });

  it('draws a new key when the body changed', () => {
    const keys = new SubmissionKey(counter());
    expect(keys.for({ reference: 'PO-1' })).toBe('key_1');
    expect(keys.for({ reference: 'PO-2' })).toBe('key_2');
    expect(keys.for({ reference: 'PO-2' })).toBe('key_2');
    // Back to the first body: it differs from the one last sent with key_2.
    expect(keys.for({ reference: 'PO-1' })).toBe('key_3');
  });

  it('draws a new key after a success, even for the same body', () => {
    const keys = new SubmissionKey(counter());
    const body = { reference: 'PO-1' };
    expect(keys.for(body)).toBe('key_1');
    keys.succeeded();
    expect(keys.for(body)).toBe('key_2');
    expect(keys.for(body)).toBe('key_2');
  });

  it('uses random UUIDs by default', () => {
    const keys = new SubmissionKey();
    const key = keys.for({});
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(new SubmissionKey().for({})).not.toBe(key);
    expect(idempotencyKey()).not.toBe(idempotencyKey());
  });
});
