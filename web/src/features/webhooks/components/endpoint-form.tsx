import { useMemo, useRef, useState, type FormEvent } from 'react';
import { ApiError, mapFieldErrors, resolveAgainst } from '@/api/errors';
import { useEventTypes } from '@/api/event-types';
import type { Endpoint, EventType } from '@/api/types';
import { FieldErrors, TextField, errorId } from '@/components/fields';
import { ErrorView, Loading } from '@/components/feedback';
import { FormActions } from '@/components/form-actions';
import { FormSummary } from '@/components/form-summary';
import { TextWithCode } from '@/components/text-with-code';
import { HeadersEditor, headerChanges, storedRows, type HeaderRow } from './headers-editor';

export interface EndpointFormValues {
  url: string;
  description: string;
  /** None checked: every event type. */
  eventTypes: EventType[];
  /** Custom headers to set, or to remove (`null`); stored ones left alone do not appear. */
  headers: Record<string, string | null>;
  /** Deliveries a second, as typed (the API checks it); empty: unlimited. */
  rateLimit: string;
}

interface EndpointFormProps {
  initial?: Pick<Endpoint, 'url' | 'description' | 'event_types' | 'headers' | 'rate_limit_per_second'>;
  submitLabel: string;
  pendingLabel: string;
  /** What failure means, e.g. "The endpoint was not added." */
  failure: string;
  onSubmit: (values: EndpointFormValues) => Promise<unknown>;
  onCancel: () => void;
}

const FIELDS = ['url', 'description', 'event_types', 'headers', 'rate_limit_per_second'];

/** URL, description, event types, custom headers and rate limit: the "Add endpoint" and "Edit endpoint" forms. */
export function EndpointForm({ initial, submitLabel, pendingLabel, failure, onSubmit, onCancel }: EndpointFormProps) {
  const catalog = useEventTypes();
  const [url, setUrl] = useState(initial?.url ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [eventTypes, setEventTypes] = useState<EventType[]>(initial?.event_types ?? []);
  const [headerRows, setHeaderRows] = useState<HeaderRow[]>(() => storedRows(initial?.headers));
  const [rateLimit, setRateLimit] = useState(initial?.rate_limit_per_second?.toString() ?? '');
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  // `pending` disables the submit button only from the next render: this stops a double submit.
  const busy = useRef(false);

  const { byField, unmatched } = useMemo(
    () =>
      mapFieldErrors(error instanceof ApiError ? error.fieldErrors : [], resolveAgainst(FIELDS)),
    [error],
  );

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy.current) return;
    busy.current = true;
    setPending(true);
    setError(null);
    try {
      await onSubmit({
        url: url.trim(),
        description: description.trim(),
        eventTypes,
        headers: headerChanges(headerRows),
        rateLimit: rateLimit.trim(),
      });
    } catch (e) {
      setError(e);
    } finally {
      busy.current = false;
      setPending(false);
    }
  }

  function toggle(type: EventType, checked: boolean) {
    setEventTypes((current) =>
      checked ? [...current.filter((t) => t !== type), type] : current.filter((t) => t !== type),
    );
  }

  return (
    <form className="form form--narrow" onSubmit={(e) => void submit(e)} noValidate>
      {error ? <FormSummary error={error} unmatched={unmatched} context={failure} /> : null}
      <TextField
        name="url"
        label="Endpoint URL"
        hint="An https:// address of your server that accepts POST requests."
        type="url"
        inputMode="url"
        required
        maxLength={2048}
        autoComplete="url"
        placeholder="https://example.com/webhooks"
        value={url}
        onChange={(e) => setUrl(e.target.value)}
        errors={byField.url}
      />
      <TextField
        name="description"
        label="Description"
        optional
        maxLength={500}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
        errors={byField.description}
      />
      <fieldset
        className="fieldset"
        aria-describedby={['event-types-hint', byField.event_types ? errorId('event_types') : '']
          .filter(Boolean)
          .join(' ')}
      >
        <legend className="fieldset__legend">Event types</legend>
        <p id="event-types-hint" className="field__hint">
          Choose the events to send. Leave all unchecked to receive every order event, including
          types added later. Operational events (<code>endpoint.*</code>,{' '}
          <code>delivery.exhausted</code>) are sent only when checked, and never about the endpoint
          itself.
        </p>
        <FieldErrors name="event_types" errors={byField.event_types} />
        {catalog.isPending ? (
          <Loading label="Loading event types…" />
        ) : catalog.isError ? (
          <ErrorView error={catalog.error} context="The event types could not be loaded." />
        ) : (
          <ul className="checkbox-list">
            {catalog.data.data.map((t) => {
              const id = `event-type-${t.type.replace(/[^a-z0-9]/gi, '-')}`;
              return (
                <li key={t.type} className="checkbox">
                  <input
                    id={id}
                    type="checkbox"
                    name="event_types"
                    value={t.type}
                    checked={eventTypes.includes(t.type)}
                    onChange={(e) => toggle(t.type, e.target.checked)}
                    aria-describedby={`${id}-description`}
                  />
                  <label htmlFor={id}>
                    <code>{t.type}</code>
                  </label>
                  <p id={`${id}-description`} className="checkbox__description">
                    <TextWithCode text={t.description} />
                  </p>
                </li>
              );
            })}
          </ul>
        )}
      </fieldset>
      <HeadersEditor rows={headerRows} onChange={setHeaderRows} errors={byField.headers} />
      <TextField
        name="rate_limit_per_second"
        label="Rate limit (deliveries per second)"
        hint="The most deliveries a second this endpoint receives, from 1 to 10,000; a tenth of it may go at once. Deliveries beyond it wait their turn and are not counted as attempts. Leave empty for no limit."
        optional
        type="number"
        inputMode="numeric"
        min={1}
        max={10000}
        step={1}
        value={rateLimit}
        onChange={(e) => setRateLimit(e.target.value)}
        errors={byField.rate_limit_per_second}
      />
      <FormActions pending={pending} submitLabel={submitLabel} pendingLabel={pendingLabel} onCancel={onCancel} />
    </form>
  );
}
