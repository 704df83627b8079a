//! `Idempotency-Key` on POST requests.
//!
//! A retried request with the same key and the same body gets the first response again
//! (marked `Idempotent-Replayed: true`) without running twice; the same key with a different
//! request is a 422; a request racing another with its key is a 409. Keys are scoped to the
//! credential that sent them (an API key or a portal session), honoured for 24 h, and answered
//! only while that credential is valid. Answers that say "try again" (409, 429, 5xx)
//! are not stored, so a retry runs again. Stored bodies are sealed with the secrets keyring:
//! they can hold a signing secret or an API key, which never rest in clear.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;
use super::auth::Caller;
use super::error::Error;
use crate::db::idempotency::{self, Begin};

/// The request header.
pub const HEADER: &str = "idempotency-key";

fn problem(error: Error) -> Response {
    error.into_response()
}

/// The middleware.
pub async fn idempotency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let Some(key) = key
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
    else {
        return problem(Error::field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    };
    // Requests without credentials are refused downstream; nothing to remember for them.
    let Some(scope) = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|auth| Sha256::digest(auth.as_bytes()).to_vec())
    else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    // A stored response is replayed only to a caller the request itself would let in: a key
    // revoked or a portal session ended since the first request is refused, not answered.
    // (The caller is remembered in the request, so the handler does not authenticate again.)
    if let Err(error) = Caller::from_request_parts(&mut parts, &state).await {
        return problem(error);
    }
    let Ok(bytes) = axum::body::to_bytes(body, super::BODY_LIMIT).await else {
        return problem(Error::PayloadTooLarge);
    };
    let mut fingerprint = Sha256::new();
    fingerprint.update(parts.method.as_str().as_bytes());
    fingerprint.update(b" ");
    fingerprint.update(parts.uri.to_string().as_bytes());
    fingerprint.update(b"\n");
    fingerprint.update(&bytes);
    let hash = fingerprint.finalize().to_vec();

    match idempotency::begin(&state.pool, &scope, &key, &hash).await {
        Err(error) => problem(Error::from(error)),
        Ok(Begin::Mismatch) => problem(Error::field(
            "Idempotency-Key",
            "was already used with a different request",
        )),
        Ok(Begin::InProgress) => problem(Error::Conflict {
            slug: "idempotency-conflict",
            detail: "a request with this Idempotency-Key is in progress; retry later".into(),
        }),
        Ok(Begin::Replay { status, body }) => match state.keyring.open(&owner(&scope, &key), &body)
        {
            Ok(body) => replay(status, body),
            Err(error) => problem(Error::Internal(anyhow::anyhow!(
                "a stored idempotent response cannot be opened: {error}"
            ))),
        },
        Ok(Begin::Started) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            let (mut parts, body) = response.into_parts();
            let body = match axum::body::to_bytes(body, usize::MAX).await {
                Ok(body) => body,
                Err(error) => {
                    let _ = idempotency::abandon(&state.pool, &scope, &key).await;
                    return problem(Error::Internal(anyhow::anyhow!(
                        "reading a response: {error}"
                    )));
                }
            };
            let retryable = parts.status.is_server_error()
                || parts.status == StatusCode::CONFLICT
                || parts.status == StatusCode::TOO_MANY_REQUESTS;
            let stored = match state.keyring.seal(&owner(&scope, &key), &body) {
                Ok(sealed) if !retryable => {
                    idempotency::complete(&state.pool, &scope, &key, parts.status.as_u16(), &sealed)
                        .await
                }
                Ok(_) => idempotency::abandon(&state.pool, &scope, &key).await,
                Err(error) => {
                    tracing::error!(%error, "could not seal an idempotent response");
                    idempotency::abandon(&state.pool, &scope, &key).await
                }
            };
            if let Err(error) = stored {
                tracing::error!(%error, "could not record an idempotency key");
            }
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(body))
        }
    }
}

fn replay(status: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let content_type = if body.is_empty() {
        None
    } else if status.is_success() {
        Some("application/json")
    } else {
        Some("application/problem+json")
    };
    let mut response = (status, Bytes::from(body)).into_response();
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// The associated data sealing a stored response: the caller's scope and the key.
fn owner(scope: &[u8], key: &str) -> String {
    let scope: String = scope.iter().map(|b| format!("{b:02x}")).collect();
    format!("idempotency:{scope}:{key}")
}
