// The API as the tests' operator uses it: a customer's data is made and moved through the real
// HTTP API with the operator key that scripts/portal-e2e created.
import { execFileSync } from 'node:child_process';

export const baseUrl = required('PORTAL_BASE_URL');
const operatorKey = required('OPERATOR_KEY');

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests through scripts/portal-e2e`);
  return value;
}

export interface Problem {
  type: string;
  detail: string;
  request_id: string;
}

/** Sends a request with `key` (default: the operator's) and returns the parsed answer. */
export async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  key: string = operatorKey,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
}

async function expectStatus<T>(
  expected: number,
  method: string,
  path: string,
  body?: unknown,
  key?: string,
): Promise<T> {
  const answer = await call<T>(method, path, body, key);
  if (answer.status !== expected) {
    throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

export interface Customer {
  id: string;
  apiKey: string;
}

/** A new customer with its API key. */
export async function newCustomer(name: string): Promise<Customer> {
  const body = await expectStatus<{ id: string; api_key: string }>(201, 'POST', '/v1/customers', {
    name,
  });
  return { id: body.id, apiKey: body.api_key };
}

export interface PortalLink {
  id: string;
  url: string;
}

/** A portal link for `customer`, opened by the operator. */
export async function portalLink(customer: Customer, lifetimeSeconds = 3600): Promise<PortalLink> {
  return expectStatus<PortalLink>(201, 'POST', '/v1/portal-sessions', {
    customer_id: customer.id,
    lifetime_seconds: lifetimeSeconds,
  });
}

export async function revokePortalSession(id: string): Promise<void> {
  await expectStatus(204, 'DELETE', `/v1/portal-sessions/${id}`);
}

/** Moves an order to `status`, as staff do. */
export async function advance(orderId: string, status: string, location?: string): Promise<void> {
  await expectStatus(200, 'POST', `/v1/orders/${orderId}/status`, { status, location });
}

/** Places an order through the API with the customer's key; returns its id. */
export async function placeOrder(customer: Customer, reference: string): Promise<string> {
  const order = await expectStatus<{ id: string }>(
    201,
    'POST',
    '/v1/orders',
    {
      reference,
      origin: address('Acme DC', 'Rotterdam', '3011 AA', 'NL'),
      destination: address('J. Jansen', 'Berlin', '10115', 'DE'),
    },
    customer.apiKey,
  );
  return order.id;
}

export async function createEndpoint(
  customer: Customer,
  url: string,
  eventTypes?: string[],
): Promise<{ id: string; secret: string }> {
  return expectStatus(201, 'POST', '/v1/webhook-endpoints', { url, event_types: eventTypes }, customer.apiKey);
}

function address(name: string, city: string, postalCode: string, country: string) {
  return { name, line1: 'Kade 1', city, postal_code: postalCode, country };
}

export interface EventType {
  type: string;
  schema: Record<string, unknown>;
}

export async function eventCatalog(): Promise<EventType[]> {
  const page = await expectStatus<{ data: EventType[] }>(200, 'GET', '/v1/event-types');
  return page.data;
}

/**
 * Runs one SQL statement on the test database (the `mariadb` client, with DATABASE_URL's
 * account) and returns what it prints: for what no API offers, such as letting a portal session
 * run out, or checking that a row was never written.
 */
export function sql(statement: string): string {
  const url = new URL(required('DATABASE_URL'));
  const args = [
    '--protocol=tcp',
    '-h',
    url.hostname,
    '-P',
    url.port || '3306',
    '-u',
    decodeURIComponent(url.username),
    ...(url.password ? [`-p${decodeURIComponent(url.password)}`] : []),
    '--batch',
    '--skip-column-names',
    url.pathname.slice(1),
    '-e',
    statement,
  ];
  return execFileSync('mariadb', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

/** The one number a query answers. */
export function sqlNumber(statement: string): number {
  return Number(sql(statement).trim());
}

export interface Delivery {
  id: string;
  status: string;
  event_type: string;
  attempt_count: number;
}

/** The delivery log of an endpoint, through the customer's key. */
export async function deliveries(customer: Customer, endpointId: string): Promise<Delivery[]> {
  const page = await expectStatus<{ data: Delivery[] }>(
    200,
    'GET',
    `/v1/webhook-endpoints/${endpointId}/deliveries?limit=100`,
    undefined,
    customer.apiKey,
  );
  return page.data;
}

/** The first item, which a test expects to be there. */
export function first<T>(items: readonly T[], what = 'an item'): T {
  const item = items[0];
  if (item === undefined) throw new Error(`expected ${what}, found none`);
  return item;
}
