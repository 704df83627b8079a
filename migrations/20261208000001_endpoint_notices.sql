-- The failure streak behind an endpoint's operational events (endpoint.failing,
-- endpoint.recovered). Expand-only: columns with defaults, harmless to a release that does not
-- know them.

-- Attempts failed in a row since the endpoint's last success; 0 while it is healthy.
alter table webhook_endpoints add column failure_streak int unsigned not null default 0;

-- Which endpoint.failing notices the current streak has sent: 0 none, 1 the first (the streak
-- reached its threshold), 2 the last warning (90 % of the auto-disable window).
alter table webhook_endpoints add column failing_notified tinyint unsigned not null default 0;
