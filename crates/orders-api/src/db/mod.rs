//! Repository functions. Each takes `&mut MySqlConnection`, so it works on a pool connection
//! or inside a transaction alike. SQL is written for MySQL 8.0 and MariaDB both.

pub mod api_keys;
pub mod customers;
pub mod endpoints;
pub mod idempotency;
pub mod orders;
pub mod portal_sessions;

/// Whether `error` is a duplicate on the unique key named `key`. MySQL does not report
/// constraint names through sqlx, so the key name is matched in the message, and every key in
/// the migrations is named.
pub fn is_unique_violation(error: &sqlx::Error, key: &str) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation() && db.message().contains(key))
}

/// Which customer's rows a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// An operator: every customer's.
    All,
    /// A customer: only its own.
    Customer(domain::ids::CustomerId),
}

impl Scope {
    /// The customer to filter by, if any.
    pub fn customer(&self) -> Option<&domain::ids::CustomerId> {
        match self {
            Self::All => None,
            Self::Customer(id) => Some(id),
        }
    }
}
