//! Customers (tenants).

use chrono::{DateTime, Utc};
use domain::ids::CustomerId;
use sqlx::MySqlConnection;

/// Inserts a customer.
pub async fn insert(
    conn: &mut MySqlConnection,
    id: &CustomerId,
    name: &str,
    created_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("insert into customers (id, name, created_at) values (?, ?, ?)")
        .bind(id.as_str())
        .bind(name)
        .bind(created_at)
        .execute(conn)
        .await?;
    Ok(())
}
