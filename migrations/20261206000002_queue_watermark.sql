-- The SQS consumers' receive watermark: the latest time at which a message a consumer has
-- received became available (published, or due again after a retry's delay). The relay's
-- overdue sweep republishes a delivery only once consumers have received a message that became
-- available a whole window after its own (its own message was then lost, not merely waiting
-- behind a backlog). One row, id 1, written by the first receive.
-- Expand-only.
create table webhook_queue_watermark (
    id tinyint not null,
    received_available_at datetime(6) not null,
    updated_at datetime(6) not null,
    primary key (id)
);

-- When a consumer last received a message of the delivery: one received since it became
-- available is in a consumer's hands (or back in the queue after its visibility timeout), not
-- lost, however far the watermark has moved.
alter table webhook_deliveries add column received_at datetime(6) null;
