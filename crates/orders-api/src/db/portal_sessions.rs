//! Portal sessions: the token is shown once, inside the link, and only its SHA-256 is stored.

use chrono::{DateTime, Utc};
use domain::ids::{CustomerId, PortalSessionId};
use platform::database::bad_column;
use sqlx::{MySqlConnection, Row};

use super::api_keys::{self, KeyHash};

/// Every portal session token starts with this.
pub const TOKEN_PREFIX: &str = "mps_";

/// A freshly created session; `token` is put in the link once and never stored.
#[derive(Debug)]
pub struct NewSession {
    /// The session's id.
    pub id: PortalSessionId,
    /// The bearer token (`mps_…`).
    pub token: secrecy::SecretString,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// What a token resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A live session.
    Live {
        /// The session.
        id: PortalSessionId,
        /// Whose rights it carries.
        customer_id: CustomerId,
    },
    /// A session that existed but expired or was revoked.
    Ended,
}

/// The hash to look `token` up by; `None` when it cannot be a portal session token.
pub fn token_hash(token: &str) -> Option<KeyHash> {
    token
        .starts_with(TOKEN_PREFIX)
        .then(|| api_keys::hash(token))
}

/// Opens a session for `customer` lasting `lifetime_seconds`, timed by the database's clock.
pub async fn create(
    conn: &mut MySqlConnection,
    customer: &CustomerId,
    lifetime_seconds: u32,
) -> sqlx::Result<NewSession> {
    let token = api_keys::new_secret(TOKEN_PREFIX)?;
    let id = PortalSessionId::new();
    sqlx::query(
        r"insert into portal_sessions (id, customer_id, token_hash, created_at, expires_at)
          values (?, ?, ?, utc_timestamp(6), utc_timestamp(6) + interval ? second)",
    )
    .bind(id.as_str())
    .bind(customer.as_str())
    .bind(api_keys::hash(&token).as_slice())
    .bind(lifetime_seconds)
    .execute(&mut *conn)
    .await?;
    let expires_at = sqlx::query_scalar("select expires_at from portal_sessions where id = ?")
        .bind(id.as_str())
        .fetch_one(conn)
        .await?;
    Ok(NewSession {
        id,
        token: token.into(),
        expires_at,
    })
}

/// What the token whose hash is `hash` opens, if it was ever issued.
pub async fn authenticate(
    conn: &mut MySqlConnection,
    hash: &KeyHash,
) -> sqlx::Result<Option<Lookup>> {
    let row = sqlx::query(
        r"select id, customer_id,
                 revoked_at is null and expires_at > utc_timestamp(6) as live
          from portal_sessions where token_hash = ?",
    )
    .bind(hash.as_slice())
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let live: i64 = row.try_get("live")?;
    if live == 0 {
        return Ok(Some(Lookup::Ended));
    }
    let id = PortalSessionId::parse(row.try_get("id")?).map_err(bad_column)?;
    let customer_id = CustomerId::parse(row.try_get("customer_id")?).map_err(bad_column)?;
    Ok(Some(Lookup::Live { id, customer_id }))
}

/// A live session as shown to its holder.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    /// `ps_…`
    pub id: String,
    /// Whose rights it carries.
    pub customer_id: String,
    /// That customer's name.
    pub customer_name: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// One live session, if `owner` may see it (`None`: an operator, who sees every session).
pub async fn find(
    conn: &mut MySqlConnection,
    id: &PortalSessionId,
    owner: Option<&CustomerId>,
) -> sqlx::Result<Option<SessionRow>> {
    let row: Option<SessionRow> = sqlx::query_as(
        r"select s.id, s.customer_id, c.name as customer_name, s.expires_at
          from portal_sessions s join customers c on c.id = s.customer_id
          where s.id = ? and s.revoked_at is null and s.expires_at > utc_timestamp(6)",
    )
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.filter(|row| owner.is_none_or(|owner| row.customer_id == owner.as_str())))
}

/// Revokes a session; its token stops working on the next request (sessions are not cached).
pub async fn revoke(conn: &mut MySqlConnection, id: &PortalSessionId) -> sqlx::Result<bool> {
    let revoked = sqlx::query(
        "update portal_sessions set revoked_at = utc_timestamp(6) where id = ? and revoked_at is null",
    )
    .bind(id.as_str())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(revoked == 1)
}
