import { formatDateTime } from '@/lib/format';

interface TimeProps {
  value: string | null | undefined;
  /** Shown when there is no value. */
  fallback?: string;
  seconds?: boolean;
}

/** A timestamp in the user's locale, machine-readable in `dateTime`. */
export function Time({ value, fallback = '—', seconds = false }: TimeProps) {
  if (!value) return <span className="muted">{fallback}</span>;
  return (
    <time dateTime={value} title={value}>
      {formatDateTime(value, seconds)}
    </time>
  );
}
