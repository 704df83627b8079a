import type { ReactNode } from 'react';

export type Tone = 'neutral' | 'info' | 'progress' | 'success' | 'warning' | 'danger';

/** A status badge; its text says everything, the colour only repeats it. */
export function Badge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return <span className={`badge badge--${tone}`}>{children}</span>;
}
