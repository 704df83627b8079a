//! Authentication: `Authorization: Bearer <api key>`, resolved to a role.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use domain::ids::{ApiKeyId, CustomerId};

use super::AppState;
use super::error::Error;
use crate::db::Scope;
use crate::db::api_keys::{self, Role};

/// Any authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key used.
    pub key_id: ApiKeyId,
    /// What it may do.
    pub role: Role,
}

impl Caller {
    /// The rows this caller may see.
    pub fn scope(&self) -> Scope {
        match &self.role {
            Role::Operator => Scope::All,
            Role::Customer(customer) => Scope::Customer(customer.clone()),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(Error::Unauthorized)?;
        let mut conn = state.pool.acquire().await?;
        let (key_id, role) = api_keys::authenticate(&mut conn, key)
            .await?
            .ok_or(Error::Unauthorized)?;
        if let Some(limiter) = &state.rate_limiter
            && let Err(not_until) = limiter.check_key(&key_id)
        {
            use governor::clock::{Clock, DefaultClock};
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(Error::RateLimited {
                retry_after_seconds: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            });
        }
        let caller = Caller { key_id, role };
        if let Role::Customer(customer) = &caller.role {
            tracing::Span::current().record("customer_id", tracing::field::display(customer));
        }
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// A caller with an operator key (403 otherwise).
#[derive(Debug, Clone)]
pub struct Operator(pub Caller);

impl FromRequestParts<AppState> for Operator {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match caller.role {
            Role::Operator => Ok(Self(caller)),
            Role::Customer(_) => Err(Error::Forbidden),
        }
    }
}

/// A caller with a customer key (403 otherwise).
#[derive(Debug, Clone)]
pub struct Customer {
    /// The key used.
    pub key_id: ApiKeyId,
    /// The customer it belongs to.
    pub customer_id: CustomerId,
}

impl FromRequestParts<AppState> for Customer {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match caller.role {
            Role::Customer(customer_id) => Ok(Self {
                key_id: caller.key_id,
                customer_id,
            }),
            Role::Operator => Err(Error::Forbidden),
        }
    }
}
