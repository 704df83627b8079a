import { afterEach, describe, expect, it } from 'vitest';
import { TOKEN_KEY, getToken, resetAuthState } from '@/lib/session';
import { authMiddleware, unwrap } from './client';
import { ApiError } from './errors';

function problemResponse(status: number, slug: string, requestId = 'req_1') {
  return new Response(
    JSON.stringify({
      type: `https://docs.mechanica.dev/problems/${slug}`,
      title: 'T',
      status,
      detail: `detail of ${slug}`,
      request_id: requestId,
    }),
    { status, headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId } },
  );
}

type OnRequest = NonNullable<typeof authMiddleware.onRequest>;
type OnResponse = NonNullable<typeof authMiddleware.onResponse>;
const context = { schemaPath: '/v1/orders', params: {}, id: '1', options: {} } as unknown as Omit<
  Parameters<OnResponse>[0],
  'request' | 'response'
>;

afterEach(() => resetAuthState());

describe('authMiddleware', () => {
  it('sends the stored token as a bearer credential', async () => {
    window.sessionStorage.setItem(TOKEN_KEY, 'mps_token');
    const request = new Request('http://portal.test/v1/orders');
    const onRequest = authMiddleware.onRequest as OnRequest;
    const sent = (await onRequest({ ...context, request } as Parameters<OnRequest>[0])) as Request;
    expect(sent.headers.get('Authorization')).toBe('Bearer mps_token');
  });

  it.each(['portal-session-expired', 'unauthorized'])('ends the session on a 401 %s', async (slug) => {
    window.sessionStorage.setItem(TOKEN_KEY, 'mps_token');
    resetAuthState();
    const onResponse = authMiddleware.onResponse as OnResponse;
    const response = problemResponse(401, slug);
    const passed = await onResponse({
      ...context,
      request: new Request('http://portal.test/v1/orders'),
      response,
    } as Parameters<OnResponse>[0]);
    expect(passed).toBe(response);
    expect(getToken()).toBeNull();
    // The body is still readable by the caller.
    expect(await (passed as Response).json()).toMatchObject({ status: 401 });
  });

  it('keeps the session on other errors', async () => {
    window.sessionStorage.setItem(TOKEN_KEY, 'mps_token');
    const onResponse = authMiddleware.onResponse as OnResponse;
    await onResponse({
      ...context,
      request: new Request('http://portal.test/v1/orders'),
      response: problemResponse(403, 'forbidden'),
    } as Parameters<OnResponse>[0]);
    expect(getToken()).toBe('mps_token');
  });
});

describe('unwrap', () => {
  it('answers the data of a success', async () => {
    const data = { id: 'ord_1' };
    await expect(unwrap(Promise.resolve({ data, response: new Response(null, { status: 200 }) }))).resolves.toBe(data);
  });

  it('throws an ApiError with the problem and request id', async () => {
    const response = problemResponse(409, 'duplicate-reference', 'req_dup');
    const error = await response.clone().json();
    const thrown = await unwrap(Promise.resolve({ error, response })).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(ApiError);
    const apiError = thrown as ApiError;
    expect(apiError.status).toBe(409);
    expect(apiError.is('duplicate-reference')).toBe(true);
    expect(apiError.requestId).toBe('req_dup');
    expect(apiError.message).toBe('detail of duplicate-reference');
  });
});
