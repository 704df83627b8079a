import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import type { Endpoint } from '@/api/types';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { ErrorView, Loading } from '@/components/feedback';
import { SecretPanel } from '@/components/secret-panel';
import { Time } from '@/components/time';
import { formatNumber } from '@/lib/format';
import { useSingleFlight } from '@/lib/single-flight';
import {
  useDeleteEndpoint,
  useRotateSecret,
  useSendTestEvent,
  useUpdateEndpoint,
} from '../api/endpoints';
import { STATS_PERIODS, useEndpointStats, type StatsPeriod } from '../api/stats';
import { EndpointForm } from '../components/endpoint-form';
import { EndpointState } from '../components/endpoint-state';
import { EventTypeList } from '../components/event-type-list';
import { HeaderList } from '../components/headers-editor';
import { StatsChart } from '../components/stats-chart';
import { forgetCreated, peekCreated } from '../lib/secret-store';
import { useLoadedEndpoint } from './endpoint-layout';

export function EndpointOverviewRoute() {
  const endpoint = useLoadedEndpoint();
  return <Overview key={endpoint.id} endpoint={endpoint} />;
}

function Overview({ endpoint }: { endpoint: Endpoint }) {
  // The secret of a just-created endpoint, shown on this visit only.
  const [created] = useState(() => peekCreated(endpoint.id));
  useEffect(() => forgetCreated(endpoint.id), [endpoint.id]);
  const newSecret = created?.secret;
  // What the last creation or change was accepted despite (a host that does not resolve yet).
  const [warnings, setWarnings] = useState<readonly string[]>(() => created?.warnings ?? []);
  const [editing, setEditing] = useState(false);
  const update = useUpdateEndpoint(endpoint.id);

  return (
    <div className="stack">
      {warnings.length ? (
        <div role="status" className="warning-view">
          <p className="warning-view__title">Saved, with a warning</p>
          <ul className="warning-view__list">
            {warnings.map((warning) => (
              <li key={warning}>{warning}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {newSecret ? (
        <SecretPanel secret={newSecret}>
          <p className="secret-panel__note">
            Verify each delivery's <code>webhook-signature</code> with it (Standard Webhooks).
          </p>
        </SecretPanel>
      ) : null}

      <section className="card" aria-labelledby="details-heading">
        <div className="card__header">
          <h2 id="details-heading" className="card__title">
            Details
          </h2>
          {editing ? null : (
            <button type="button" className="button button--secondary" onClick={() => setEditing(true)}>
              Edit endpoint
            </button>
          )}
        </div>
        {editing ? (
          <EndpointForm
            initial={endpoint}
            submitLabel="Save changes"
            pendingLabel="Saving…"
            failure="The changes were not saved."
            onSubmit={async (values) => {
              const updated = await update.mutateAsync({
                url: values.url,
                description: values.description || null,
                event_types: values.eventTypes.length ? values.eventTypes : null,
                ...(Object.keys(values.headers).length ? { headers: values.headers } : {}),
                ...rateLimitChange(values.rateLimit, endpoint.rate_limit_per_second),
              });
              setWarnings(updated.warnings ?? []);
              setEditing(false);
            }}
            onCancel={() => setEditing(false)}
          />
        ) : (
          <dl className="details">
            <dt>URL</dt>
            <dd className="break-anywhere">{endpoint.url}</dd>
            <dt>Description</dt>
            <dd>{endpoint.description ?? <span className="muted">None</span>}</dd>
            <dt>Event types</dt>
            <dd>
              <EventTypeList types={endpoint.event_types} />
            </dd>
            <dt>Custom headers</dt>
            <dd>
              <HeaderList headers={endpoint.headers} />
            </dd>
            <dt>Rate limit</dt>
            <dd>
              {endpoint.rate_limit_per_second == null ? (
                <span className="muted">None</span>
              ) : (
                `${formatNumber(endpoint.rate_limit_per_second)} deliveries a second`
              )}
            </dd>
            <dt>State</dt>
            <dd>
              <EndpointState endpoint={endpoint} />
            </dd>
            <dt>Created</dt>
            <dd>
              <Time value={endpoint.created_at} />
            </dd>
            <dt>Last changed</dt>
            <dd>
              <Time value={endpoint.updated_at} />
            </dd>
          </dl>
        )}
      </section>

      <StatsCard endpoint={endpoint} />

      <div className="grid grid--2">
        <StateCard endpoint={endpoint} onChanged={() => setWarnings([])} />
        <TestCard endpoint={endpoint} />
      </div>

      <RotateCard endpoint={endpoint} />
      <DeleteCard endpoint={endpoint} />
    </div>
  );
}

/** The rate limit as a merge patch: set, removed (`null`), or left out when unchanged. */
function rateLimitChange(typed: string, stored: number | null | undefined) {
  const limit = typed ? Number(typed) : null;
  return limit === (stored ?? null) ? {} : { rate_limit_per_second: limit };
}

/** The endpoint's success rate and latency, hour by hour, over the last day or week. */
function StatsCard({ endpoint }: { endpoint: Endpoint }) {
  const [period, setPeriod] = useState<StatsPeriod>('24h');
  const stats = useEndpointStats(endpoint.id, period);
  return (
    <section className="card" aria-labelledby="stats-heading">
      <div className="card__header">
        <h2 id="stats-heading" className="card__title">
          Statistics
        </h2>
        <div className="segmented" role="group" aria-label="Period">
          {(Object.keys(STATS_PERIODS) as StatsPeriod[]).map((key) => (
            <button
              key={key}
              type="button"
              className="segmented__option"
              aria-pressed={period === key}
              onClick={() => setPeriod(key)}
            >
              {STATS_PERIODS[key].label}
            </button>
          ))}
        </div>
      </div>
      {stats.isPending ? (
        <Loading label="Loading statistics…" />
      ) : stats.isError ? (
        <ErrorView error={stats.error} context="The statistics could not be loaded." />
      ) : (
        <StatsChart buckets={stats.data.data} label={STATS_PERIODS[period].label.toLowerCase()} />
      )}
    </section>
  );
}

/** Disables or enables the endpoint; `onChanged` follows a change that was saved. */
function StateCard({ endpoint, onChanged }: { endpoint: Endpoint; onChanged: () => void }) {
  const update = useUpdateEndpoint(endpoint.id);
  const once = useSingleFlight();
  return (
    <section className="card" aria-labelledby="state-heading">
      <h2 id="state-heading" className="card__title">
        {endpoint.enabled ? 'Receiving deliveries' : 'Not receiving deliveries'}
      </h2>
      <p className="card__text">
        {endpoint.enabled
          ? 'Disabling stops new deliveries; deliveries waiting for a retry fail.'
          : 'Enabling resumes deliveries of new events. Recover the failed ones from the Deliveries tab.'}
      </p>
      {update.isError ? <ErrorView error={update.error} /> : null}
      <button
        type="button"
        className={endpoint.enabled ? 'button button--secondary' : 'button button--primary'}
        disabled={update.isPending}
        onClick={() =>
          once(async () => {
            await update.mutateAsync({ enabled: !endpoint.enabled });
            onChanged();
          })
        }
      >
        {endpoint.enabled ? 'Disable endpoint' : 'Enable endpoint'}
      </button>
    </section>
  );
}

function TestCard({ endpoint }: { endpoint: Endpoint }) {
  const test = useSendTestEvent(endpoint.id);
  const once = useSingleFlight();
  return (
    <section className="card" aria-labelledby="test-heading">
      <h2 id="test-heading" className="card__title">
        Test event
      </h2>
      <p className="card__text">
        Sends a <code>webhook.test</code> event to this endpoint through the real delivery
        pipeline, signed like any other.
      </p>
      {test.isError ? <ErrorView error={test.error} /> : null}
      <div className="inline-actions">
        <button
          type="button"
          className="button button--secondary"
          disabled={test.isPending}
          onClick={() => once(() => test.mutateAsync())}
        >
          {test.isPending ? 'Sending…' : 'Send test event'}
        </button>
        <p role="status" className="inline-status">
          {test.isSuccess ? (
            <>
              Test event queued. <Link to={`/deliveries/${test.data.delivery_id}`}>View delivery</Link>
            </>
          ) : null}
        </p>
      </div>
    </section>
  );
}

const GRACE_PERIODS = [
  { seconds: 0, label: 'None: the old secret stops now' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 604_800, label: '7 days' },
] as const;

function RotateCard({ endpoint }: { endpoint: Endpoint }) {
  const rotate = useRotateSecret(endpoint.id);
  const once = useSingleFlight();
  const [grace, setGrace] = useState('86400');

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    once(() => rotate.mutateAsync(Number(grace)));
  }

  return (
    <section className="card" aria-labelledby="rotate-heading">
      <h2 id="rotate-heading" className="card__title">
        Secret rotation
      </h2>
      <p className="card__text">
        Issue a new signing secret. During the grace period every delivery carries signatures of
        both the old and the new secret, so you can switch your receiver without downtime.
      </p>
      {rotate.isError ? <ErrorView error={rotate.error} /> : null}
      <form className="inline-form" onSubmit={submit}>
        <div className="field field--inline">
          <label htmlFor="grace-period" className="field__label">
            Grace period
          </label>
          <select
            id="grace-period"
            className="input select"
            value={grace}
            onChange={(e) => setGrace(e.target.value)}
          >
            {GRACE_PERIODS.map((p) => (
              <option key={p.seconds} value={p.seconds}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button button--secondary" disabled={rotate.isPending}>
          {rotate.isPending ? 'Rotating…' : 'Rotate secret'}
        </button>
      </form>
      {rotate.isSuccess ? (
        <SecretPanel secret={rotate.data.secret}>
          <p className="secret-panel__note">
            {rotate.variables === 0 ? (
              'The previous secret no longer signs deliveries.'
            ) : (
              <>
                The previous secret keeps signing until{' '}
                <Time value={rotate.data.previous_secret_expires_at} seconds />.
              </>
            )}
          </p>
        </SecretPanel>
      ) : null}
    </section>
  );
}

function DeleteCard({ endpoint }: { endpoint: Endpoint }) {
  const navigate = useNavigate();
  const remove = useDeleteEndpoint(endpoint.id);
  return (
    <section className="card card--danger" aria-labelledby="delete-heading">
      <h2 id="delete-heading" className="card__title">
        Delete endpoint
      </h2>
      <p className="card__text">
        Deliveries stop at once, and deliveries waiting for a retry fail.
      </p>
      <ConfirmDialog
        trigger="Delete endpoint"
        triggerClassName="button button--danger-outline"
        title="Delete this endpoint?"
        confirmLabel="Yes, delete endpoint"
        cancelLabel="Keep endpoint"
        danger
        onConfirm={async () => {
          await remove.mutateAsync();
          await navigate('/webhooks');
        }}
      >
        <p>
          <span className="break-anywhere">{endpoint.url}</span> will receive no more deliveries.
          This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}
