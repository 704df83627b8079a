-- Endpoint statistics: attempts by outcome and a latency histogram per endpoint, per minute and
-- per day, added to by the attempt recorder in the transaction that records the attempts (never
-- computed by scanning webhook_attempts). Minute rows are kept as long as deliveries
-- (RETENTION_DAYS), day rows for 400 days. Expand-only: a new table.
create table endpoint_stats (
    endpoint_id varchar(40) not null,
    -- 'minute' or 'day'
    span varchar(8) not null,
    bucket_start datetime not null,
    -- attempts by outcome: a 2xx, or the attempt's error class
    succeeded int unsigned not null default 0,
    http_errors int unsigned not null default 0,
    timeouts int unsigned not null default 0,
    connection_errors int unsigned not null default 0,
    dns_errors int unsigned not null default 0,
    blocked int unsigned not null default 0,
    -- answered attempts by response time: at most 25, 50, 100, 250, 500, 1000, 2500, 5000,
    -- 10000 ms, and more
    latency_le_25 int unsigned not null default 0,
    latency_le_50 int unsigned not null default 0,
    latency_le_100 int unsigned not null default 0,
    latency_le_250 int unsigned not null default 0,
    latency_le_500 int unsigned not null default 0,
    latency_le_1000 int unsigned not null default 0,
    latency_le_2500 int unsigned not null default 0,
    latency_le_5000 int unsigned not null default 0,
    latency_le_10000 int unsigned not null default 0,
    latency_over int unsigned not null default 0,
    primary key (endpoint_id, span, bucket_start),
    -- retention deletes the oldest buckets of a span first
    key endpoint_stats_span_bucket (span, bucket_start)
);
