-- Per-endpoint rate limits, enforced across every dispatcher at once. Expand-only: nullable
-- columns and a new table, harmless to a release that does not know them.

-- The most deliveries a second the endpoint receives; null: unlimited.
alter table webhook_endpoints add column rate_limit_per_second int unsigned null;

-- The send slot a throttled delivery holds: it waits for it (next_attempt_at is set to it) and is
-- sent then without asking the limiter again. Null unless the delivery is waiting for a slot.
alter table webhook_deliveries add column throttled_until datetime(6) null;

-- The limiter's state: per rate-limited endpoint, the theoretical arrival time of the generic
-- cell rate algorithm (GCRA), taken forward by each slot handed out, under the row's lock. A row
-- is written by the code on first use.
create table endpoint_throttles (
    endpoint_id varchar(40) not null,
    tat datetime(6) not null,
    primary key (endpoint_id)
);
