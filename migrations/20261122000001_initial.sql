-- Initial schema. MySQL 8.0 / PlanetScale compatible (and MariaDB for tests):
-- every table has a primary key, no foreign keys, no triggers, times are UTC DATETIME(6),
-- exact payload bytes are BLOBs. Every key is named so the application can tell them apart.

create table customers (
    id varchar(40) not null,
    name varchar(200) not null,
    created_at datetime(6) not null,
    primary key (id)
);

create table api_keys (
    id varchar(40) not null,
    -- null for operator keys
    customer_id varchar(40) null,
    role varchar(16) not null,
    name varchar(200) null,
    -- first characters of the key, for recognition; the key itself is never stored
    prefix varchar(16) not null,
    -- SHA-256 of the whole key
    key_hash binary(32) not null,
    created_at datetime(6) not null,
    last_used_at datetime(6) null,
    revoked_at datetime(6) null,
    primary key (id),
    unique key api_keys_key_hash (key_hash),
    key api_keys_customer (customer_id, id)
);

create table orders (
    id varchar(40) not null,
    customer_id varchar(40) not null,
    reference varchar(64) not null,
    status varchar(32) not null,
    sequence int unsigned not null,
    origin json not null,
    destination json not null,
    parcels json not null,
    created_at datetime(6) not null,
    updated_at datetime(6) not null,
    status_changed_at datetime(6) not null,
    primary key (id),
    unique key orders_customer_reference (customer_id, reference),
    key orders_customer_id (customer_id, id),
    key orders_customer_status (customer_id, status, id),
    key orders_status (status, id)
);

create table order_status_history (
    order_id varchar(40) not null,
    sequence int unsigned not null,
    status varchar(32) not null,
    previous_status varchar(32) null,
    detail varchar(500) null,
    location varchar(200) null,
    changed_at datetime(6) not null,
    primary key (order_id, sequence)
);

create table webhook_endpoints (
    id varchar(40) not null,
    customer_id varchar(40) not null,
    url varchar(2048) not null,
    description varchar(500) null,
    -- JSON array of event type names; null means every type
    event_types json null,
    enabled boolean not null default true,
    disabled_reason varchar(64) null,
    created_at datetime(6) not null,
    updated_at datetime(6) not null,
    deleted_at datetime(6) null,
    primary key (id),
    key webhook_endpoints_customer (customer_id, deleted_at, id)
);

create table webhook_endpoint_secrets (
    id varchar(40) not null,
    endpoint_id varchar(40) not null,
    -- AEAD envelope (domain::secret_box), the endpoint id as associated data
    ciphertext varbinary(512) not null,
    created_at datetime(6) not null,
    -- null while current; set when rotated away (signing continues until then)
    expires_at datetime(6) null,
    primary key (id),
    key webhook_endpoint_secrets_endpoint (endpoint_id, expires_at)
);

create table webhook_events (
    id varchar(40) not null,
    customer_id varchar(40) not null,
    event_type varchar(64) not null,
    order_id varchar(40) null,
    -- the exact bytes that are signed and sent
    payload mediumblob not null,
    created_at datetime(6) not null,
    primary key (id),
    key webhook_events_order (order_id)
);

create table webhook_deliveries (
    id varchar(40) not null,
    event_id varchar(40) not null,
    endpoint_id varchar(40) not null,
    customer_id varchar(40) not null,
    event_type varchar(64) not null,
    status varchar(16) not null,
    attempt_count int unsigned not null default 0,
    next_attempt_at datetime(6) not null,
    -- dispatcher lease: who is sending it right now, and until when
    lease_token varchar(40) null,
    lease_until datetime(6) null,
    -- outbox: 1 while the queue has not yet accepted a message for this delivery
    publish_pending boolean not null default true,
    publish_token varchar(40) null,
    publish_claimed_until datetime(6) null,
    last_status_code smallint unsigned null,
    last_attempt_at datetime(6) null,
    failure_reason varchar(64) null,
    created_at datetime(6) not null,
    updated_at datetime(6) not null,
    primary key (id),
    unique key webhook_deliveries_event_endpoint (event_id, endpoint_id),
    key webhook_deliveries_endpoint (endpoint_id, id),
    key webhook_deliveries_publish (publish_pending, publish_claimed_until),
    key webhook_deliveries_due (status, next_attempt_at),
    key webhook_deliveries_publish_token (publish_token),
    key webhook_deliveries_lease_token (lease_token)
);

create table webhook_attempts (
    delivery_id varchar(40) not null,
    attempt int unsigned not null,
    started_at datetime(6) not null,
    duration_ms int unsigned not null,
    status_code smallint unsigned null,
    -- null on success; timeout, connection, dns, http, blocked_target, ...
    error_class varchar(32) null,
    error_message varchar(1000) null,
    response_headers text null,
    response_excerpt blob null,
    primary key (delivery_id, attempt)
);
