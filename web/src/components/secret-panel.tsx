import { useId, useState, type ReactNode } from 'react';

interface SecretPanelProps {
  secret: string;
  title?: string;
  /** More about the secret (e.g. until when the previous one keeps signing). */
  children?: ReactNode;
}

/** A one-time secret with a Copy button. The secret is never stored by the app. */
export function SecretPanel({ secret, title = 'Signing secret', children }: SecretPanelProps) {
  const headingId = useId();
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');

  async function copySecret() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopy('copied');
    } catch {
      setCopy('failed');
    }
  }

  return (
    <section className="secret-panel" aria-labelledby={headingId}>
      <h2 id={headingId} className="secret-panel__title">
        {title}
      </h2>
      <p className="secret-panel__warning">
        Copy this secret now and keep it somewhere safe: it won't be shown again.
      </p>
      <div className="secret-panel__row">
        <code className="secret-panel__secret selectable">{secret}</code>
        <button type="button" className="button button--primary" onClick={() => void copySecret()}>
          Copy
        </button>
      </div>
      <p role="status" className="secret-panel__status">
        {copy === 'copied'
          ? 'Copied'
          : copy === 'failed'
            ? 'Could not copy: select the secret and copy it by hand.'
            : ''}
      </p>
      {children}
    </section>
  );
}
