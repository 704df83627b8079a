import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { StatsBucket } from '@/api/types';
import { StatsChart, summarize } from './stats-chart';

function bucket(
  start: string,
  total: number,
  succeeded: number,
  p50: number | null,
  p95: number | null,
): StatsBucket {
  return {
    start,
    attempts: {
      total,
      succeeded,
      http: total - succeeded,
      timeout: 0,
      connection: 0,
      dns: 0,
      blocked_target: 0,
    },
    success_rate: total ? succeeded / total : null,
    latency_ms: { p50, p95 },
  };
}

const BUCKETS = [
  bucket('2026-11-22T08:00:00.000Z', 0, 0, null, null),
  bucket('2026-11-22T09:00:00.000Z', 40, 40, 62.5, 180),
  bucket('2026-11-22T10:00:00.000Z', 10, 5, 75, 2400),
];

describe('StatsChart', () => {
  it('sums the period: attempts, success rate, worst p95', () => {
    expect(summarize(BUCKETS)).toEqual({ total: 50, rate: 0.9, worstP95: 2400 });
    expect(summarize([])).toEqual({ total: 0, rate: null, worstP95: null });
  });

  it('draws both charts with a label saying what they show, and the figures in a table', () => {
    render(<StatsChart buckets={BUCKETS} label="last 24 hours" />);
    expect(
      screen.getByRole('img', { name: /Success rate per hour, last 24 hours: 90\.0 % of 50 attempts/ }),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('img', { name: /Latency per hour, last 24 hours: worst p95 2,400 ms/ }),
    ).toBeInTheDocument();
    const table = screen.getByRole('table', { name: 'Attempts, success rate and latency per hour' });
    const rows = within(table).getAllByRole('row');
    // The header, and the two hours that had attempts.
    expect(rows).toHaveLength(3);
    expect(within(rows[2] as HTMLElement).getAllByRole('cell').map((c) => c.textContent)).toEqual([
      expect.any(String),
      '10',
      '5',
      '50.0 %',
      '75 ms',
      '2,400 ms',
    ]);
  });

  it('says so when the period had no attempts', () => {
    render(<StatsChart buckets={[BUCKETS[0] as StatsBucket]} label="last 7 days" />);
    expect(screen.getByText('No attempts in this period.')).toBeInTheDocument();
    expect(screen.queryByRole('img')).not.toBeInTheDocument();
  });
});
