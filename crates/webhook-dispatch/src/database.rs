//! Connection pools, sized per process and with lifetimes under PlanetScale's 24 h.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::MySqlPool;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};

/// Parses a `mysql://` URL into connect options.
pub fn connect_options(url: &SecretString) -> Result<MySqlConnectOptions, sqlx::Error> {
    MySqlConnectOptions::from_str(url.expose_secret())
}

/// A lazily connecting pool of at most `max_connections`, recycling connections every 30 min.
///
/// Connections are not pinged before each use (sqlx's default): that doubled the round trips
/// of a short request. A connection the server has dropped fails its next statement, that
/// request or attempt errs (a 503, or an attempt retried after its lease) and the pool discards
/// the connection; idle ones are closed after 5 min, well inside the server's `wait_timeout`.
pub fn pool(options: MySqlConnectOptions, max_connections: u32) -> MySqlPool {
    MySqlPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(300))
        .max_lifetime(Duration::from_secs(30 * 60))
        .connect_lazy_with(options)
}
