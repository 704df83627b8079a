-- Endpoint health and the delivery log. Expand-only: a new nullable column and a new index,
-- both harmless to a release that does not know them.

-- When the endpoint's current run of failed attempts began; null while it is healthy.
alter table webhook_endpoints add column failing_since datetime(6) null;

-- The delivery log filtered by status.
create index webhook_deliveries_endpoint_status on webhook_deliveries (endpoint_id, status, id);
