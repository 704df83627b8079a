-- Endpoint health, the delivery log, and the sweeper. Expand-only: new nullable columns and a
-- new index, all harmless to a release that does not know them.

-- When the endpoint's current run of failed attempts began; null while it is healthy.
alter table webhook_endpoints add column failing_since datetime(6) null;

-- The delivery log filtered by status.
create index webhook_deliveries_endpoint_status on webhook_deliveries (endpoint_id, status, id);

-- When the queue last accepted a message for the delivery; the sweeper republishes a pending
-- delivery only when both it and its due time are older than the overdue threshold.
alter table webhook_deliveries add column published_at datetime(6) null;
