-- Leases of the periodic maintenance one API instance at a time runs: the named job's holder (a
-- random token per process) and until when it holds it. A holder renews its lease while it
-- works; another instance takes the job over once the lease has expired. A job's row is written
-- by the code on first use (a deploy request copies the schema, not rows).
-- Expand-only: a new table.
create table maintenance_leases (
    name varchar(64) not null,
    holder varchar(40) not null,
    expires_at datetime(6) not null,
    primary key (name)
);

