//! Webhook endpoints, their sealed custom headers and their sealed signing secrets.

use chrono::{DateTime, Utc};
use domain::event::EventType;
use domain::ids::{CustomerId, EndpointId, SecretId};
use sqlx::types::Json;
use sqlx::{MySqlConnection, QueryBuilder};

use domain::state::DisabledReason;
use domain::target::WebhookUrl;
use domain::throttle::RateLimit;
use platform::database::bad_column;

/// The index every lookup of a customer's endpoints must use.
pub const CUSTOMER_INDEX: &str = "webhook_endpoints_customer";

/// A webhook endpoint as stored.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Its id.
    pub id: EndpointId,
    /// Its owner.
    pub customer_id: CustomerId,
    /// Where deliveries go.
    pub url: WebhookUrl,
    /// The customer's note.
    pub description: Option<String>,
    /// Subscribed event types; `None` means all.
    pub event_types: Option<Vec<EventType>>,
    /// Whether it receives deliveries.
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<DisabledReason>,
    /// Since when every attempt has failed (the first failure since the last success); `None`
    /// while healthy.
    pub failing_since: Option<DateTime<Utc>>,
    /// Its custom headers, sealed (`domain::headers`); `None` when it has none.
    pub sealed_headers: Option<Vec<u8>>,
    /// The most deliveries a second it receives; `None`: unlimited.
    pub rate_limit: Option<RateLimit>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    customer_id: String,
    url: String,
    description: Option<String>,
    event_types: Option<Json<Vec<String>>>,
    enabled: bool,
    disabled_reason: Option<String>,
    failing_since: Option<DateTime<Utc>>,
    headers: Option<Vec<u8>>,
    rate_limit_per_second: Option<u32>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, customer_id, url, description, event_types, enabled, disabled_reason, failing_since, headers, rate_limit_per_second, created_at, updated_at";

impl TryFrom<EndpointRow> for Endpoint {
    type Error = sqlx::Error;

    fn try_from(row: EndpointRow) -> sqlx::Result<Self> {
        Ok(Endpoint {
            id: EndpointId::parse(&row.id).map_err(bad_column)?,
            customer_id: CustomerId::parse(&row.customer_id).map_err(bad_column)?,
            url: WebhookUrl::parse(&row.url).map_err(bad_column)?,
            description: row.description,
            event_types: delivery::store::stored_event_types(row.event_types.as_ref()),
            enabled: row.enabled,
            disabled_reason: row
                .disabled_reason
                .map(|reason| reason.parse())
                .transpose()
                .map_err(bad_column)?,
            failing_since: row.failing_since,
            sealed_headers: row.headers,
            rate_limit: row
                .rate_limit_per_second
                .map(|r| {
                    RateLimit::new(r).ok_or_else(|| {
                        sqlx::Error::Decode(format!("rate limit {r} is out of range").into())
                    })
                })
                .transpose()?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn event_type_names(types: Option<&[EventType]>) -> Option<Json<Vec<&'static str>>> {
    types.map(|types| Json(types.iter().map(|t| t.as_str()).collect()))
}

/// Inserts an endpoint.
pub async fn insert(conn: &mut MySqlConnection, endpoint: &Endpoint) -> sqlx::Result<()> {
    sqlx::query(
        r"insert into webhook_endpoints
            (id, customer_id, url, description, event_types, enabled, headers,
             rate_limit_per_second, created_at, updated_at)
          values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(endpoint.id.as_str())
    .bind(endpoint.customer_id.as_str())
    .bind(endpoint.url.as_str())
    .bind(endpoint.description.as_deref())
    .bind(event_type_names(endpoint.event_types.as_deref()))
    .bind(endpoint.enabled)
    .bind(endpoint.sealed_headers.as_deref())
    .bind(endpoint.rate_limit.map(RateLimit::per_second))
    .bind(endpoint.created_at)
    .bind(endpoint.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a sealed signing secret of an endpoint.
pub async fn insert_secret(
    conn: &mut MySqlConnection,
    endpoint_id: &EndpointId,
    sealed: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        r"insert into webhook_endpoint_secrets (id, endpoint_id, ciphertext, created_at)
          values (?, ?, ?, utc_timestamp(6))",
    )
    .bind(SecretId::new().as_str())
    .bind(endpoint_id.as_str())
    .bind(sealed)
    .execute(conn)
    .await?;
    Ok(())
}

/// One live endpoint of `customer`.
pub async fn find(
    conn: &mut MySqlConnection,
    customer: &CustomerId,
    id: &EndpointId,
) -> sqlx::Result<Option<Endpoint>> {
    find_locking(conn, customer, id, false).await
}

/// [`find`], locking the row until the transaction ends: for a change that reads what it
/// rewrites (the custom headers it merges into).
pub async fn find_for_update(
    conn: &mut MySqlConnection,
    customer: &CustomerId,
    id: &EndpointId,
) -> sqlx::Result<Option<Endpoint>> {
    find_locking(conn, customer, id, true).await
}

async fn find_locking(
    conn: &mut MySqlConnection,
    customer: &CustomerId,
    id: &EndpointId,
    for_update: bool,
) -> sqlx::Result<Option<Endpoint>> {
    let lock = if for_update { " for update" } else { "" };
    let row: Option<EndpointRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from webhook_endpoints \
         where customer_id = ? and deleted_at is null and id = ?{lock}"
    )))
    .bind(customer.as_str())
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(Endpoint::try_from).transpose()
}

/// A page of `customer`'s live endpoints, newest first, below `before`.
pub async fn list(
    conn: &mut MySqlConnection,
    customer: &CustomerId,
    before: Option<&EndpointId>,
    limit: u32,
) -> sqlx::Result<Vec<Endpoint>> {
    let mut query = QueryBuilder::new(format!(
        "select {COLUMNS} from webhook_endpoints where customer_id = "
    ));
    query
        .push_bind(customer.as_str().to_owned())
        .push(" and deleted_at is null");
    if let Some(before) = before {
        query
            .push(" and id < ")
            .push_bind(before.as_str().to_owned());
    }
    query.push(" order by id desc limit ").push_bind(limit);
    let rows: Vec<EndpointRow> = query.build_query_as().fetch_all(conn).await?;
    rows.into_iter().map(Endpoint::try_from).collect()
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    /// New URL.
    pub url: Option<WebhookUrl>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New subscription (`Some(None)` means all types).
    pub event_types: Option<Option<Vec<EventType>>>,
    /// New custom headers, sealed (`Some(None)`: none left).
    pub sealed_headers: Option<Option<Vec<u8>>>,
    /// New rate limit (`Some(None)`: unlimited).
    pub rate_limit: Option<Option<RateLimit>>,
    /// Enable (clearing the disabled reason).
    pub enable: bool,
}

/// Applies `patch` to a live endpoint of `customer`. Disabling goes through
/// `delivery::store::disable_endpoint`, which also fails its pending deliveries.
pub async fn update(
    conn: &mut MySqlConnection,
    customer: &CustomerId,
    id: &EndpointId,
    patch: &Patch,
) -> sqlx::Result<()> {
    let mut query = QueryBuilder::new("update webhook_endpoints set updated_at = utc_timestamp(6)");
    if let Some(url) = &patch.url {
        query.push(", url = ").push_bind(url.as_str().to_owned());
    }
    if let Some(description) = &patch.description {
        query
            .push(", description = ")
            .push_bind(description.clone());
    }
    if let Some(event_types) = &patch.event_types {
        query
            .push(", event_types = ")
            .push_bind(event_types.as_deref().map(|types| {
                Json(
                    types
                        .iter()
                        .map(|t| t.as_str().to_owned())
                        .collect::<Vec<_>>(),
                )
            }));
    }
    if let Some(sealed) = &patch.sealed_headers {
        query.push(", headers = ").push_bind(sealed.clone());
    }
    if let Some(limit) = patch.rate_limit {
        query
            .push(", rate_limit_per_second = ")
            .push_bind(limit.map(RateLimit::per_second));
    }
    if patch.enable {
        // Re-enabling resets the auto-disable clock.
        query.push(
            ", enabled = true, disabled_reason = null, failing_since = null, \
             failure_streak = 0, failing_notified = 0",
        );
    }
    query
        .push(" where customer_id = ")
        .push_bind(customer.as_str().to_owned())
        .push(" and deleted_at is null and id = ")
        .push_bind(id.as_str().to_owned());
    query.build().execute(&mut *conn).await?;
    if patch.rate_limit.is_some() {
        // The limiter's state was kept for the old rate (its slots may reach far ahead at a low
        // one): a new rate starts afresh.
        sqlx::query("delete from endpoint_throttles where endpoint_id = ?")
            .bind(id.as_str())
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Marks an endpoint deleted; its pending deliveries fail with `endpoint_disabled`.
pub async fn delete(
    conn: &mut MySqlConnection,
    customer: &CustomerId,
    id: &EndpointId,
) -> sqlx::Result<bool> {
    let deleted = sqlx::query(
        r"update webhook_endpoints set deleted_at = utc_timestamp(6), updated_at = utc_timestamp(6)
          where customer_id = ? and deleted_at is null and id = ?",
    )
    .bind(customer.as_str())
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if deleted == 1 {
        delivery::store::disable_endpoint(conn, id, DisabledReason::Deleted).await?;
    }
    Ok(deleted == 1)
}

/// Rotates an endpoint's signing secret: every active secret now expires after `grace` (sooner
/// if it already expired sooner), and `sealed` becomes the current one. Returns when the
/// previous secrets stop signing.
pub async fn rotate_secret(
    conn: &mut MySqlConnection,
    endpoint_id: &EndpointId,
    sealed: &[u8],
    grace: std::time::Duration,
) -> sqlx::Result<DateTime<Utc>> {
    let grace_us = domain::time::micros(grace);
    let expires_at: DateTime<Utc> =
        sqlx::query_scalar("select utc_timestamp(6) + interval ? microsecond")
            .bind(grace_us)
            .fetch_one(&mut *conn)
            .await?;
    sqlx::query(
        r"update webhook_endpoint_secrets set expires_at = ?
          where endpoint_id = ? and (expires_at is null or expires_at > ?)",
    )
    .bind(expires_at)
    .bind(endpoint_id.as_str())
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    insert_secret(conn, endpoint_id, sealed).await?;
    Ok(expires_at)
}
