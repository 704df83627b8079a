-- The SQS consumers' receive watermark: the latest publish time of any delivery whose message a
-- consumer has received. The relay's overdue sweep republishes a delivery only once consumers
-- have received a message published a whole window after it (its own message was then lost,
-- not merely waiting behind a backlog). One row, id 1, written by the first receive.
-- Expand-only.
create table webhook_queue_watermark (
    id tinyint not null,
    received_published_at datetime(6) not null,
    updated_at datetime(6) not null,
    primary key (id)
);
