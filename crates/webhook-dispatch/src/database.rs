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
pub fn pool(options: MySqlConnectOptions, max_connections: u32) -> MySqlPool {
    MySqlPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(300))
        .max_lifetime(Duration::from_secs(30 * 60))
        .connect_lazy_with(options)
}
