import { useEventTypes } from '@/api/event-types';
import type { EventTypeInfo } from '@/api/types';
import { EmptyState, ErrorView, Loading } from '@/components/feedback';
import { JsonBlock } from '@/components/json-block';
import { PageHeader } from '@/components/page';
import { TextWithCode } from '@/components/text-with-code';

export function EventTypesRoute() {
  const catalog = useEventTypes();
  return (
    <>
      <PageHeader
        title="Event types"
        description="Every event a webhook endpoint can receive, with the JSON Schema of its payload and an example."
      />
      {catalog.isPending ? (
        <Loading />
      ) : catalog.isError ? (
        <ErrorView error={catalog.error} context="The event types could not be loaded." />
      ) : catalog.data.data.length === 0 ? (
        <EmptyState title="No event types">
          <p>The catalog is empty.</p>
        </EmptyState>
      ) : (
        <div className="stack">
          {catalog.data.data.map((t) => (
            <EventTypeCard key={t.type} eventType={t} />
          ))}
        </div>
      )}
    </>
  );
}

function EventTypeCard({ eventType }: { eventType: EventTypeInfo }) {
  const headingId = `type-${eventType.type.replace(/[^a-z0-9]/gi, '-')}`;
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId} className="card__title">
        <code>{eventType.type}</code>
      </h2>
      <p className="card__text">
        <TextWithCode text={eventType.description} />
      </p>
      <h3 className="subheading">Example payload</h3>
      <JsonBlock value={eventType.example} />
      <details className="disclosure">
        <summary>JSON Schema</summary>
        <JsonBlock value={eventType.schema} />
      </details>
    </section>
  );
}
