//! Extractors that turn bad input into problem documents.
//!
//! [`Json`] separates the three ways a body can be wrong: not JSON at all (400), the wrong
//! shape (422 naming the field by its dotted path), or over the size limit (413).
//! Request types reject unknown fields, so a typo is reported instead of silently ignored.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::Error;

/// A JSON request body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        parse_body(&bytes).map(Json)
    }
}

/// A JSON body that may be left out entirely (an empty body is `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared_empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() == b"0");
        let has_type = req.headers().contains_key(header::CONTENT_TYPE);
        if declared_empty || !has_type {
            let bytes = axum::body::Bytes::from_request(req, state)
                .await
                .map_err(|_| Error::PayloadTooLarge)?;
            if bytes.is_empty() {
                return Ok(Self(None));
            }
            return Err(Error::UnsupportedMediaType);
        }
        let bytes = read_body(req, state).await?;
        // `null` is the same as no body.
        match json_value(&bytes)? {
            serde_json::Value::Null => Ok(Self(None)),
            _ => parse_body(&bytes).map(|value| Self(Some(value))),
        }
    }
}

/// Reads a body that must be `application/json`, within the size limit.
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<axum::body::Bytes, Error> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        });
    if !is_json {
        return Err(Error::UnsupportedMediaType);
    }
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge
            } else {
                Error::MalformedJson(rejection.body_text())
            }
        })
}

/// Parses a body: 400 when it is not JSON, 422 with the field path when it has the wrong shape.
/// Every request body is a JSON object.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let value = json_value(bytes)?;
    if !value.is_object() {
        return Err(Error::field("body", "must be a JSON object"));
    }
    deserialize(value)
}

fn json_value(bytes: &[u8]) -> Result<serde_json::Value, Error> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::MalformedJson(format!("the request body is not valid JSON: {e}")))
}

fn deserialize<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        Error::field(field, e.into_inner().to_string())
    })
}

/// Query parameters, with problems reported as 422.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." {
                    "query".to_owned()
                } else {
                    path
                };
                Error::field(field, e.into_inner().to_string())
            })
    }
}

/// Deserializes a field of a JSON merge patch (RFC 7396), with `#[serde(default)]`: absent is
/// `None` (leave it), `null` is `Some(None)` (clear it), a value is `Some(Some(value))`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Deserializes an optional whole number that may be written as `184` or `184.0` (JSON Schema
/// counts both as integers), refusing fractions and values out of `T`'s range.
pub fn whole_number<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::Deserialize;
    use serde::de::Error as _;
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= 9_007_199_254_740_992.0)
            .map(|f| {
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "checked: a non-negative whole number within 2^53"
                )]
                let whole = f as u64;
                whole
            })
    });
    whole
        .and_then(|w| T::try_from(w).ok())
        .map(Some)
        .ok_or_else(|| {
            D::Error::custom(format!(
                "invalid value: {number}, expected a whole number in range"
            ))
        })
}
