/**
 * Hands a new endpoint's signing secret from the "Add endpoint" form to the endpoint's page,
 * in memory only: never `sessionStorage`, `localStorage`, the URL or the router's history
 * state (which the browser keeps across reloads). The page takes it once; a reload or a
 * later visit finds nothing.
 */
const secrets = new Map<string, string>();

export function handOverSecret(endpointId: string, secret: string): void {
  secrets.set(endpointId, secret);
}

/** The secret waiting for `endpointId`, left in place (rendering may happen twice). */
export function peekSecret(endpointId: string): string | undefined {
  return secrets.get(endpointId);
}

/** Forgets the secret of `endpointId`: called once the page has shown it. */
export function forgetSecret(endpointId: string): void {
  secrets.delete(endpointId);
}
