//! API keys: only a SHA-256 hash and a short display prefix are stored.

use base64::Engine;
use domain::ids::{ApiKeyId, CustomerId};
use domain::state::KeyRole;
use platform::database::bad_column;
use sha2::{Digest, Sha256};
use sqlx::{MySqlConnection, Row};

/// What a key may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Staff: manage customers, move orders through their lifecycle.
    Operator,
    /// A customer: its own orders and endpoints.
    Customer(CustomerId),
}

/// A freshly created key; `secret` is shown once and never stored.
#[derive(Debug)]
pub struct NewKey {
    /// The key's id.
    pub id: ApiKeyId,
    /// The key itself (`mk_…`).
    pub secret: secrecy::SecretString,
    /// Its recognisable prefix.
    pub prefix: String,
}

const KEY_PREFIX: &str = "mk_";
const DISPLAY_PREFIX_LEN: usize = 11;

/// The SHA-256 of a key: what is stored, and what a key is looked up by.
pub type KeyHash = [u8; 32];

/// The SHA-256 of a bearer credential (an API key or a portal session token).
pub(crate) fn hash(key: &str) -> KeyHash {
    Sha256::digest(key.as_bytes()).into()
}

/// A new bearer credential: `prefix` and 32 random bytes in unpadded base64url.
pub(crate) fn new_secret(prefix: &str) -> sqlx::Result<String> {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    ))
}

/// The hash to look `key` up by; `None` when it cannot be one of our keys.
pub fn key_hash(key: &str) -> Option<KeyHash> {
    key.starts_with(KEY_PREFIX).then(|| hash(key))
}

/// Creates a key for `role`.
pub async fn create(
    conn: &mut MySqlConnection,
    role: &Role,
    name: Option<&str>,
) -> sqlx::Result<NewKey> {
    let secret = new_secret(KEY_PREFIX)?;
    let prefix: String = secret.chars().take(DISPLAY_PREFIX_LEN).collect();
    let id = ApiKeyId::new();
    let (role_name, customer_id) = match role {
        Role::Operator => (KeyRole::Operator, None),
        Role::Customer(customer) => (KeyRole::Customer, Some(customer.as_str())),
    };
    sqlx::query(
        r"insert into api_keys (id, customer_id, role, name, prefix, key_hash, created_at)
          values (?, ?, ?, ?, ?, ?, utc_timestamp(6))",
    )
    .bind(id.as_str())
    .bind(customer_id)
    .bind(role_name.as_str())
    .bind(name)
    .bind(&prefix)
    .bind(hash(&secret).as_slice())
    .execute(conn)
    .await?;
    Ok(NewKey {
        id,
        secret: secret.into(),
        prefix,
    })
}

/// An unrevoked key, as found by its hash.
pub struct Found {
    /// The key.
    pub id: ApiKeyId,
    /// What it may do.
    pub role: Role,
    /// Whether its `last_used_at` is older than a minute (or unset), so that [`touch`] would
    /// write it.
    pub stale: bool,
}

/// The unrevoked key whose hash is `hash`, if there is one.
pub async fn authenticate(
    conn: &mut MySqlConnection,
    hash: &KeyHash,
) -> sqlx::Result<Option<Found>> {
    let row = sqlx::query(
        r"select id, role, customer_id,
                 (last_used_at is null
                  or last_used_at < utc_timestamp(6) - interval 60 second) as stale
            from api_keys where key_hash = ? and revoked_at is null",
    )
    .bind(hash.as_slice())
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let id = ApiKeyId::parse(row.try_get("id")?).map_err(bad_column)?;
    let role: KeyRole = row
        .try_get::<&str, _>("role")?
        .parse()
        .map_err(bad_column)?;
    let customer: Option<String> = row.try_get("customer_id")?;
    let role = match (role, customer) {
        (KeyRole::Operator, _) => Role::Operator,
        (KeyRole::Customer, Some(customer)) => {
            Role::Customer(CustomerId::parse(&customer).map_err(bad_column)?)
        }
        _ => return Ok(None),
    };
    let stale = row.try_get::<i64, _>("stale")? != 0;
    Ok(Some(Found { id, role, stale }))
}

/// Marks key `id` as used now, unless that was already noted within the last minute: a key
/// busy with many requests is written once a minute, not once a request.
pub async fn touch(conn: &mut MySqlConnection, id: &ApiKeyId) -> sqlx::Result<()> {
    sqlx::query(
        r"update api_keys set last_used_at = utc_timestamp(6)
          where id = ? and (last_used_at is null
                            or last_used_at < utc_timestamp(6) - interval 60 second)",
    )
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// An API key as listed (never the key itself).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    /// `key_…`
    pub id: String,
    /// The customer it belongs to; `None` for operator keys.
    pub customer_id: Option<String>,
    /// What it may do.
    #[sqlx(try_from = "String")]
    pub role: KeyRole,
    /// Its name.
    pub name: Option<String>,
    /// The first characters of the key, for recognition.
    pub prefix: String,
    /// Created at.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it last authenticated a request (see [`touch`]); `None` if never.
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The live keys of one customer, or the operator keys (`None`), newest first.
pub async fn list(
    conn: &mut MySqlConnection,
    owner: Option<&CustomerId>,
) -> sqlx::Result<Vec<KeyRow>> {
    let select = "select id, customer_id, role, name, prefix, created_at, last_used_at from api_keys where revoked_at is null";
    match owner {
        Some(customer) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{select} and customer_id = ? order by id desc"
            )))
            .bind(customer.as_str())
            .fetch_all(conn)
            .await
        }
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{select} and role = ? order by id desc"
            )))
            .bind(KeyRole::Operator.as_str())
            .fetch_all(conn)
            .await
        }
    }
}

/// One live key, if `owner` may see it (`None`: an operator, who sees every key).
pub async fn find(
    conn: &mut MySqlConnection,
    id: &ApiKeyId,
    owner: Option<&CustomerId>,
) -> sqlx::Result<Option<KeyRow>> {
    let row: Option<KeyRow> = sqlx::query_as(
        "select id, customer_id, role, name, prefix, created_at, last_used_at from api_keys where id = ? and revoked_at is null",
    )
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row
        .filter(|row| owner.is_none_or(|owner| row.customer_id.as_deref() == Some(owner.as_str()))))
}

/// Revokes a key; it stops authenticating at once (an API process that cached it forgets it
/// within `API_KEY_CACHE_SECONDS`, see `http::auth::KeyCache`).
pub async fn revoke(conn: &mut MySqlConnection, id: &ApiKeyId) -> sqlx::Result<bool> {
    let revoked = sqlx::query(
        "update api_keys set revoked_at = utc_timestamp(6) where id = ? and revoked_at is null",
    )
    .bind(id.as_str())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(revoked == 1)
}
