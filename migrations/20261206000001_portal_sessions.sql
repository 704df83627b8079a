-- Portal sessions: short-lived links that open the customer portal. Expand-only.
--
-- The token travels in the link's fragment and is never stored: only its SHA-256. A session
-- acts with its customer's rights, except that it cannot create API keys or portal sessions.
create table portal_sessions (
    id varchar(40) not null,
    customer_id varchar(40) not null,
    -- SHA-256 of the whole token
    token_hash binary(32) not null,
    created_at datetime(6) not null,
    expires_at datetime(6) not null,
    revoked_at datetime(6) null,
    primary key (id),
    unique key portal_sessions_token_hash (token_hash),
    key portal_sessions_customer (customer_id, id)
);
