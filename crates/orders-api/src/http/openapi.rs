//! The OpenAPI 3.1 description of the API, generated from the handlers and types, at
//! `GET /openapi.json`.
//!
//! Request schemas state exactly what the server accepts (lengths, patterns, ranges, enums), so
//! any schema-valid request is accepted and any other is refused with a 4xx: the property
//! schemathesis checks in the test command.

use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{RefOr, Server};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

/// A required, human text field: 1–N characters, not only whitespace, no control characters.
pub const TEXT_PATTERN: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";

/// `t`, or `[t, "null"]` when `nullable`.
fn maybe_null(t: Type, nullable: bool) -> SchemaType {
    if nullable {
        SchemaType::from_iter([t, Type::Null])
    } else {
        SchemaType::new(t)
    }
}

fn string(max: usize, pattern: &str, nullable: bool) -> Schema {
    let types = maybe_null(Type::String, nullable);
    ObjectBuilder::new()
        .schema_type(types)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .into()
}

/// Text of 1 to `MAX` characters, not only whitespace, without control characters.
pub fn text<const MAX: usize>() -> Schema {
    string(MAX, TEXT_PATTERN, false)
}

/// Like [`text`], or `null`.
pub fn optional_text<const MAX: usize>() -> Schema {
    string(MAX, TEXT_PATTERN, true)
}

/// An order reference: like [`text`], and without leading or trailing whitespace.
pub fn reference() -> Schema {
    string(
        64,
        r"^[^\s\u0000-\u001f\u007f-\u009f]([^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f])?$",
        false,
    )
}

/// An RFC 3339 timestamp, or `null`.
pub fn optional_date_time() -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::DateTime,
        )))
        .into()
}

/// An RFC 3339 timestamp.
pub fn date_time() -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::DateTime,
        )))
        .into()
}

fn url(nullable: bool) -> Schema {
    let types = maybe_null(Type::String, nullable);
    ObjectBuilder::new()
        .schema_type(types)
        .format(Some(utoipa::openapi::SchemaFormat::Custom("uri".into())))
        .max_length(Some(2048))
        // No credentials before the host, no fragment.
        .pattern(Some("^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@]+([/?][^#]*)?$"))
        .description(Some(
            "An http(s) URL without credentials or fragment whose host is not, and does not \
             resolve to, a non-public address: checked at registration (a host that does not \
             resolve yet is accepted with a warning) and at every send",
        ))
        .into()
}

/// A webhook target URL.
pub fn webhook_url() -> Schema {
    url(false)
}

/// A webhook target URL, or `null`.
pub fn optional_webhook_url() -> Schema {
    url(true)
}

/// An ISO 3166-1 alpha-2 country code.
pub fn country_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .enum_values(Some(domain::order::COUNTRY_CODES.split(' ')))
        .description(Some("ISO 3166-1 alpha-2 country code"))
        .into()
}

/// The customer's own key/value pairs on an order.
pub fn metadata_schema() -> Schema {
    metadata_object(
        true,
        false,
        "At most 20 keys of 1–40 characters; values of at most 500",
    )
}

/// Metadata changes of an order update: each key set to a string, or removed with `null`.
pub fn metadata_patch_schema() -> Schema {
    metadata_object(
        false,
        true,
        "Keys to set (a string of at most 500 characters) or to remove (`null`), at most 20; \
         the order keeps at most 20 keys",
    )
}

/// An object of metadata keys to strings; `null` itself when `nullable`, and with `null` values
/// when `null_values`.
fn metadata_object(nullable: bool, null_values: bool, description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(maybe_null(Type::Object, nullable))
        .max_properties(Some(domain::order::MAX_METADATA_KEYS))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .min_length(Some(1))
                .max_length(Some(40))
                .pattern(Some(r"^[^\u0000-\u001f\u007f-\u009f]+$")),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(maybe_null(Type::String, null_values))
                .max_length(Some(500)),
        ))
        .description(Some(description))
        .into()
}

/// An endpoint's custom headers: HTTP token names to visible ASCII values.
pub fn custom_headers_schema() -> Schema {
    custom_headers_object(
        true,
        false,
        "At most 20 headers; names are HTTP tokens of 1–64 characters, other than `host`, \
         `content-length`, `content-type`, `user-agent`, `webhook-*` and the hop-by-hop headers, \
         compared without case; values are 1–1024 visible ASCII characters, spaces allowed inside",
    )
}

/// Changes to an endpoint's custom headers: each set to a value, or removed with `null`.
pub fn custom_headers_patch_schema() -> Schema {
    custom_headers_object(
        false,
        true,
        "Headers to set or to remove (`null`), at most 20, named and valued as when the endpoint \
         is created; the endpoint keeps at most 20",
    )
}

fn custom_headers_object(nullable: bool, null_values: bool, description: &str) -> Schema {
    use domain::headers::{MAX_CUSTOM_HEADERS, MAX_NAME_LEN, MAX_VALUE_LEN};
    ObjectBuilder::new()
        .schema_type(maybe_null(Type::Object, nullable))
        .max_properties(Some(MAX_CUSTOM_HEADERS))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .min_length(Some(1))
                .max_length(Some(MAX_NAME_LEN))
                .pattern(Some(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(maybe_null(Type::String, null_values))
                .min_length(Some(1))
                .max_length(Some(MAX_VALUE_LEN))
                .pattern(Some(r"^[!-~]([ -~]*[!-~])?$")),
        ))
        .description(Some(description))
        .into()
}

fn event_types(nullable: bool) -> Schema {
    let types = maybe_null(Type::Array, nullable);
    ArrayBuilder::new()
        .schema_type(types)
        .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "EventType",
        )))
        .min_items(Some(1))
        .unique_items(true)
        .description(Some(
            "Event types to receive; absent or null means every type",
        ))
        .into()
}

/// Subscribed event types: at least one, each once.
pub fn event_types_schema() -> Schema {
    event_types(true)
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemSchema {
    /// A URI ending in a stable slug (`…/problems/validation`).
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// This occurrence, explained.
    pub detail: String,
    /// The request's id, as in `x-request-id`.
    pub request_id: Option<String>,
    /// Invalid fields (422 only).
    #[schema(required = false)]
    pub errors: Option<Vec<FieldErrorSchema>>,
}

/// One invalid field.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FieldError)]
pub struct FieldErrorSchema {
    /// Dotted path (`origin.postal_code`, `parcels[0].weight_grams`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

macro_rules! problem_response {
    ($(#[$doc:meta])* $name:ident, $status:literal, $description:literal) => {
        $(#[$doc])*
        #[derive(IntoResponses)]
        #[response(status = $status, description = $description, content_type = "application/problem+json")]
        pub struct $name(#[to_schema] pub ProblemSchema);
    };
}

problem_response!(
    /// 400.
    BadRequest, 400, "The body is not JSON"
);
problem_response!(
    /// 401.
    Unauthorized, 401, "No API key, or an unknown or revoked one; or a portal session that expired or was revoked (`portal-session-expired`)"
);
problem_response!(
    /// 403.
    Forbidden, 403, "The API key's role may not use this operation, or a portal session may not"
);
problem_response!(
    /// 404.
    NotFound, 404, "No such resource (or another customer's, or a malformed id)"
);
problem_response!(
    /// 409.
    Conflict, 409, "Invalid status transition, duplicate reference, or a racing Idempotency-Key"
);
problem_response!(
    /// 413.
    PayloadTooLarge, 413, "The body is over 1 MiB"
);
problem_response!(
    /// 415.
    UnsupportedMediaType, 415, "The body is not application/json"
);
problem_response!(
    /// 422.
    Unprocessable, 422, "Well-formed but invalid: see `errors`"
);
problem_response!(
    /// 429.
    TooManyRequests, 429, "Rate limited: retry after `Retry-After` seconds"
);
problem_response!(
    /// 503.
    Unavailable, 503, "Draining, or the database is unreachable"
);

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        openapi.servers = Some(vec![Server::new("/")]);
    }
}

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Mechanica orders API",
        description = "Shipping orders, their lifecycle, and signed webhooks (Standard Webhooks) on every change. Errors are RFC 9457 problem documents.",
        license(name = "Apache-2.0")
    ),
    modifiers(&Security),
    security(("bearer" = [])),
    paths(
        super::health::greeting,
        super::health::livez,
        super::health::readyz,
        super::metrics::render,
        openapi_json,
        super::customers::create,
        super::orders::create,
        super::orders::list,
        super::orders::fetch,
        super::orders::update,
        super::orders::change_status,
        super::orders::cancel,
        super::orders::history,
        super::endpoints::create,
        super::endpoints::list,
        super::endpoints::fetch,
        super::endpoints::update,
        super::endpoints::remove,
        super::endpoints::send_test,
        super::endpoints::rotate_secret,
        super::endpoints::recover,
        super::deliveries::list,
        super::deliveries::fetch,
        super::deliveries::retry,
        super::stats::fetch,
        super::api_keys::list,
        super::api_keys::create,
        super::api_keys::revoke,
        super::portal_sessions::create,
        super::portal_sessions::current,
        super::portal_sessions::sign_out,
        super::portal_sessions::revoke,
        super::event_types::list,
    ),
    components(schemas(ProblemSchema, FieldErrorSchema, domain::event::EventType)),
    tags(
        (name = "orders", description = "Shipping orders and their lifecycle"),
        (name = "webhooks", description = "Webhook endpoints and the delivery log"),
        (name = "customers", description = "Customers and API keys"),
        (name = "operations", description = "Health, readiness and metrics")
    )
)]
pub struct ApiDoc;

/// The OpenAPI document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "operations",
    security(()),
    responses((status = 200, description = "This document", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> impl IntoResponse {
    axum::Json(document())
}

/// The OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
