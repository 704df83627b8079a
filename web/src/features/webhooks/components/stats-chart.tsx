import type { StatsBucket } from '@/api/types';
import { formatDateTime, formatNumber } from '@/lib/format';

const WIDTH = 720;
const HEIGHT = 120;
const PAD = 4;

/** Totals of a period: attempts, their success rate, and the worst hourly p95. */
export function summarize(buckets: readonly StatsBucket[]) {
  let total = 0;
  let succeeded = 0;
  let worstP95: number | null = null;
  for (const b of buckets) {
    total += b.attempts.total;
    succeeded += b.attempts.succeeded;
    const p95 = b.latency_ms.p95;
    if (p95 != null && (worstP95 == null || p95 > worstP95)) worstP95 = p95;
  }
  return { total, rate: total ? succeeded / total : null, worstP95 };
}

function percent(rate: number | null | undefined): string {
  return rate == null ? '–' : `${(rate * 100).toFixed(rate === 1 ? 0 : 1)} %`;
}

function millis(value: number | null | undefined): string {
  return value == null ? '–' : `${formatNumber(Math.round(value))} ms`;
}

/** An x position for bucket `i` of `n`. */
function x(i: number, n: number): number {
  return PAD + ((WIDTH - 2 * PAD) * (i + 0.5)) / Math.max(n, 1);
}

/**
 * Polylines through the buckets that have a value, broken where one has none; a value alone
 * between gaps is drawn as a short level stroke `half` wide on each side, so that it shows.
 */
function segments(values: readonly (number | null | undefined)[], max: number, half: number): string[] {
  const lines: string[] = [];
  let current: [number, number][] = [];
  const close = () => {
    const only = current.length === 1 ? current[0] : undefined;
    const points: [number, number][] = only
      ? [
          [only[0] - half, only[1]],
          [only[0] + half, only[1]],
        ]
      : current;
    if (points.length) lines.push(points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' '));
    current = [];
  };
  values.forEach((value, i) => {
    if (value == null) {
      close();
      return;
    }
    current.push([x(i, values.length), HEIGHT - PAD - ((HEIGHT - 2 * PAD) * Math.min(value, max)) / max]);
  });
  close();
  return lines;
}

/**
 * An endpoint's success rate and latency per bucket, drawn as two charts, with the same numbers
 * in a table for screen readers and for reading exact values.
 */
export function StatsChart({ buckets, label }: { buckets: readonly StatsBucket[]; label: string }) {
  const { total, rate, worstP95 } = summarize(buckets);
  if (!total) {
    return <p className="muted">No attempts in this period.</p>;
  }
  const n = buckets.length;
  const barWidth = Math.max(((WIDTH - 2 * PAD) / n) * 0.7, 1);
  const maxLatency = Math.max(
    1,
    ...buckets.map((b) => Math.max(b.latency_ms.p95 ?? 0, b.latency_ms.p50 ?? 0)),
  );
  const first = buckets[0];
  const last = buckets[n - 1];
  return (
    <div className="stats">
      <dl className="stats__summary">
        <div>
          <dt>Attempts</dt>
          <dd>{formatNumber(total)}</dd>
        </div>
        <div>
          <dt>Success rate</dt>
          <dd>{percent(rate)}</dd>
        </div>
        <div>
          <dt>Worst hourly p95</dt>
          <dd>{millis(worstP95)}</dd>
        </div>
      </dl>
      <figure className="stats__figure">
        <figcaption className="stats__caption">Success rate per hour (0–100 %)</figcaption>
        <svg
          className="stats__chart"
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`Success rate per hour, ${label}: ${percent(rate)} of ${formatNumber(total)} attempts`}
        >
          <line className="stats__axis" x1={PAD} x2={WIDTH - PAD} y1={HEIGHT - PAD} y2={HEIGHT - PAD} />
          {buckets.map((b, i) =>
            b.success_rate == null ? null : (
              <rect
                key={b.start}
                className={b.success_rate < 1 ? 'stats__bar stats__bar--failing' : 'stats__bar'}
                x={x(i, n) - barWidth / 2}
                width={barWidth}
                y={PAD + (HEIGHT - 2 * PAD) * (1 - b.success_rate)}
                height={Math.max((HEIGHT - 2 * PAD) * b.success_rate, 1)}
              />
            ),
          )}
        </svg>
      </figure>
      <figure className="stats__figure">
        <figcaption className="stats__caption">
          Latency per hour: <span className="stats__key stats__key--p50">p50</span> and{' '}
          <span className="stats__key stats__key--p95">p95</span> (up to {millis(maxLatency)})
        </figcaption>
        <svg
          className="stats__chart"
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`Latency per hour, ${label}: worst p95 ${millis(worstP95)}`}
        >
          <line className="stats__axis" x1={PAD} x2={WIDTH - PAD} y1={HEIGHT - PAD} y2={HEIGHT - PAD} />
          {segments(
            buckets.map((b) => b.latency_ms.p95),
            maxLatency,
            barWidth / 2,
          ).map((points) => (
            <polyline key={`p95-${points}`} className="stats__line stats__line--p95" points={points} />
          ))}
          {segments(
            buckets.map((b) => b.latency_ms.p50),
            maxLatency,
            barWidth / 2,
          ).map((points) => (
            <polyline key={`p50-${points}`} className="stats__line stats__line--p50" points={points} />
          ))}
        </svg>
      </figure>
      <p className="stats__range muted">
        {formatDateTime(first?.start ?? '')} – {formatDateTime(last?.start ?? '')}
      </p>
      <details className="stats__details">
        <summary>Hourly figures</summary>
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Attempts, success rate and latency per hour</caption>
            <thead>
              <tr>
                <th scope="col">Hour</th>
                <th scope="col">Attempts</th>
                <th scope="col">Failed</th>
                <th scope="col">Success rate</th>
                <th scope="col">p50</th>
                <th scope="col">p95</th>
              </tr>
            </thead>
            <tbody>
              {buckets
                .filter((b) => b.attempts.total > 0)
                .map((b) => (
                  <tr key={b.start}>
                    <td>{formatDateTime(b.start)}</td>
                    <td>{formatNumber(b.attempts.total)}</td>
                    <td>{formatNumber(b.attempts.total - b.attempts.succeeded)}</td>
                    <td>{percent(b.success_rate)}</td>
                    <td>{millis(b.latency_ms.p50)}</td>
                    <td>{millis(b.latency_ms.p95)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}
