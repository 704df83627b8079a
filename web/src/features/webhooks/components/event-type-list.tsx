import type { Endpoint } from '@/api/types';

/** An endpoint's subscriptions: the types, or "All order events" (operational ones are sent only when named). */
export function EventTypeList({ types }: { types: Endpoint['event_types'] }) {
  if (!types?.length) return <span>All order events</span>;
  return (
    <ul className="tag-list">
      {types.map((t) => (
        <li key={t}>
          <code className="tag">{t}</code>
        </li>
      ))}
    </ul>
  );
}
