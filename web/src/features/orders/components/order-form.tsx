import { useMemo, useRef, useState, type FormEvent } from 'react';
import { ApiError, mapFieldErrors, PROBLEM, type FieldError } from '@/api/errors';
import type { CreateOrder } from '@/api/types';
import { FieldErrors, SelectField, TextField, errorId } from '@/components/fields';
import { FormActions } from '@/components/form-actions';
import { FormSummary } from '@/components/form-summary';
import { COUNTRIES } from '../lib/countries';
import {
  MAX_METADATA,
  MAX_PARCELS,
  buildCreateOrder,
  checkOrderForm,
  emptyMetadataRow,
  emptyOrderForm,
  emptyParcel,
  resolveOrderField,
  type AddressValues,
  type MetadataRow,
  type OrderFormValues,
  type ParcelValues,
} from '../lib/order-form';

interface OrderFormProps {
  /** Sends the body; rejects with an {@link ApiError} when the API refuses it. */
  onSubmit: (body: CreateOrder) => Promise<unknown>;
  /** Leaves the form. */
  onCancel: () => void;
}

type Errors = Record<string, string[]>;

export function OrderForm({ onSubmit, onCancel }: OrderFormProps) {
  const [values, setValues] = useState<OrderFormValues>(emptyOrderForm);
  const [error, setError] = useState<unknown>(null);
  const [clientErrors, setClientErrors] = useState<FieldError[]>([]);
  const [pending, setPending] = useState(false);
  // `pending` disables the submit button only from the next render: this stops a double submit.
  const busy = useRef(false);

  const { byField, unmatched } = useMemo(() => {
    const fieldErrors = error instanceof ApiError ? error.fieldErrors : clientErrors;
    const mapped = mapFieldErrors(fieldErrors, resolveOrderField(values));
    if (error instanceof ApiError && error.status === 409 && error.is(PROBLEM.duplicateReference)) {
      (mapped.byField.reference ??= []).push(error.problem.detail);
    }
    return mapped;
  }, [error, clientErrors, values]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy.current) return;
    const local = checkOrderForm(values);
    setClientErrors(local);
    if (local.length) {
      setError(new Error('Some fields need your attention: see the messages beside them.'));
      return;
    }
    busy.current = true;
    setPending(true);
    setError(null);
    try {
      await onSubmit(buildCreateOrder(values));
    } catch (e) {
      setError(e);
    } finally {
      busy.current = false;
      setPending(false);
    }
  }

  const update = (change: (v: OrderFormValues) => OrderFormValues) => setValues(change);
  const setAddress = (which: 'origin' | 'destination', field: keyof AddressValues, value: string) =>
    update((v) => ({ ...v, [which]: { ...v[which], [field]: value } }));
  const setParcel = (index: number, field: keyof Omit<ParcelValues, 'rowId'>, value: string) =>
    update((v) => ({
      ...v,
      parcels: v.parcels.map((p, i) => (i === index ? { ...p, [field]: value } : p)),
    }));
  const setMetadata = (index: number, field: keyof Omit<MetadataRow, 'rowId'>, value: string) =>
    update((v) => ({
      ...v,
      metadata: v.metadata.map((m, i) => (i === index ? { ...m, [field]: value } : m)),
    }));

  return (
    <form className="form" onSubmit={(e) => void submit(e)} noValidate aria-label="Place order">
      {error ? (
        <FormSummary error={error} unmatched={unmatched} context="The order was not placed." />
      ) : null}

      <section className="form-section">
        <h2 className="form-section__title">Order</h2>
        <TextField
          name="reference"
          label="Reference"
          hint="Your own reference, unique among your orders (up to 64 characters)."
          required
          maxLength={64}
          autoComplete="off"
          value={values.reference}
          onChange={(e) => update((v) => ({ ...v, reference: e.target.value }))}
          errors={byField.reference}
        />
      </section>

      <div className="grid grid--2">
        <AddressFieldset
          which="origin"
          legend="Origin"
          hint="Where the parcels are picked up."
          values={values.origin}
          errors={byField}
          onChange={(field, value) => setAddress('origin', field, value)}
        />
        <AddressFieldset
          which="destination"
          legend="Destination"
          hint="Where the parcels are delivered."
          values={values.destination}
          errors={byField}
          onChange={(field, value) => setAddress('destination', field, value)}
        />
      </div>

      <fieldset
        className="fieldset"
        aria-describedby={byField.parcels ? errorId('parcels') : undefined}
      >
        <legend className="fieldset__legend">Parcels</legend>
        <p className="field__hint">1 to {MAX_PARCELS} parcels: weight in grams, sides in millimetres.</p>
        <FieldErrors name="parcels" errors={byField.parcels} />
        <ol className="rows">
          {values.parcels.map((parcel, i) => (
            <li key={parcel.rowId} className="row-group">
              <fieldset className="row-fieldset">
                <legend className="row-fieldset__legend">Parcel {i + 1}</legend>
                <div className="row-fields row-fields--4">
                  {(
                    [
                      ['weight_grams', 'Weight (g)', 1_000_000],
                      ['length_mm', 'Length (mm)', 10_000],
                      ['width_mm', 'Width (mm)', 10_000],
                      ['height_mm', 'Height (mm)', 10_000],
                    ] as const
                  ).map(([field, label, max]) => (
                    <TextField
                      key={field}
                      name={`parcels[${i}].${field}`}
                      label={label}
                      type="number"
                      inputMode="numeric"
                      min={1}
                      max={max}
                      step={1}
                      required
                      value={parcel[field]}
                      onChange={(e) => setParcel(i, field, e.target.value)}
                      errors={byField[`parcels[${i}].${field}`]}
                    />
                  ))}
                </div>
                <button
                  type="button"
                  className="button button--ghost row-remove"
                  disabled={values.parcels.length <= 1}
                  onClick={() => update((v) => ({ ...v, parcels: v.parcels.filter((_, j) => j !== i) }))}
                >
                  Remove parcel {i + 1}
                </button>
              </fieldset>
            </li>
          ))}
        </ol>
        <button
          type="button"
          className="button button--secondary"
          disabled={values.parcels.length >= MAX_PARCELS}
          onClick={() => update((v) => ({ ...v, parcels: [...v.parcels, emptyParcel()] }))}
        >
          Add parcel
        </button>
      </fieldset>

      <fieldset className="fieldset">
        <legend className="fieldset__legend">Shipping</legend>
        <div className="row-fields row-fields--3">
          <TextField
            name="carrier"
            label="Carrier"
            optional
            maxLength={64}
            value={values.carrier}
            onChange={(e) => update((v) => ({ ...v, carrier: e.target.value }))}
            errors={byField.carrier}
          />
          <TextField
            name="tracking_number"
            label="Tracking number"
            optional
            maxLength={64}
            autoComplete="off"
            value={values.tracking_number}
            onChange={(e) => update((v) => ({ ...v, tracking_number: e.target.value }))}
            errors={byField.tracking_number}
          />
          <TextField
            name="estimated_delivery_at"
            label="Estimated delivery"
            optional
            hint="In your local time."
            type="datetime-local"
            value={values.estimated_delivery_at}
            onChange={(e) => update((v) => ({ ...v, estimated_delivery_at: e.target.value }))}
            errors={byField.estimated_delivery_at}
          />
        </div>
      </fieldset>

      <fieldset
        className="fieldset"
        aria-describedby={byField.metadata ? errorId('metadata') : undefined}
      >
        <legend className="fieldset__legend">Metadata</legend>
        <p className="field__hint">
          Up to {MAX_METADATA} key/value pairs of your own, sent back in webhooks (optional).
        </p>
        <FieldErrors name="metadata" errors={byField.metadata} />
        {values.metadata.length ? (
          <ol className="rows">
            {values.metadata.map((row, i) => (
              <li key={row.rowId} className="row-group">
                <fieldset className="row-fieldset">
                  <legend className="row-fieldset__legend">Entry {i + 1}</legend>
                  <div className="row-fields row-fields--2">
                    <TextField
                      name={`metadata[${i}].key`}
                      label="Key"
                      maxLength={40}
                      autoComplete="off"
                      value={row.key}
                      onChange={(e) => setMetadata(i, 'key', e.target.value)}
                      errors={byField[`metadata[${i}].key`]}
                    />
                    <TextField
                      name={`metadata[${i}].value`}
                      label="Value"
                      maxLength={500}
                      autoComplete="off"
                      value={row.value}
                      onChange={(e) => setMetadata(i, 'value', e.target.value)}
                      errors={byField[`metadata[${i}].value`]}
                    />
                  </div>
                  <button
                    type="button"
                    className="button button--ghost row-remove"
                    onClick={() =>
                      update((v) => ({ ...v, metadata: v.metadata.filter((_, j) => j !== i) }))
                    }
                  >
                    Remove entry {i + 1}
                  </button>
                </fieldset>
              </li>
            ))}
          </ol>
        ) : null}
        <button
          type="button"
          className="button button--secondary"
          disabled={values.metadata.length >= MAX_METADATA}
          onClick={() => update((v) => ({ ...v, metadata: [...v.metadata, emptyMetadataRow()] }))}
        >
          Add metadata
        </button>
      </fieldset>

      <FormActions pending={pending} submitLabel="Place order" pendingLabel="Placing order…" onCancel={onCancel} />
    </form>
  );
}

interface AddressFieldsetProps {
  which: 'origin' | 'destination';
  legend: string;
  hint: string;
  values: AddressValues;
  errors: Errors;
  onChange: (field: keyof AddressValues, value: string) => void;
}

function AddressFieldset({ which, legend, hint, values, errors, onChange }: AddressFieldsetProps) {
  const section = which === 'origin' ? 'section-origin' : 'section-destination';
  const field = (name: keyof AddressValues) => ({
    name: `${which}.${name}`,
    value: values[name],
    errors: errors[`${which}.${name}`],
    onChange: (e: { target: { value: string } }) => onChange(name, e.target.value),
  });
  return (
    <fieldset className="fieldset" aria-describedby={errors[which] ? errorId(which) : undefined}>
      <legend className="fieldset__legend">{legend}</legend>
      <p className="field__hint">{hint}</p>
      <FieldErrors name={which} errors={errors[which]} />
      <TextField label="Name" required maxLength={200} autoComplete={`${section} name`} {...field('name')} />
      <TextField label="Address line 1" required maxLength={200} autoComplete={`${section} address-line1`} {...field('line1')} />
      <TextField label="Address line 2" optional maxLength={200} autoComplete={`${section} address-line2`} {...field('line2')} />
      <div className="row-fields row-fields--2">
        <TextField label="Postal code" required maxLength={20} autoComplete={`${section} postal-code`} {...field('postal_code')} />
        <TextField label="City" required maxLength={100} autoComplete={`${section} address-level2`} {...field('city')} />
      </div>
      <div className="row-fields row-fields--2">
        <TextField label="Region" optional maxLength={100} autoComplete={`${section} address-level1`} {...field('region')} />
        <SelectField label="Country" required autoComplete={`${section} country`} {...field('country')}>
          <option value="">Choose a country</option>
          {COUNTRIES.map((c) => (
            <option key={c.code} value={c.code}>
              {c.name}
            </option>
          ))}
        </SelectField>
      </div>
    </fieldset>
  );
}
