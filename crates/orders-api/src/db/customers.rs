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

/// Whether a customer exists.
pub async fn exists(conn: &mut MySqlConnection, id: &CustomerId) -> sqlx::Result<bool> {
    let found: Option<i32> = sqlx::query_scalar("select 1 from customers where id = ?")
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}
