import { useEffect, useRef } from 'react';
import { ApiError, type FieldError } from '@/api/errors';
import { RequestId, describeError } from './feedback';

interface FormSummaryProps {
  error: unknown;
  /** Field errors that match no input. */
  unmatched: readonly FieldError[];
  /** What failed, e.g. "The order was not placed." */
  context: string;
}

/**
 * The summary at the top of a form after a failed submission: the problem's detail, the
 * field errors no input shows, and the request id. It takes focus so it is read out.
 */
export function FormSummary({ error, unmatched, context }: FormSummaryProps) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, [error]);
  const { detail, requestId } = describeError(error);
  const hasFieldErrors = error instanceof ApiError && error.fieldErrors.length > 0;
  return (
    <div ref={ref} role="alert" tabIndex={-1} className="error-view form-summary">
      <p className="error-view__title">{context}</p>
      <p className="error-view__detail">
        {hasFieldErrors ? 'Some fields need your attention: see the messages beside them.' : detail}
      </p>
      {unmatched.length ? (
        <ul className="form-summary__list">
          {unmatched.map((e) => (
            <li key={`${e.field}:${e.message}`}>
              <code>{e.field || '(request)'}</code> {e.message}
            </li>
          ))}
        </ul>
      ) : null}
      <RequestId requestId={requestId} />
    </div>
  );
}
