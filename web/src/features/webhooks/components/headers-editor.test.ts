import { describe, expect, it } from 'vitest';
import { headerChanges, setHeaders, storedRows } from './headers-editor';

describe('headerChanges', () => {
  it('sends what changed as a merge patch and nothing of what stays', () => {
    const [apiKey, tenant, route] = storedRows({ 'x-api-key': '****6c30', 'x-tenant': '****', 'x-route': '****' });
    const changes = headerChanges([
      { ...apiKey!, value: 'k2' },
      { ...tenant!, removed: true },
      route!,
      { key: 'new-1', name: ' X-Region ', value: 'eu' },
      { key: 'new-2', name: '', value: '' },
    ]);
    expect(changes).toEqual({ 'x-api-key': 'k2', 'x-tenant': null, 'X-Region': 'eu' });
    expect(setHeaders(changes)).toEqual({ 'x-api-key': 'k2', 'X-Region': 'eu' });
  });

  it('sends a value without a name, for the API to refuse rather than dropping it', () => {
    expect(headerChanges([{ key: 'new-1', name: '  ', value: 'secret' }])).toEqual({ '': 'secret' });
  });
});
