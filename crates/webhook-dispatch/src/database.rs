//! Connection pools, sized per process and with lifetimes under PlanetScale's 24 h.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{Connection, MySqlPool};

/// Prepared statements kept per connection. The dispatcher's batched statements have one text
/// per batch size (up to 3 × 32), on top of the API's fixed ones.
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
