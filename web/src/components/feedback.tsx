import type { ReactNode } from 'react';
import { ApiError } from '@/api/errors';

/** The loading state of a view. */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p role="status" className="loading">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

interface EmptyStateProps {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}

/** The empty state of a list. */
export function EmptyState({ title, children, action }: EmptyStateProps) {
  return (
    <div className="empty-state">
      <p className="empty-state__title">{title}</p>
      {children ? <div className="empty-state__body">{children}</div> : null}
      {action ? <div className="empty-state__action">{action}</div> : null}
    </div>
  );
}

/** What went wrong, for people: the problem's title and detail, and its request id. */
export function describeError(error: unknown): {
  title: string;
  detail: string;
  requestId: string | null;
} {
  if (error instanceof ApiError) {
    return { title: error.problem.title, detail: error.problem.detail, requestId: error.requestId };
  }
  if (error instanceof TypeError) {
    return {
      title: 'Network error',
      detail: 'The API could not be reached. Check your connection and try again.',
      requestId: null,
    };
  }
  return {
    title: 'Something went wrong',
    detail: error instanceof Error ? error.message : String(error),
    requestId: null,
  };
}

interface ErrorViewProps {
  error: unknown;
  /** What failed, e.g. "The orders could not be loaded." */
  context?: string;
}

/** The error state of a query or mutation: the problem's `detail` and `request_id`. */
export function ErrorView({ error, context }: ErrorViewProps) {
  const { title, detail, requestId } = describeError(error);
  return (
    <div role="alert" className="error-view">
      <p className="error-view__title">{context ?? title}</p>
      <p className="error-view__detail">{detail}</p>
      <RequestId requestId={requestId} />
    </div>
  );
}

/** The request id of a failed call, for support: nothing when there is none. */
export function RequestId({ requestId }: { requestId: string | null }) {
  if (!requestId) return null;
  return (
    <p className="error-view__request">
      Request ID: <code className="selectable">{requestId}</code>
    </p>
  );
}
