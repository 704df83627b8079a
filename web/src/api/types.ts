/** Short names for the API's schemas (generated into `schema.d.ts` by `npm run gen:api`). */
import type { components } from './schema';

type Schemas = components['schemas'];

export type Order = Schemas['OrderView'];
export type OrderStatus = Schemas['OrderStatus'];
export type Address = Schemas['Address'];
export type Parcel = Schemas['Parcel'];
export type HistoryEntry = Schemas['HistoryView'];
export type CreateOrder = Schemas['CreateOrder'];
export type AddressInput = Schemas['AddressInput'];
export type ParcelInput = Schemas['ParcelInput'];
export type Endpoint = Schemas['EndpointView'];
export type CreateEndpoint = Schemas['CreateEndpoint'];
export type UpdateEndpoint = Schemas['UpdateEndpoint'];
export type EventType = Schemas['EventType'];
export type EventTypeInfo = Schemas['EventTypeView'];
export type Delivery = Schemas['DeliveryView'];
export type DeliveryStatus = Schemas['DeliveryStatus'];
export type Attempt = Schemas['AttemptView'];
export type ApiKey = Schemas['ApiKeyView'];
export type PortalSession = Schemas['PortalSessionView'];
export type Rotated = Schemas['Rotated'];
export type TestQueued = Schemas['TestQueued'];
export type Recovered = Schemas['Recovered'];
export type EndpointStats = Schemas['EndpointStats'];
export type StatsBucket = Schemas['StatsBucket'];

/** A page of a list: `next_cursor` is `null` on the last. */
export interface Page<T> {
  data: T[];
  next_cursor?: string | null;
}

/** Every order status, in lifecycle order. */
export const ORDER_STATUSES = [
  'pending',
  'confirmed',
  'picked_up',
  'in_transit',
  'out_for_delivery',
  'delivered',
  'cancelled',
  'exception',
  'returned',
] as const satisfies readonly OrderStatus[];

export const DELIVERY_STATUSES = [
  'pending',
  'delivered',
  'failed',
] as const satisfies readonly DeliveryStatus[];

// Compile-time checks that the lists name every status of the API (see schema.d.ts).
type Unlisted<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : Exclude<All, Listed>;
const everyOrderStatus: Unlisted<OrderStatus, (typeof ORDER_STATUSES)[number]> = true;
const everyDeliveryStatus: Unlisted<DeliveryStatus, (typeof DELIVERY_STATUSES)[number]> = true;
void everyOrderStatus;
void everyDeliveryStatus;
