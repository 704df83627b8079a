interface FormActionsProps {
  /** The submission is under way: the submit button is disabled and says `pendingLabel`. */
  pending: boolean;
  submitLabel: string;
  pendingLabel: string;
  onCancel: () => void;
}

/** The buttons at the foot of a form: submit, then Cancel. */
export function FormActions({ pending, submitLabel, pendingLabel, onCancel }: FormActionsProps) {
  return (
    <div className="form-actions">
      <button type="submit" className="button button--primary" disabled={pending}>
        {pending ? pendingLabel : submitLabel}
      </button>
      <button type="button" className="button button--secondary" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
