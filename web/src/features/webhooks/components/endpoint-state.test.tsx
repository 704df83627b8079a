import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { EndpointState, disabledReasonText } from './endpoint-state';

describe('disabledReasonText', () => {
  it.each([
    ['gone', 'the receiver answered 410 Gone'],
    ['auto_disabled', 'failing for too long'],
    ['manual', 'disabled by you'],
    ['disabled_by_customer', 'disabled by you'],
    [null, 'disabled by you'],
    [undefined, 'disabled by you'],
  ])('%s → %s', (reason, text) => {
    expect(disabledReasonText(reason)).toBe(text);
  });
});

describe('EndpointState', () => {
  it('shows Enabled for a healthy endpoint', () => {
    render(<EndpointState endpoint={{ enabled: true, disabled_reason: null, failing_since: null }} />);
    expect(screen.getByText('Enabled')).toBeInTheDocument();
  });

  it('shows Disabled with the reason in words', () => {
    render(<EndpointState endpoint={{ enabled: false, disabled_reason: 'gone' }} />);
    expect(screen.getByText('Disabled')).toBeInTheDocument();
    expect(screen.getByText('the receiver answered 410 Gone')).toBeInTheDocument();
  });

  it('shows Failing since a time', () => {
    const since = '2026-11-22T10:00:00.000Z';
    const { container } = render(
      <EndpointState endpoint={{ enabled: true, disabled_reason: null, failing_since: since }} />,
    );
    expect(screen.getByText('Failing')).toBeInTheDocument();
    expect(container).toHaveTextContent(/Failing\s*since/);
    expect(container.querySelector('time')).toHaveAttribute('dateTime', since);
  });
});
