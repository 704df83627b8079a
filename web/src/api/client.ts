/**
 * The typed API client: `openapi-fetch` over the paths generated from the API's own OpenAPI
 * document (`schema.d.ts`). Every request carries the portal session token; a 401 that ends
 * the session (expired, revoked or unknown token) switches the app to "This link has expired".
 */
import createClient, { type Middleware } from 'openapi-fetch';
import { endSession, getToken } from '@/lib/session';
import { ApiError, endsSession, toProblem } from './errors';
import type { paths } from './schema';

/** Sends the session token; turns a session-ending 401 into "This link has expired". */
export const authMiddleware: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
  async onResponse({ response }) {
    if (response.status === 401) {
      const body: unknown = await response
        .clone()
        .json()
        .catch(() => null);
      if (endsSession(401, toProblem(body, 401))) endSession('expired');
    }
    return response;
  },
};

export const api = createClient<paths>({
  // The page's own origin: the same requests as relative URLs, and a `Request` can be built
  // outside a browser too (the unit tests).
  baseUrl: globalThis.location?.origin ?? '',
  // Looked up at each call, so a test can replace `fetch`.
  fetch: (request: Request) => globalThis.fetch(request),
});
api.use(authMiddleware);

/**
 * Resolves to the answer's body, or throws an {@link ApiError} built from the problem
 * document (with the request id from `x-request-id` if the body has none).
 */
export async function unwrap<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok || error !== undefined) {
    throw new ApiError(
      toProblem(error, response.status, response.statusText, response.headers.get('x-request-id')),
    );
  }
  return data as T;
}

export { idempotencyKey } from './idempotency';
