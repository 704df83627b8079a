//! Idempotency keys: the first request with a key runs; later ones with the same key and the
//! same request get its stored response; a different request with the key is refused.

use sqlx::{MySqlPool, Row};

/// How long a completed key is honoured (seconds).
const RETENTION_SECONDS: i64 = 24 * 3600;
/// An unfinished key older than this belongs to a request that died (seconds).
const ABANDONED_SECONDS: i64 = 120;

/// What [`begin`] found.
#[derive(Debug)]
pub enum Begin {
    /// This request owns the key: run it, then [`complete`] or [`abandon`].
    Started,
    /// The same request completed before: replay its response.
    Replay {
        /// Its status.
        status: u16,
        /// Its body.
        body: Vec<u8>,
    },
    /// The same key is being processed by another request right now.
    InProgress,
    /// The key was used with a different request.
    Mismatch,
}

/// Claims `key` for a request with fingerprint `hash`, or reports what already holds it.
pub async fn begin(pool: &MySqlPool, scope: &[u8], key: &str, hash: &[u8]) -> sqlx::Result<Begin> {
    for _ in 0..2 {
        let inserted = sqlx::query(
            r"insert into idempotency_keys (scope, idempotency_key, request_hash, created_at)
              values (?, ?, ?, utc_timestamp(6))",
        )
        .bind(scope)
        .bind(key)
        .bind(hash)
        .execute(pool)
        .await;
        match inserted {
            Ok(_) => return Ok(Begin::Started),
            Err(e) if super::is_unique_violation(&e, "PRIMARY") => {}
            Err(e) => return Err(e),
        }
        let row = sqlx::query(
            r"select request_hash, status_code, response_body,
                     created_at < utc_timestamp(6) - interval ? second as expired,
                     created_at < utc_timestamp(6) - interval ? second as abandoned
              from idempotency_keys where scope = ? and idempotency_key = ?",
        )
        .bind(RETENTION_SECONDS)
        .bind(ABANDONED_SECONDS)
        .bind(scope)
        .bind(key)
        .fetch_optional(pool)
        .await?;
        let Some(row) = row else { continue };
        let status: Option<u16> = row.try_get("status_code")?;
        let stale = row.try_get::<i64, _>("expired")? != 0
            || (status.is_none() && row.try_get::<i64, _>("abandoned")? != 0);
        if stale {
            // Only the stale row: a request that replaced it meanwhile keeps its claim.
            sqlx::query(
                r"delete from idempotency_keys
                  where scope = ? and idempotency_key = ?
                    and (created_at < utc_timestamp(6) - interval ? second
                         or (status_code is null and created_at < utc_timestamp(6) - interval ? second))",
            )
            .bind(scope)
            .bind(key)
            .bind(RETENTION_SECONDS)
            .bind(ABANDONED_SECONDS)
            .execute(pool)
            .await?;
            continue;
        }
        let stored: Vec<u8> = row.try_get("request_hash")?;
        return Ok(match status {
            _ if stored != hash => Begin::Mismatch,
            None => Begin::InProgress,
            Some(status) => Begin::Replay {
                status,
                body: row
                    .try_get::<Option<Vec<u8>>, _>("response_body")?
                    .unwrap_or_default(),
            },
        });
    }
    Ok(Begin::InProgress)
}

/// Stores the response of the request that owns `key`.
pub async fn complete(
    pool: &MySqlPool,
    scope: &[u8],
    key: &str,
    status: u16,
    body: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "update idempotency_keys set status_code = ?, response_body = ? where scope = ? and idempotency_key = ?",
    )
    .bind(status)
    .bind(body)
    .bind(scope)
    .bind(key)
    .execute(pool)
    .await?;
    Ok(())
}

/// Releases `key` (the request failed on our side, or the key expired) so it can be used again.
pub async fn abandon(pool: &MySqlPool, scope: &[u8], key: &str) -> sqlx::Result<()> {
    sqlx::query("delete from idempotency_keys where scope = ? and idempotency_key = ?")
        .bind(scope)
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}
