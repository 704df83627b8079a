//! Connection pools, sized per process and with lifetimes under PlanetScale's 24 h.

use std::str::FromStr;
use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{Connection, MySqlPool};

/// Prepared statements kept per connection. Batched statements have one text per batch size
/// (the attempt records' up to 3 × 32, the claims' up to 32, the relay's up to 100), on top of
/// the API's fixed ones.
const STATEMENT_CACHE: usize = 512;

/// A connection idle for longer than this is pinged before it is handed out: after a Lambda
/// freeze or a NAT's idle timeout it may be dead.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// Parses a `mysql://` URL into connect options.
pub fn connect_options(url: &SecretString) -> Result<MySqlConnectOptions, sqlx::Error> {
    Ok(MySqlConnectOptions::from_str(url.expose_secret())?
        .statement_cache_capacity(STATEMENT_CACHE))
}

/// A lazily connecting pool of at most `max_connections`, recycling connections every 30 min.
///
/// Connections are pinged before use only after [`PING_AFTER_IDLE`] in the pool (sqlx pings
/// every checkout by default, doubling the round trips of a short request). A busy connection
/// the server has dropped fails its next statement instead: that request answers 503, or that
/// attempt is retried after its lease, and the pool discards the connection.
pub fn pool(options: MySqlConnectOptions, max_connections: u32) -> MySqlPool {
    MySqlPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_AFTER_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(300))
        .max_lifetime(Duration::from_secs(30 * 60))
        .connect_lazy_with(options)
}

/// How often work the server rolled back for a lock conflict is tried again.
const LOCK_CONFLICT_RETRIES: u32 = 5;

/// An error that may be a lock conflict: work that failed with one can run again.
pub trait LockConflict {
    /// Whether the server rolled the work back for a deadlock or a lock wait timeout.
    fn is_lock_conflict(&self) -> bool;
}

impl LockConflict for sqlx::Error {
    /// A deadlock (1213) rolls the whole transaction back, a lock wait timeout (1205) the
    /// statement; either way nothing of it was applied, so the same work can simply run again.
    fn is_lock_conflict(&self) -> bool {
        matches!(
            self,
            sqlx::Error::Database(db)
                if db
                    .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                    .is_some_and(|e| matches!(e.number(), 1205 | 1213))
        )
    }
}

/// Runs `work`, and runs it again (up to [`LOCK_CONFLICT_RETRIES`] times, after 2, 4, 8 … ms)
/// while it fails with a lock conflict. InnoDB resolves a deadlock by rolling one transaction
/// back and expects the application to retry it; the outbox relay, the claims, the attempt
/// records and the API's status changes run concurrently on the same rows, so they do. `work`
/// must be a whole statement or transaction, safe to run again.
///
/// The future is boxed: it wraps statements deep inside the handler's future, whose type would
/// otherwise nest beyond the compiler's layout depth limit.
pub fn retry_lock_conflicts<'a, T, E, F, Fut>(mut work: F) -> BoxFuture<'a, Result<T, E>>
where
    F: FnMut() -> Fut + Send + 'a,
    Fut: Future<Output = Result<T, E>> + Send + 'a,
    T: Send + 'a,
    E: LockConflict + std::fmt::Debug + Send + 'a,
{
    Box::pin(async move {
        let mut retries = 0;
        loop {
            match work().await {
                Err(error) if retries < LOCK_CONFLICT_RETRIES && error.is_lock_conflict() => {
                    retries += 1;
                    metrics::counter!("database_lock_conflicts_total").increment(1);
                    tracing::debug!(?error, retries, "lock conflict; running the work again");
                    tokio::time::sleep(Duration::from_millis(1 << retries)).await;
                }
                result => return result,
            }
        }
    })
}

/// A column held a value that does not parse into its type (an id, a state): the database is
/// corrupt or was written by something else. Reported as sqlx's decode error.
pub fn bad_column(error: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(error))
}
