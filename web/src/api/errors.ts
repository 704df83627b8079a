/**
 * Failed API calls as one error type: every error answer of the API is an RFC 9457 problem
 * document (`type`, `title`, `status`, `detail`, `request_id`, and on 422 `errors`).
 */
import type { components } from './schema';

export type Problem = components['schemas']['Problem'];
export type FieldError = components['schemas']['FieldError'];

/** The problem type slugs the app treats specially. */
export const PROBLEM = {
  portalSessionExpired: 'portal-session-expired',
  unauthorized: 'unauthorized',
  notFound: 'not-found',
  validation: 'validation',
  duplicateReference: 'duplicate-reference',
} as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fieldErrors(value: unknown): FieldError[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) =>
    isRecord(item) && typeof item.field === 'string' && typeof item.message === 'string'
      ? [{ field: item.field, message: item.message }]
      : [],
  );
}

/**
 * Reads a problem document out of an error body; anything else (a proxy's HTML page, an
 * empty body) becomes a problem built from the status.
 */
export function toProblem(body: unknown, status: number, statusText = '', requestId?: string | null): Problem {
  if (isRecord(body) && typeof body.detail === 'string') {
    return {
      type: typeof body.type === 'string' ? body.type : 'about:blank',
      title: typeof body.title === 'string' ? body.title : statusText || `HTTP ${status}`,
      status: typeof body.status === 'number' ? body.status : status,
      detail: body.detail,
      request_id: typeof body.request_id === 'string' ? body.request_id : (requestId ?? null),
      errors: fieldErrors(body.errors),
    };
  }
  return {
    type: 'about:blank',
    title: statusText || `HTTP ${status}`,
    status,
    detail:
      status >= 500
        ? `The server could not answer (HTTP ${status}). Try again in a moment.`
        : `The request failed (HTTP ${status}${statusText ? ` ${statusText}` : ''}).`,
    request_id: requestId ?? null,
    errors: [],
  };
}

/** A failed API call. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail);
    this.name = 'ApiError';
    this.status = problem.status;
    this.problem = problem;
  }

  /** The stable slug ending the problem type (`validation`, `not-found`, …). */
  get slug(): string {
    return problemSlug(this.problem.type);
  }

  get requestId(): string | null {
    return this.problem.request_id ?? null;
  }

  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? [];
  }

  is(slug: string): boolean {
    return this.slug === slug;
  }
}

export function problemSlug(type: string): string {
  const trimmed = type.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Whether a problem ends the portal session: its token expired, was revoked or is unknown. */
export function endsSession(status: number, problem: Pick<Problem, 'type'>): boolean {
  if (status !== 401) return false;
  return (
    problem.type.endsWith(`/${PROBLEM.portalSessionExpired}`) ||
    problem.type.endsWith(`/${PROBLEM.unauthorized}`)
  );
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

/** The field errors of a failed mutation, sorted onto a form's inputs. */
export interface MappedFieldErrors {
  /** Messages per input name. */
  byField: Record<string, string[]>;
  /** Errors that match no input: shown in the summary at the top. */
  unmatched: FieldError[];
}

/**
 * Sorts field errors onto inputs. `resolve` maps an API path (`origin.postal_code`,
 * `parcels[0].weight_grams`) to the name of the input or group that shows it, or `null`.
 */
export function mapFieldErrors(
  errors: readonly FieldError[],
  resolve: (path: string, message: string) => string | null,
): MappedFieldErrors {
  const byField: Record<string, string[]> = {};
  const unmatched: FieldError[] = [];
  for (const error of errors) {
    const name = resolve(error.field, error.message);
    if (name === null) {
      unmatched.push(error);
    } else {
      (byField[name] ??= []).push(error.message);
    }
  }
  return { byField, unmatched };
}

/** A resolver for forms whose input names are the API's paths, plus optional group names. */
export function resolveAgainst(names: Iterable<string>) {
  const known = new Set(names);
  return (path: string): string | null => {
    if (known.has(path)) return path;
    // `event_types[1]` belongs to the `event_types` group.
    const group = path.replace(/\[\d+\]$/, '');
    return known.has(group) ? group : null;
  };
}
