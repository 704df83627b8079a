-- Leases of the periodic maintenance one API instance at a time runs: the named job's holder (a
-- random token per process) and until when it holds it. A holder renews its lease while it
-- works; another instance takes the job over once the lease has expired. The retention job's
-- row exists from the start, expired, so taking it is one compare-and-set update.
-- Expand-only: a new table.
create table maintenance_leases (
    name varchar(64) not null,
    holder varchar(40) not null,
    expires_at datetime(6) not null,
    primary key (name)
);

insert into maintenance_leases (name, holder, expires_at)
values ('retention', '', '1970-01-01 00:00:00.000000');
