import { prettyJson } from '@/lib/format';

/** Pretty-printed JSON (or text) in a scrollable block that keyboard users can scroll too. */
export function JsonBlock({ value }: { value: unknown }) {
  return (
    // A scrollable region must be reachable by keyboard (axe: scrollable-region-focusable).
    // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex
    <pre className="code-block" tabIndex={0}>
      <code>{typeof value === 'string' ? value : prettyJson(value)}</code>
    </pre>
  );
}
