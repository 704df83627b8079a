-- Shipping details on orders, and idempotency keys. Expand-only.

alter table orders add column carrier varchar(64) null;
alter table orders add column tracking_number varchar(64) null;
alter table orders add column estimated_delivery_at datetime(6) null;
-- A small string map of the customer's own (at most 20 keys).
alter table orders add column metadata json null;

-- One row per (caller, Idempotency-Key): the request's fingerprint and, once it completed, the
-- response to replay. Rows older than 24 h are ignored and replaced.
create table idempotency_keys (
    scope varbinary(32) not null,
    idempotency_key varchar(255) not null,
    request_hash binary(32) not null,
    status_code smallint unsigned null,
    response_body mediumblob null,
    created_at datetime(6) not null,
    primary key (scope, idempotency_key)
);
