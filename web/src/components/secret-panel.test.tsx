import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SecretPanel } from './secret-panel';

describe('SecretPanel', () => {
  it('shows the secret once with a warning, and copies it', async () => {
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, 'writeText').mockResolvedValue();
    render(<SecretPanel secret="whsec_c2VjcmV0" />);

    expect(screen.getByRole('region', { name: 'Signing secret' })).toBeInTheDocument();
    expect(screen.getByText('whsec_c2VjcmV0')).toBeInTheDocument();
    expect(screen.getByText(/won't be shown again/)).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('');

    await user.click(screen.getByRole('button', { name: 'Copy' }));
    expect(writeText).toHaveBeenCalledWith('whsec_c2VjcmV0');
    expect(screen.getByRole('status')).toHaveTextContent('Copied');
  });

  it('says so when the clipboard refuses', async () => {
    const user = userEvent.setup();
    vi.spyOn(navigator.clipboard, 'writeText').mockRejectedValue(new Error('denied'));
    render(<SecretPanel secret="whsec_x" />);
    await user.click(screen.getByRole('button', { name: 'Copy' }));
    expect(screen.getByRole('status')).toHaveTextContent(/Could not copy/);
  });
});
