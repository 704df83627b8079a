/**
 * Hands what only the creating response says about a new endpoint (its signing secret, and the
 * warnings it was accepted despite) from the "Add endpoint" form to the endpoint's page, in
 * memory only: never `sessionStorage`, `localStorage`, the URL or the router's history state
 * (which the browser keeps across reloads). The page takes it once; a reload or a later visit
 * finds nothing.
 */
export interface Created {
  secret: string;
  warnings: readonly string[];
}

const created = new Map<string, Created>();

export function handOverCreated(endpointId: string, what: Created): void {
  created.set(endpointId, what);
}

/** What waits for `endpointId`, left in place (rendering may happen twice). */
export function peekCreated(endpointId: string): Created | undefined {
  return created.get(endpointId);
}

/** Forgets what waits for `endpointId`: called once the page has shown it. */
export function forgetCreated(endpointId: string): void {
  created.delete(endpointId);
}
