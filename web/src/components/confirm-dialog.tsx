import { useId, useRef, useState, type ReactNode } from 'react';
import { ErrorView } from './feedback';

interface ConfirmDialogProps {
  /** The button that opens the dialog. */
  trigger: ReactNode;
  triggerClassName?: string;
  /** The dialog's heading. */
  title: string;
  children: ReactNode;
  /** The button that does it, e.g. "Yes, delete endpoint". */
  confirmLabel: string;
  /** The button that closes the dialog without doing it. */
  cancelLabel: string;
  /** Does it; a rejection keeps the dialog open and shows the error. */
  onConfirm: () => Promise<unknown>;
  /** Whether the action is destructive (red button). */
  danger?: boolean;
}

/**
 * A confirmation in a native modal `<dialog>`: the browser traps focus and closes it on
 * Escape; focus goes back to the button that opened it.
 */
export function ConfirmDialog({
  trigger,
  triggerClassName = 'button button--secondary',
  title,
  children,
  confirmLabel,
  cancelLabel,
  onConfirm,
  danger = false,
}: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const [pending, setPending] = useState(false);
  // `pending` disables the button only from the next render: this stops a double click.
  const busy = useRef(false);
  const [error, setError] = useState<unknown>(null);

  function open() {
    setError(null);
    dialog.current?.showModal();
  }

  function close() {
    dialog.current?.close();
  }

  async function confirm() {
    if (busy.current) return;
    busy.current = true;
    setPending(true);
    setError(null);
    try {
      await onConfirm();
      close();
    } catch (e) {
      setError(e);
    } finally {
      busy.current = false;
      setPending(false);
    }
  }

  return (
    <>
      <button ref={opener} type="button" className={triggerClassName} onClick={open}>
        {trigger}
      </button>
      <dialog
        ref={dialog}
        className="dialog"
        aria-labelledby={titleId}
        onClose={() => opener.current?.focus()}
      >
        <h2 id={titleId} className="dialog__title">
          {title}
        </h2>
        <div className="dialog__body">{children}</div>
        {error ? <ErrorView error={error} /> : null}
        <div className="dialog__actions">
          <button type="button" className="button button--secondary" onClick={close}>
            {cancelLabel}
          </button>
          <button
            type="button"
            className={danger ? 'button button--danger' : 'button button--primary'}
            onClick={() => void confirm()}
            disabled={pending}
          >
            {pending ? 'Working…' : confirmLabel}
          </button>
        </div>
      </dialog>
    </>
  );
}
