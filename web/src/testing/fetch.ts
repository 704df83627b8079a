/**
 * A stand-in for the API in unit tests: `fetch` answers each request with the handler of its
 * `METHOD /path` (a 404 problem when there is none) and records what was sent.
 */
import { expect, vi } from 'vitest';

type Handler = (request: Request) => Response | Promise<Response>;

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

/** An RFC 9457 problem answer, its request id also in `x-request-id`. */
export function problem(status: number, slug: string, detail: string, requestId = `req_${status}`): Response {
  return new Response(
    JSON.stringify({
      type: `https://docs.mechanica.dev/problems/${slug}`,
      title: slug,
      status,
      detail,
      request_id: requestId,
    }),
    {
      status,
      headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId },
    },
  );
}

/** Replaces `fetch` for this test (the config restores mocks after each). */
export function mockApi(routes: Record<string, Handler>) {
  const requests: Request[] = [];
  const fetch = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    requests.push(request.clone());
    const handler = routes[`${request.method} ${new URL(request.url).pathname}`];
    return handler
      ? handler(request)
      : problem(404, 'not-found', `no route for ${request.method} ${request.url}`);
  });
  return {
    fetch,
    /** The requests sent to `METHOD /path`. */
    sent: (route: string) =>
      requests.filter((r) => `${r.method} ${new URL(r.url).pathname}` === route),
  };
}

/**
 * Checks the `Idempotency-Key`s of four sends of one form: a body, its retry, an edited body,
 * its retry. A retry reuses its body's key; the edited body has a key of its own.
 */
export function expectKeysOfRetriedThenEditedSubmission(sent: Request[]): void {
  const keys = sent.map((request) => request.headers.get('Idempotency-Key'));
  expect(keys).toHaveLength(4);
  expect(keys[0]).toBeTruthy();
  expect(keys[1]).toBe(keys[0]);
  expect(keys[2]).not.toBe(keys[0]);
  expect(keys[3]).toBe(keys[2]);
}
