import { describe, expect, it } from 'vitest';
import {
  ApiError,
  endsSession,
  mapFieldErrors,
  problemSlug,
  resolveAgainst,
  toProblem,
} from './errors';

const validation = {
  type: 'https://docs.mechanica.dev/problems/validation',
  title: 'Invalid request',
  status: 422,
  detail: 'the request has invalid fields',
  request_id: 'req_01jabc',
  errors: [
    { field: 'origin.postal_code', message: 'must not be empty' },
    { field: 'parcels[0].weight_grams', message: 'must be between 1 and 1000000' },
  ],
};

describe('toProblem', () => {
  it('reads a problem document', () => {
    const problem = toProblem(validation, 422);
    expect(problem).toEqual(validation);
  });

  it('drops malformed field errors', () => {
    const problem = toProblem({ ...validation, errors: [{ field: 'a' }, 'x', { field: 'b', message: 'm' }] }, 422);
    expect(problem.errors).toEqual([{ field: 'b', message: 'm' }]);
  });

  it('builds a problem from the status when the body is not one', () => {
    const problem = toProblem('<html>Bad gateway</html>', 502, 'Bad Gateway', 'req_fromheader');
    expect(problem.status).toBe(502);
    expect(problem.title).toBe('Bad Gateway');
    expect(problem.detail).toMatch(/HTTP 502/);
    expect(problem.request_id).toBe('req_fromheader');
    expect(problem.errors).toEqual([]);
  });

  it('takes the request id from the header when the body has none', () => {
    const { request_id: _unused, ...withoutId } = validation;
    void _unused;
    expect(toProblem(withoutId, 422, '', 'req_header').request_id).toBe('req_header');
  });
});

describe('ApiError', () => {
  it('carries the status, the problem, its slug, request id and field errors', () => {
    const error = new ApiError(toProblem(validation, 422));
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('the request has invalid fields');
    expect(error.status).toBe(422);
    expect(error.slug).toBe('validation');
    expect(error.is('validation')).toBe(true);
    expect(error.requestId).toBe('req_01jabc');
    expect(error.fieldErrors).toHaveLength(2);
  });
});

describe('problemSlug', () => {
  it('is the last path segment of the type', () => {
    expect(problemSlug('https://docs.mechanica.dev/problems/duplicate-reference')).toBe('duplicate-reference');
    expect(problemSlug('https://x/problems/not-found/')).toBe('not-found');
    expect(problemSlug('about:blank')).toBe('about:blank');
  });
});

describe('endsSession', () => {
  it('is true for a 401 portal-session-expired or unauthorized', () => {
    expect(endsSession(401, { type: 'https://docs.mechanica.dev/problems/portal-session-expired' })).toBe(true);
    expect(endsSession(401, { type: 'https://docs.mechanica.dev/problems/unauthorized' })).toBe(true);
  });

  it('is false for anything else', () => {
    expect(endsSession(403, { type: 'https://docs.mechanica.dev/problems/forbidden' })).toBe(false);
    expect(endsSession(401, { type: 'about:blank' })).toBe(false);
    expect(endsSession(404, { type: 'https://docs.mechanica.dev/problems/unauthorized' })).toBe(false);
  });
});

describe('mapFieldErrors', () => {
  it('puts errors beside known inputs and the rest in the summary', () => {
    const errors = [
      { field: 'url', message: 'is not a URL' },
      { field: 'event_types[1]', message: 'is listed twice' },
      { field: 'colour', message: 'is an unknown field' },
    ];
    const mapped = mapFieldErrors(errors, resolveAgainst(['url', 'description', 'event_types']));
    expect(mapped.byField).toEqual({ url: ['is not a URL'], event_types: ['is listed twice'] });
    expect(mapped.unmatched).toEqual([{ field: 'colour', message: 'is an unknown field' }]);
  });

  it('collects several messages for one input', () => {
    const mapped = mapFieldErrors(
      [
        { field: 'url', message: 'a' },
        { field: 'url', message: 'b' },
      ],
      resolveAgainst(['url']),
    );
    expect(mapped.byField.url).toEqual(['a', 'b']);
  });
});
