//! Retention: deliveries that are final (`delivered` or `failed`) and were created and last
//! changed before the retention period are deleted with their attempts, then the events created
//! before it that no delivery is left for.
//!
//! Creation is read from the ids, which are time-ordered: a delivery created before the cutoff
//! has an id below `DeliveryId::floor(cutoff)`, so every statement walks the primary key (a
//! delivery re-sent by hand since, `updated_at` after the cutoff, is kept). The
//! work goes in chunks, each its own short transaction: at most [`CHUNK`] deliveries and at most
//! [`CHUNK`] attempts, or at most [`CHUNK`] events, with a pause between chunks so that it never
//! holds the database for long (PlanetScale refuses a statement over 100 000 rows and a
//! transaction over 20 s; a chunk stays far below both). A chunk locks the final deliveries it
//! deletes before deleting them, so a delivery re-opened meanwhile (recover, retry) is seen as
//! pending and kept: a delivery that is not final is never deleted. An event goes only once no
//! delivery of it is left, and an old event never gains one.
//!
//! Statistics buckets (`endpoint_stats`) go by their start: minutes with the deliveries, days
//! after [`DAY_BUCKETS_KEPT_DAYS`] days (or the retention period, if longer), oldest first in
//! chunks of [`CHUNK`] on their `(span, bucket_start)` index.
//!
//! [`run`] does this periodically in the API process, on one instance at a time: the instance
//! that holds the `retention` lease in `maintenance_leases` (renewed after every chunk; taken
//! over by another instance once it has expired). [`plan`] counts what a prune would delete now
//! (`orders-api admin prune --dry-run`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::ids::{DeliveryId, EventId};
use domain::state::DeliveryStatus;
use domain::stats::{DAY_BUCKETS_KEPT_DAYS, Span};
use sqlx::MySqlPool;
use tokio_util::sync::CancellationToken;

use crate::store::placeholders;

/// The most deliveries, attempts or events one chunk deletes.
pub const CHUNK: usize = 1_000;

/// The lease's name in `maintenance_leases`.
const LEASE: &str = "retention";

/// How long a lease lasts unless renewed; a chunk renews it.
const LEASE_TTL: Duration = Duration::from_secs(300);

/// How many rows a prune deletes, or would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Final deliveries.
    pub deliveries: u64,
    /// Their attempts.
    pub attempts: u64,
    /// Events no delivery is left for.
    pub events: u64,
    /// Statistics buckets: minutes older than the retention period, days older than
    /// [`DAY_BUCKETS_KEPT_DAYS`] days (or the retention period, if longer).
    pub stats: u64,
}

/// Where day buckets of statistics end when it is `now` and other rows end at `cutoff`: 400 days
/// back, or at `cutoff` if that is earlier.
pub fn day_buckets_cutoff(cutoff: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let kept = chrono::TimeDelta::days(i64::from(DAY_BUCKETS_KEPT_DAYS));
    now.checked_sub_signed(kept)
        .map_or(cutoff, |day_cutoff| day_cutoff.min(cutoff))
}

/// How retention runs.
#[derive(Debug, Clone)]
pub struct Policy {
    /// How long final deliveries, their attempts and their events are kept.
    pub keep: Duration,
    /// The pause between two chunks.
    pub pause: Duration,
    /// How often an instance tries to take the lease and prune.
    pub every: Duration,
}

impl Policy {
    /// Where the retention period ends when it is `now`.
    pub fn cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        chrono::TimeDelta::from_std(self.keep)
            .ok()
            .and_then(|keep| now.checked_sub_signed(keep))
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    }
}

const FINAL: [DeliveryStatus; 2] = [DeliveryStatus::Delivered, DeliveryStatus::Failed];

/// What a prune with `cutoff` would delete now.
pub async fn plan(pool: &MySqlPool, cutoff: DateTime<Utc>) -> sqlx::Result<Pruned> {
    let below = DeliveryId::floor(cutoff);
    let (deliveries, attempts): (i64, i64) = sqlx::query_as(
        "select count(*), cast(coalesce(sum(attempt_count), 0) as signed)
         from webhook_deliveries where id < ? and updated_at < ? and status in (?, ?)",
    )
    .bind(below.as_str())
    .bind(cutoff)
    .bind(FINAL[0].as_str())
    .bind(FINAL[1].as_str())
    .fetch_one(pool)
    .await?;
    let events: i64 = sqlx::query_scalar(
        "select count(*) from webhook_events e
         where e.id < ?
           and not exists (select 1 from webhook_deliveries d
                           where d.event_id = e.id
                             and (d.id >= ? or d.updated_at >= ? or d.status not in (?, ?)))",
    )
    .bind(EventId::floor(cutoff).as_str())
    .bind(below.as_str())
    .bind(cutoff)
    .bind(FINAL[0].as_str())
    .bind(FINAL[1].as_str())
    .fetch_one(pool)
    .await?;
    let mut stats = 0;
    for (span, before) in stats_cutoffs(cutoff) {
        let count: i64 = sqlx::query_scalar(
            "select count(*) from endpoint_stats where span = ? and bucket_start < ?",
        )
        .bind(span.as_str())
        .bind(before.naive_utc())
        .fetch_one(pool)
        .await?;
        stats += u64::try_from(count).unwrap_or(0);
    }
    Ok(Pruned {
        deliveries: u64::try_from(deliveries).unwrap_or(0),
        attempts: u64::try_from(attempts).unwrap_or(0),
        events: u64::try_from(events).unwrap_or(0),
        stats,
    })
}

/// Each statistics span with the end of its retention.
fn stats_cutoffs(cutoff: DateTime<Utc>) -> [(Span, DateTime<Utc>); 2] {
    [
        (Span::Minute, cutoff),
        (Span::Day, day_buckets_cutoff(cutoff, domain::time::now())),
    ]
}

/// Deletes what [`plan`] counts, chunk by chunk with `pause` between chunks, calling `renew`
/// before each chunk: it stops, with what it deleted so far, when `renew` says the work is no
/// longer this caller's or `stop` is cancelled.
pub async fn prune<F, Fut>(
    pool: &MySqlPool,
    cutoff: DateTime<Utc>,
    pause: Duration,
    stop: &CancellationToken,
    mut renew: F,
) -> sqlx::Result<Pruned>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = sqlx::Result<bool>>,
{
    let mut pruned = Pruned::default();
    let [minutes, days] = stats_cutoffs(cutoff);
    for table in [
        Table::Deliveries,
        Table::Events,
        Table::Stats(minutes),
        Table::Stats(days),
    ] {
        let mut after = String::new();
        loop {
            if stop.is_cancelled() || !renew().await? {
                return Ok(pruned);
            }
            let next = match table {
                Table::Deliveries => delete_deliveries(pool, &after, cutoff, &mut pruned).await?,
                Table::Events => delete_events(pool, &after, cutoff, &mut pruned).await?,
                Table::Stats((span, before)) => delete_stats(pool, span, before, &mut pruned)
                    .await?
                    .then(String::new),
            };
            let Some(last) = next else {
                break;
            };
            after = last;
            pause_between_chunks(pause, stop).await;
        }
    }
    Ok(pruned)
}

/// What a prune deletes, in this order.
#[derive(Debug, Clone, Copy)]
enum Table {
    /// Final deliveries, with their attempts.
    Deliveries,
    /// Events no delivery is left for.
    Events,
    /// Statistics buckets of a span that start before a time.
    Stats((Span, DateTime<Utc>)),
}

/// One chunk of statistics buckets: the oldest [`CHUNK`] of `span` that start before `before`,
/// deleted and counted in `pruned`. Returns whether more may be left.
async fn delete_stats(
    pool: &MySqlPool,
    span: Span,
    before: DateTime<Utc>,
    pruned: &mut Pruned,
) -> sqlx::Result<bool> {
    let deleted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "delete from endpoint_stats where span = ? and bucket_start < ?
         order by span, bucket_start limit {CHUNK}"
    )))
    .bind(span.as_str())
    .bind(before.naive_utc())
    .execute(pool)
    .await?
    .rows_affected();
    pruned.stats += deleted;
    metrics::counter!("retention_deleted_total", "table" => "endpoint_stats").increment(deleted);
    Ok(deleted == CHUNK as u64)
}

async fn pause_between_chunks(pause: Duration, stop: &CancellationToken) {
    tokio::select! {
        () = tokio::time::sleep(pause) => {}
        () = stop.cancelled() => {}
    }
}

/// One chunk of deliveries, in a transaction of its own: the next final ones above `after`,
/// created and last changed before `cutoff`, locked, as many as keep their attempts within
/// [`CHUNK`], deleted with their attempts and counted in `pruned`. Returns the last id looked at,
/// or `None` when none is left.
async fn delete_deliveries(
    pool: &MySqlPool,
    after: &str,
    cutoff: DateTime<Utc>,
    pruned: &mut Pruned,
) -> sqlx::Result<Option<String>> {
    let mut tx = pool.begin().await?;
    let rows: Vec<(String, u32)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select id, attempt_count from webhook_deliveries
         where id > ? and id < ? and updated_at < ? and status in (?, ?)
         order by id limit {CHUNK} for update"
    )))
    .bind(after)
    .bind(DeliveryId::floor(cutoff).as_str())
    .bind(cutoff)
    .bind(FINAL[0].as_str())
    .bind(FINAL[1].as_str())
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(None);
    }
    // As many as keep the attempts within a chunk, and at least one.
    let mut attempts = 0;
    let taken = rows
        .iter()
        .take_while(|(_, count)| {
            attempts += u64::from(*count);
            attempts <= CHUNK as u64
        })
        .count()
        .max(1);
    let ids: Vec<&str> = rows[..taken].iter().map(|(id, _)| id.as_str()).collect();
    let list = placeholders(ids.len());
    let mut delete_attempts = sqlx::query(sqlx::AssertSqlSafe(format!(
        "delete from webhook_attempts where delivery_id in ({list})"
    )));
    for id in &ids {
        delete_attempts = delete_attempts.bind(*id);
    }
    let attempts = delete_attempts.execute(&mut *tx).await?.rows_affected();
    let mut delete_deliveries = sqlx::query(sqlx::AssertSqlSafe(format!(
        "delete from webhook_deliveries where id in ({list})"
    )));
    for id in &ids {
        delete_deliveries = delete_deliveries.bind(*id);
    }
    let deliveries = delete_deliveries.execute(&mut *tx).await?.rows_affected();
    tx.commit().await?;
    pruned.deliveries += deliveries;
    pruned.attempts += attempts;
    metrics::counter!("retention_deleted_total", "table" => "webhook_deliveries")
        .increment(deliveries);
    metrics::counter!("retention_deleted_total", "table" => "webhook_attempts").increment(attempts);
    Ok(ids.last().map(|id| (*id).to_owned()))
}

/// One chunk of events: of the next [`CHUNK`] above `after` created before `cutoff`, those no
/// delivery is left for, deleted and counted in `pruned`. Returns the last id looked at, or
/// `None` when none is left.
async fn delete_events(
    pool: &MySqlPool,
    after: &str,
    cutoff: DateTime<Utc>,
    pruned: &mut Pruned,
) -> sqlx::Result<Option<String>> {
    let mut conn = pool.acquire().await?;
    let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select id from webhook_events where id > ? and id < ? order by id limit {CHUNK}"
    )))
    .bind(after)
    .bind(EventId::floor(cutoff).as_str())
    .fetch_all(&mut *conn)
    .await?;
    let Some(last) = ids.last().cloned() else {
        return Ok(None);
    };
    let mut delete = sqlx::query(sqlx::AssertSqlSafe(format!(
        "delete from webhook_events
         where id in ({})
           and not exists (select 1 from webhook_deliveries d where d.event_id = webhook_events.id)",
        placeholders(ids.len())
    )));
    for id in &ids {
        delete = delete.bind(id.as_str());
    }
    let events = delete.execute(&mut *conn).await?.rows_affected();
    pruned.events += events;
    metrics::counter!("retention_deleted_total", "table" => "webhook_events").increment(events);
    Ok(Some(last))
}

/// Takes or renews the retention lease for `holder`: whether it holds it now. The lease's row
/// is written, expired, on first use.
pub async fn hold_lease(pool: &MySqlPool, holder: &str) -> sqlx::Result<bool> {
    sqlx::query(
        "insert into maintenance_leases (name, holder, expires_at)
         values (?, '', '1970-01-01 00:00:00')
         on duplicate key update name = name",
    )
    .bind(LEASE)
    .execute(pool)
    .await?;
    renew_lease(pool, holder).await
}

/// [`hold_lease`] once its row exists: one compare-and-set update.
async fn renew_lease(pool: &MySqlPool, holder: &str) -> sqlx::Result<bool> {
    let taken = sqlx::query(
        "update maintenance_leases
         set holder = ?, expires_at = utc_timestamp(6) + interval ? microsecond
         where name = ? and (holder = ? or expires_at < utc_timestamp(6))",
    )
    .bind(holder)
    .bind(domain::time::micros(LEASE_TTL))
    .bind(LEASE)
    .bind(holder)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(taken == 1)
}

/// Gives the lease up, if `holder` holds it, so that another instance need not wait it out.
pub async fn release_lease(pool: &MySqlPool, holder: &str) -> sqlx::Result<()> {
    sqlx::query(
        "update maintenance_leases set expires_at = utc_timestamp(6)
         where name = ? and holder = ?",
    )
    .bind(LEASE)
    .bind(holder)
    .execute(pool)
    .await?;
    Ok(())
}

/// Prunes now under the lease, as `holder`: `None` when another instance holds it.
pub async fn prune_once(
    pool: &MySqlPool,
    policy: &Policy,
    holder: &str,
    stop: &CancellationToken,
) -> sqlx::Result<Option<Pruned>> {
    if !hold_lease(pool, holder).await? {
        return Ok(None);
    }
    let cutoff = policy.cutoff(domain::time::now());
    let pruned = prune(pool, cutoff, policy.pause, stop, || {
        renew_lease(pool, holder)
    })
    .await;
    release_lease(pool, holder).await?;
    pruned.map(Some)
}

/// Prunes every `policy.every` until `stop` is cancelled, on whichever instance holds the lease.
pub async fn run(pool: MySqlPool, policy: Policy, stop: CancellationToken) {
    let holder = domain::ids::token();
    loop {
        match prune_once(&pool, &policy, &holder, &stop).await {
            Ok(Some(pruned)) if pruned != Pruned::default() => tracing::info!(
                deliveries = pruned.deliveries,
                attempts = pruned.attempts,
                events = pruned.events,
                "retention: deleted what was final and older than the retention period"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "retention: a prune failed; it runs again later"),
        }
        tokio::select! {
            () = tokio::time::sleep(policy.every) => {}
            () = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_the_retention_period_before_now() {
        let policy = Policy {
            keep: Duration::from_secs(30 * 86_400),
            pause: Duration::ZERO,
            every: Duration::from_secs(3_600),
        };
        let now = DateTime::<Utc>::UNIX_EPOCH + chrono::TimeDelta::days(100);
        assert_eq!(
            policy.cutoff(now),
            DateTime::<Utc>::UNIX_EPOCH + chrono::TimeDelta::days(70)
        );
        let forever = Policy {
            keep: Duration::MAX,
            ..policy
        };
        assert_eq!(forever.cutoff(now), DateTime::<Utc>::UNIX_EPOCH);
    }
}
