import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ApiError } from '@/api/errors';
import { useEventTypes } from '@/api/event-types';
import { DELIVERY_STATUSES, type DeliveryStatus, type EventType } from '@/api/types';
import { EmptyState, ErrorView, Loading } from '@/components/feedback';
import { Pager } from '@/components/pager';
import { Time } from '@/components/time';
import { isoToLocalInput, localInputToIso } from '@/lib/datetime';
import { humanize } from '@/lib/format';
import { param, toSearch, withParams } from '@/lib/search-params';
import { useSingleFlight } from '@/lib/single-flight';
import { useDeliveries } from '../api/deliveries';
import { useRecoverDeliveries } from '../api/endpoints';
import { DeliveryStatusBadge } from '../components/delivery-status-badge';
import { useLoadedEndpoint } from './endpoint-layout';

const FILTERS = ['status', 'event_type', 'created_after', 'created_before'] as const;

export function EndpointDeliveriesRoute() {
  const endpoint = useLoadedEndpoint();
  const [params, setParams] = useSearchParams();
  const query = {
    status: param(params, 'status') as DeliveryStatus | undefined,
    event_type: param(params, 'event_type') as EventType | undefined,
    created_after: param(params, 'created_after'),
    created_before: param(params, 'created_before'),
    cursor: param(params, 'cursor'),
  };
  const deliveries = useDeliveries(endpoint.id, query);
  const filtered = FILTERS.some((f) => query[f] !== undefined);

  function applyFilters(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? '');
    setParams(
      withParams(params, {
        status: text('status'),
        event_type: text('event_type'),
        created_after: localInputToIso(text('created_after')),
        created_before: localInputToIso(text('created_before')),
        cursor: null,
      }),
    );
  }

  const clear = Object.fromEntries([...FILTERS, 'cursor'].map((f) => [f, null]));

  return (
    <div className="stack">
      <section aria-labelledby="log-heading">
        <h2 id="log-heading" className="section__title">
          Delivery log
        </h2>
        <form
          className="filters"
          onSubmit={applyFilters}
          aria-label="Filter deliveries"
          // Re-reads the URL into the inputs after "Clear filters" or back/forward.
          key={toSearch(withParams(params, { cursor: null }))}
        >
          <div className="field field--inline">
            <label htmlFor="filter-delivery-status" className="field__label">
              Status
            </label>
            <select
              id="filter-delivery-status"
              name="status"
              className="input select"
              defaultValue={query.status ?? ''}
            >
              <option value="">All statuses</option>
              {DELIVERY_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {humanize(s)}
                </option>
              ))}
            </select>
          </div>
          <EventTypeFilter value={query.event_type} />
          <CreatedFilter name="created_after" label="Created after" value={query.created_after} />
          <CreatedFilter name="created_before" label="Created before" value={query.created_before} />
          <button type="submit" className="button button--secondary">
            Apply filters
          </button>
          {filtered ? (
            <Link className="link-button" to={{ search: toSearch(withParams(params, clear)) }}>
              Clear filters
            </Link>
          ) : null}
        </form>

        {deliveries.isPending ? (
          <Loading />
        ) : deliveries.isError ? (
          <ErrorView error={deliveries.error} context="The deliveries could not be loaded." />
        ) : deliveries.data.data.length === 0 ? (
          filtered || query.cursor ? (
            <EmptyState title="No deliveries match these filters">
              <p>Widen the time range or clear the filters.</p>
            </EmptyState>
          ) : (
            <EmptyState title="No deliveries yet">
              <p>
                Deliveries appear here when an event is sent to this endpoint. Send a test event
                from the Overview tab to try it.
              </p>
            </EmptyState>
          )
        ) : (
          <>
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Deliveries to this endpoint</caption>
                <thead>
                  <tr>
                    <th scope="col">Delivery</th>
                    <th scope="col">Event type</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="num">
                      Attempts
                    </th>
                    <th scope="col" className="num">
                      Last response
                    </th>
                    <th scope="col">Created</th>
                    <th scope="col">Next attempt</th>
                  </tr>
                </thead>
                <tbody>
                  {deliveries.data.data.map((d) => (
                    <tr key={d.id}>
                      <th scope="row">
                        <Link to={`/deliveries/${d.id}`}>
                          <code>{d.id}</code>
                        </Link>
                      </th>
                      <td>
                        <code>{d.event_type}</code>
                      </td>
                      <td>
                        <DeliveryStatusBadge status={d.status} />
                      </td>
                      <td className="num">{d.attempt_count}</td>
                      <td className="num">{d.last_status_code ?? <span className="muted">—</span>}</td>
                      <td>
                        <Time value={d.created_at} />
                      </td>
                      <td>
                        <Time value={d.next_attempt_at} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager nextCursor={deliveries.data.next_cursor} label="Deliveries" />
          </>
        )}
      </section>

      <RecoverCard endpointId={endpoint.id} enabled={endpoint.enabled} />
    </div>
  );
}

function EventTypeFilter({ value }: { value: EventType | undefined }) {
  const catalog = useEventTypes();
  const types = catalog.data?.data.map((t) => t.type) ?? [];
  if (value && !types.includes(value)) types.push(value);
  return (
    <div className="field field--inline">
      <label htmlFor="filter-event-type" className="field__label">
        Event type
      </label>
      <select
        id="filter-event-type"
        name="event_type"
        className="input select"
        defaultValue={value ?? ''}
        key={`${value ?? ''}:${types.length}`}
      >
        <option value="">All event types</option>
        {types.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A bound of the creation time: the URL keeps an ISO timestamp, the input local time. */
function CreatedFilter({
  name,
  label,
  value,
}: {
  name: 'created_after' | 'created_before';
  label: string;
  value: string | undefined;
}) {
  const id = `filter-${name.replace('_', '-')}`;
  return (
    <div className="field field--inline">
      <label htmlFor={id} className="field__label">
        {label}
      </label>
      <input id={id} name={name} type="datetime-local" className="input" defaultValue={isoToLocalInput(value)} />
    </div>
  );
}

function RecoverCard({ endpointId, enabled }: { endpointId: string; enabled: boolean }) {
  const recover = useRecoverDeliveries(endpointId);
  const once = useSingleFlight();
  const [since, setSince] = useState('');
  const [missing, setMissing] = useState(false);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const iso = localInputToIso(since);
    setMissing(!iso);
    if (iso) once(() => recover.mutateAsync(iso));
  }

  const sinceErrors = missing
    ? ['Choose the date and time to recover from.']
    : recover.error instanceof ApiError
      ? recover.error.fieldErrors.filter((e) => e.field === 'since').map((e) => e.message)
      : [];
  const invalid = sinceErrors.length > 0;
  return (
    <section className="card" aria-labelledby="recover-heading">
      <h2 id="recover-heading" className="card__title">
        Recover failed deliveries
      </h2>
      <p className="card__text">
        Sends every failed delivery created since a point in time again, with its original{' '}
        <code>webhook-id</code>.{' '}
        {enabled ? null : <strong>Enable the endpoint first.</strong>}
      </p>
      {recover.isError ? <ErrorView error={recover.error} /> : null}
      <form className="inline-form" onSubmit={submit} noValidate>
        <div className="field field--inline">
          <label htmlFor="recover-since" className="field__label">
            Since
          </label>
          <input
            id="recover-since"
            type="datetime-local"
            className="input"
            required
            value={since}
            onChange={(e) => setSince(e.target.value)}
            aria-invalid={invalid || undefined}
            aria-describedby={invalid ? 'recover-since-error' : undefined}
          />
        </div>
        <button type="submit" className="button button--secondary" disabled={recover.isPending}>
          {recover.isPending ? 'Recovering…' : 'Recover failed deliveries'}
        </button>
      </form>
      {invalid ? (
        <p id="recover-since-error" className="field-error">
          {sinceErrors.join(' ')}
        </p>
      ) : null}
      <p role="status" className="inline-status">
        {recover.isSuccess
          ? recover.data.queued === 1
            ? 'Queued 1 failed delivery for another attempt.'
            : `Queued ${recover.data.queued} failed deliveries for another attempt.`
          : ''}
      </p>
    </section>
  );
}
