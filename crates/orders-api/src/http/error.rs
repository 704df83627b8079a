//! `http::Error`: the only place that knows status codes. Every error is an RFC 9457
//! `application/problem+json` document; internal causes are logged, never returned.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::order::InvalidTransition;
use domain::validation::{FieldError, FieldErrors};
use serde::Serialize;

use crate::service::ServiceError;

/// Where problem type URIs live; each ends in a stable slug.
pub const PROBLEM_BASE: &str = "https://docs.mechanica.dev/problems/";

tokio::task_local! {
    /// The id of the request being handled, for problem documents.
    pub static REQUEST_ID: String;
}

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not JSON at all (400).
    #[error("{0}")]
    MalformedJson(String),
    /// Well-formed, but some fields are invalid (422).
    #[error("the request has invalid fields")]
    Validation(FieldErrors),
    /// No API key, or an unknown one (401).
    #[error("a valid API key is required: send `Authorization: Bearer <key>`")]
    Unauthorized,
    /// A portal session that expired or was revoked (401).
    #[error("this portal link has expired or was revoked; ask for a new one")]
    SessionEnded,
    /// The key's role may not use this route (403).
    #[error("this API key's role may not use this route")]
    Forbidden,
    /// A portal session may not create credentials: API keys or other portal sessions (403).
    #[error("a portal session cannot create API keys or portal sessions; use an API key")]
    NotInPortal,
    /// Missing, malformed or someone else's (404).
    #[error("no such resource")]
    NotFound,
    /// The order lifecycle forbids the change (409).
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// A uniqueness conflict (409), with its slug.
    #[error("{detail}")]
    Conflict {
        /// Problem slug.
        slug: &'static str,
        /// What conflicted.
        detail: String,
    },
    /// The body is over the limit (413).
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// The body is not `application/json` (415).
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// The method is not declared for this path (405).
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    /// The API key sent too many requests (429).
    #[error("too many requests with this API key; retry after {retry_after_seconds} s")]
    RateLimited {
        /// When a request will be accepted again.
        retry_after_seconds: u64,
    },
    /// Draining or the database is unreachable (503).
    #[error("the service is not ready")]
    Unavailable,
    /// Anything else (500); the cause is logged, not shown.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for Error {
    /// A lost or unobtainable connection is the database being unavailable (503, worth a
    /// retry); anything else is an internal error.
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                tracing::warn!(%error, "database unavailable");
                Self::Unavailable
            }
            error => Self::Internal(error.into()),
        }
    }
}

impl From<ServiceError> for Error {
    /// The one place where an operation's failure becomes a problem document.
    fn from(error: ServiceError) -> Self {
        let conflict = |slug, error: &ServiceError| Self::Conflict {
            slug,
            detail: error.to_string(),
        };
        match error {
            ServiceError::NotFound => Self::NotFound,
            ServiceError::Invalid(errors) => Self::Validation(errors),
            ServiceError::InvalidTransition(error) => Self::InvalidTransition(error),
            ServiceError::DuplicateReference(_) => conflict("duplicate-reference", &error),
            ServiceError::ConcurrentChange => conflict("concurrent-change", &error),
            ServiceError::DeliveryInFlight => conflict("delivery-in-flight", &error),
            ServiceError::EndpointDisabled => conflict("endpoint-disabled", &error),
            ServiceError::Database(error) => error.into(),
            ServiceError::Internal(error) => Self::Internal(error),
        }
    }
}

impl Error {
    /// A 422 for a single field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        Self::Validation(errors)
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed-json", "Malformed JSON"),
            Self::Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid request",
            ),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            Self::SessionEnded => (
                StatusCode::UNAUTHORIZED,
                "portal-session-expired",
                "Portal link expired",
            ),
            Self::Forbidden | Self::NotInPortal => {
                (StatusCode::FORBIDDEN, "forbidden", "Forbidden")
            }
            Self::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Self::InvalidTransition(_) => (
                StatusCode::CONFLICT,
                "invalid-transition",
                "Invalid status transition",
            ),
            Self::Conflict { slug, .. } => (StatusCode::CONFLICT, slug, "Conflict"),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Self::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            ),
        }
    }
}

/// The problem document.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// URI of the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the type.
    pub title: &'static str,
    /// HTTP status.
    pub status: u16,
    /// This occurrence, explained.
    pub detail: String,
    /// The request's id, as in `x-request-id`.
    pub request_id: Option<String>,
    /// Invalid fields (422 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, slug, title) = self.parts();
        if let Self::Internal(cause) = &self {
            tracing::error!(error = ?cause, "request failed");
        }
        let errors = match &self {
            Self::Validation(errors) => Some(errors.as_slice().to_vec()),
            _ => None,
        };
        let problem = Problem {
            problem_type: format!("{PROBLEM_BASE}{slug}"),
            title,
            status: status.as_u16(),
            detail: self.to_string(),
            request_id: REQUEST_ID.try_with(Clone::clone).ok(),
            errors,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Self::RateLimited {
            retry_after_seconds,
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        }
        response
    }
}
