import type { Endpoint } from '@/api/types';

/** An endpoint's subscriptions: the types, or "All events". */
export function EventTypeList({ types }: { types: Endpoint['event_types'] }) {
  if (!types?.length) return <span>All events</span>;
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
