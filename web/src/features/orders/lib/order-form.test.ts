import { describe, expect, it } from 'vitest';
import { mapFieldErrors } from '@/api/errors';
import {
  buildCreateOrder,
  checkOrderForm,
  emptyMetadataRow,
  emptyOrderForm,
  emptyParcel,
  resolveOrderField,
  type OrderFormValues,
} from './order-form';

function filled(): OrderFormValues {
  const values = emptyOrderForm();
  values.reference = '  PO-1234 ';
  values.origin = {
    name: 'Acme DC',
    line1: 'Kade 1',
    line2: '',
    city: 'Rotterdam',
    region: '  ',
    postal_code: '3011 AA',
    country: 'nl',
  };
  values.destination = {
    name: 'J. Jansen',
    line1: 'Hauptstr. 2',
    line2: 'Hinterhaus',
    city: 'Berlin',
    region: 'Berlin',
    postal_code: '10115',
    country: 'DE',
  };
  values.parcels = [
    { ...emptyParcel(), weight_grams: '1200', length_mm: '300', width_mm: '200', height_mm: '100' },
  ];
  return values;
}

describe('buildCreateOrder', () => {
  it('builds every field of CreateOrder, trimming text and omitting empty optional fields', () => {
    const body = buildCreateOrder(filled());
    expect(body).toEqual({
      reference: 'PO-1234',
      origin: { name: 'Acme DC', line1: 'Kade 1', city: 'Rotterdam', postal_code: '3011 AA', country: 'NL' },
      destination: {
        name: 'J. Jansen',
        line1: 'Hauptstr. 2',
        line2: 'Hinterhaus',
        city: 'Berlin',
        region: 'Berlin',
        postal_code: '10115',
        country: 'DE',
      },
      parcels: [{ weight_grams: 1200, length_mm: 300, width_mm: 200, height_mm: 100 }],
    });
    expect(body).not.toHaveProperty('carrier');
    expect(body).not.toHaveProperty('tracking_number');
    expect(body).not.toHaveProperty('estimated_delivery_at');
    expect(body).not.toHaveProperty('metadata');
  });

  it('sends the estimated delivery (datetime-local) as RFC 3339 UTC', () => {
    const values = filled();
    values.estimated_delivery_at = '2026-11-24T17:00';
    values.carrier = ' DHL ';
    values.tracking_number = 'JD0123';
    const body = buildCreateOrder(values);
    expect(body.estimated_delivery_at).toBe(new Date(2026, 10, 24, 17, 0).toISOString());
    expect(body.estimated_delivery_at).toMatch(/Z$/);
    expect(body.carrier).toBe('DHL');
    expect(body.tracking_number).toBe('JD0123');
  });

  it('turns metadata rows into an object, skipping blank rows', () => {
    const values = filled();
    values.metadata = [
      { ...emptyMetadataRow(), key: ' warehouse ', value: 'R7' },
      emptyMetadataRow(),
      { ...emptyMetadataRow(), key: 'gate', value: '' },
    ];
    expect(buildCreateOrder(values).metadata).toEqual({ warehouse: 'R7', gate: '' });
  });

  it('leaves parcels out when every row is blank, and keeps row positions otherwise', () => {
    const values = filled();
    values.parcels = [emptyParcel(), emptyParcel()];
    expect(buildCreateOrder(values)).not.toHaveProperty('parcels');

    values.parcels = [emptyParcel(), { ...emptyParcel(), weight_grams: '5', length_mm: '' }];
    // The blank first row stays, so the API's `parcels[0].…` errors point at it.
    expect(buildCreateOrder(values).parcels).toEqual([{}, { weight_grams: 5 }]);
  });

  it('sends required text even when empty, for the API to report', () => {
    const body = buildCreateOrder(emptyOrderForm());
    expect(body.reference).toBe('');
    expect(body.origin).toEqual({ name: '', line1: '', city: '', postal_code: '', country: '' });
  });
});

describe('checkOrderForm', () => {
  it('flags a metadata key used twice', () => {
    const values = filled();
    values.metadata = [
      { ...emptyMetadataRow(), key: 'a', value: '1' },
      { ...emptyMetadataRow(), key: 'a ', value: '2' },
    ];
    expect(checkOrderForm(values)).toEqual([{ field: 'metadata[1].key', message: 'is used by another entry' }]);
    values.metadata[1]!.key = 'b';
    expect(checkOrderForm(values)).toEqual([]);
  });
});

describe('resolveOrderField', () => {
  it('maps API paths to the inputs of the form', () => {
    const values = filled();
    values.metadata = [{ ...emptyMetadataRow(), key: 'warehouse', value: 'x'.repeat(600) }];
    const { byField, unmatched } = mapFieldErrors(
      [
        { field: 'reference', message: 'is required' },
        { field: 'origin.postal_code', message: 'must not be empty' },
        { field: 'destination.country', message: 'is not a country code' },
        { field: 'parcels[0].weight_grams', message: 'must be between 1 and 1000000' },
        { field: 'parcels', message: 'must list 1 to 50 parcels, or be omitted' },
        { field: 'estimated_delivery_at', message: 'must be an RFC 3339 timestamp' },
        { field: 'metadata.warehouse', message: 'must be at most 500 characters' },
        { field: 'origin', message: 'is required' },
        { field: 'colour', message: 'is not a field' },
      ],
      resolveOrderField(values),
    );
    expect(byField).toEqual({
      reference: ['is required'],
      'origin.postal_code': ['must not be empty'],
      'destination.country': ['is not a country code'],
      'parcels[0].weight_grams': ['must be between 1 and 1000000'],
      parcels: ['must list 1 to 50 parcels, or be omitted'],
      estimated_delivery_at: ['must be an RFC 3339 timestamp'],
      'metadata[0].value': ['must be at most 500 characters'],
      origin: ['is required'],
    });
    expect(unmatched).toEqual([{ field: 'colour', message: 'is not a field' }]);
  });

  it('puts key problems of metadata on the key input', () => {
    const values = filled();
    values.metadata = [{ ...emptyMetadataRow(), key: '', value: 'x' }];
    const resolve = resolveOrderField(values);
    expect(resolve('metadata.', 'keys must be 1 to 40 characters without control characters')).toBe(
      'metadata[0].key',
    );
    expect(resolve('metadata.unknown', 'x')).toBe('metadata');
  });

  it('sends errors of rows that no longer exist to the group', () => {
    const resolve = resolveOrderField(filled());
    expect(resolve('parcels[3].height_mm', 'x')).toBe('parcels');
  });
});
