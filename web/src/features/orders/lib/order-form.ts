/**
 * The "Place order" form's values, and the request body built from them: every field of the
 * API's `CreateOrder`. Text is trimmed; empty optional fields are left out; numbers are sent as
 * numbers; the estimated delivery (a local `datetime-local` value) is sent as RFC 3339 UTC;
 * metadata rows become an object.
 */
import type { AddressInput, CreateOrder, ParcelInput } from '@/api/types';
import type { FieldError } from '@/api/errors';
import { localInputToIso } from '@/lib/datetime';

export const MAX_PARCELS = 50;
export const MAX_METADATA = 20;

export interface AddressValues {
  name: string;
  line1: string;
  line2: string;
  city: string;
  region: string;
  postal_code: string;
  country: string;
}

export interface ParcelValues {
  /** React key of the row. */
  rowId: string;
  weight_grams: string;
  length_mm: string;
  width_mm: string;
  height_mm: string;
}

export interface MetadataRow {
  rowId: string;
  key: string;
  value: string;
}

export interface OrderFormValues {
  reference: string;
  origin: AddressValues;
  destination: AddressValues;
  parcels: ParcelValues[];
  carrier: string;
  tracking_number: string;
  /** A `datetime-local` value. */
  estimated_delivery_at: string;
  metadata: MetadataRow[];
}

export const ADDRESS_FIELDS = [
  'name',
  'line1',
  'line2',
  'city',
  'region',
  'postal_code',
  'country',
] as const satisfies readonly (keyof AddressValues)[];

export const PARCEL_FIELDS = [
  'weight_grams',
  'length_mm',
  'width_mm',
  'height_mm',
] as const satisfies readonly (keyof ParcelInput)[];

let rows = 0;
export function rowId(): string {
  rows += 1;
  return `row-${rows}`;
}

export function emptyAddress(): AddressValues {
  return { name: '', line1: '', line2: '', city: '', region: '', postal_code: '', country: '' };
}

export function emptyParcel(): ParcelValues {
  return { rowId: rowId(), weight_grams: '', length_mm: '', width_mm: '', height_mm: '' };
}

export function emptyMetadataRow(): MetadataRow {
  return { rowId: rowId(), key: '', value: '' };
}

export function emptyOrderForm(): OrderFormValues {
  return {
    reference: '',
    origin: emptyAddress(),
    destination: emptyAddress(),
    parcels: [emptyParcel()],
    carrier: '',
    tracking_number: '',
    estimated_delivery_at: '',
    metadata: [],
  };
}

function optional(value: string): string | undefined {
  const trimmed = value.trim();
  return trimmed ? trimmed : undefined;
}

function address(values: AddressValues): AddressInput {
  const body: AddressInput = {
    name: values.name.trim(),
    line1: values.line1.trim(),
    city: values.city.trim(),
    postal_code: values.postal_code.trim(),
    country: values.country.trim().toUpperCase() as AddressInput['country'],
  };
  const line2 = optional(values.line2);
  if (line2 !== undefined) body.line2 = line2;
  const region = optional(values.region);
  if (region !== undefined) body.region = region;
  return body;
}

/** A whole number as a number; anything else as typed, for the API to explain. */
function quantity(value: string): number | undefined {
  const trimmed = value.trim();
  if (!trimmed) return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

function isBlankParcel(parcel: ParcelValues): boolean {
  return PARCEL_FIELDS.every((field) => !parcel[field].trim());
}

function parcel(values: ParcelValues): ParcelInput {
  // A missing quantity is left out so that the API answers "is required" for that field.
  const body: Partial<Record<(typeof PARCEL_FIELDS)[number], number>> = {};
  for (const field of PARCEL_FIELDS) {
    const n = quantity(values[field]);
    if (n !== undefined) body[field] = n;
  }
  return body as ParcelInput;
}

/** Problems the API cannot report (they are lost when rows become an object). */
export function checkOrderForm(values: OrderFormValues): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  values.metadata.forEach((row, i) => {
    const key = row.key.trim();
    if (!key && !row.value.trim()) return;
    if (seen.has(key)) {
      errors.push({ field: `metadata[${i}].key`, message: 'is used by another entry' });
    }
    seen.add(key);
  });
  return errors;
}

/** The `POST /v1/orders` body. */
export function buildCreateOrder(values: OrderFormValues): CreateOrder {
  const body: CreateOrder = {
    reference: values.reference.trim(),
    origin: address(values.origin),
    destination: address(values.destination),
  };
  // Parcels are optional as a whole; rows keep their positions so errors map back to them.
  if (!values.parcels.every(isBlankParcel)) {
    body.parcels = values.parcels.map(parcel);
  }
  const carrier = optional(values.carrier);
  if (carrier !== undefined) body.carrier = carrier;
  const tracking = optional(values.tracking_number);
  if (tracking !== undefined) body.tracking_number = tracking;
  const eta = localInputToIso(values.estimated_delivery_at);
  if (eta !== undefined) body.estimated_delivery_at = eta;
  const metadata: Record<string, string> = {};
  let any = false;
  for (const row of values.metadata) {
    const key = row.key.trim();
    if (!key && !row.value.trim()) continue;
    metadata[key] = row.value;
    any = true;
  }
  if (any) body.metadata = metadata;
  return body;
}

/**
 * Where an API field error is shown: the input named by the same path, the group
 * (`parcels`, `metadata`, `origin`), or for `metadata.<key>` the row with that key.
 */
export function resolveOrderField(values: OrderFormValues) {
  return (path: string, message: string): string | null => {
    if (path === 'reference' || path === 'carrier' || path === 'tracking_number' || path === 'estimated_delivery_at') {
      return path;
    }
    const address = /^(origin|destination)(?:\.(\w+))?$/.exec(path);
    if (address) {
      const [, which, field] = address;
      if (!field) return which ?? null;
      return (ADDRESS_FIELDS as readonly string[]).includes(field) ? path : which ?? null;
    }
    const parcelMatch = /^parcels\[(\d+)\](?:\.(\w+))?$/.exec(path);
    if (parcelMatch) {
      const index = Number(parcelMatch[1]);
      const field = parcelMatch[2];
      if (index >= values.parcels.length) return 'parcels';
      if (field && (PARCEL_FIELDS as readonly string[]).includes(field)) return path;
      return 'parcels';
    }
    if (path === 'parcels') return 'parcels';
    const metadataRow = /^metadata\[(\d+)\]\.(key|value)$/.exec(path);
    if (metadataRow) return path;
    if (path === 'metadata') return 'metadata';
    if (path.startsWith('metadata.')) {
      const key = path.slice('metadata.'.length);
      const index = values.metadata.findIndex((row) => row.key.trim() === key);
      if (index < 0) return 'metadata';
      return message.startsWith('keys ') ? `metadata[${index}].key` : `metadata[${index}].value`;
    }
    return null;
  };
}
