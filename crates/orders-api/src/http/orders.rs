//! Orders: create, read, list, update, change status, cancel, history.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use std::collections::BTreeMap;

use axum::routing::{get, post};
use domain::ids::{CustomerId, OrderId};
use domain::order::{
    self, Address, MAX_PARCELS, Metadata, NewOrder, OrderStatus, Parcel, Shipping, ShippingPatch,
};
use domain::validation::{self, FieldErrors};
use serde::Deserialize;

use super::auth::{Caller, Customer, Operator};
use super::error::{Error, Result};
use super::extract::{Json, Query};
use super::pagination::{self, Page};
use super::views::{HistoryView, OrderView};
use super::{AppState, openapi};
use crate::db::{self, Scope};
use crate::service::ChangeRequest;
use utoipa::{IntoParams, ToSchema};

/// The order routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/orders", post(create).get(list))
        .route("/v1/orders/{id}", get(fetch).patch(update))
        .route("/v1/orders/{id}/status", post(change_status))
        .route("/v1/orders/{id}/cancel", post(cancel))
        .route("/v1/orders/{id}/history", get(history))
}

/// A malformed id is answered exactly like a missing order. The id joins the request's span.
fn order_id(raw: &str) -> Result<OrderId> {
    let id = OrderId::parse(raw).map_err(|_| Error::NotFound)?;
    tracing::Span::current().record("order_id", tracing::field::display(&id));
    Ok(id)
}

/// A postal address.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AddressInput)]
pub(crate) struct AddressInput {
    #[schema(schema_with = openapi::text::<200>, required = true)]
    name: Option<String>,
    #[schema(schema_with = openapi::text::<200>, required = true)]
    line1: Option<String>,
    #[schema(schema_with = openapi::optional_text::<200>)]
    line2: Option<String>,
    #[schema(schema_with = openapi::text::<100>, required = true)]
    city: Option<String>,
    #[schema(schema_with = openapi::optional_text::<100>)]
    region: Option<String>,
    #[schema(schema_with = openapi::text::<20>, required = true)]
    postal_code: Option<String>,
    #[schema(schema_with = openapi::country_schema, required = true)]
    country: Option<String>,
}

/// One parcel: weight in grams, dimensions in millimetres.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParcelInput {
    #[schema(value_type = u32, required = true, minimum = 1, maximum = 1_000_000)]
    #[serde(default, deserialize_with = "super::extract::whole_number")]
    weight_grams: Option<u32>,
    #[schema(value_type = u32, required = true, minimum = 1, maximum = 10_000)]
    #[serde(default, deserialize_with = "super::extract::whole_number")]
    length_mm: Option<u32>,
    #[schema(value_type = u32, required = true, minimum = 1, maximum = 10_000)]
    #[serde(default, deserialize_with = "super::extract::whole_number")]
    width_mm: Option<u32>,
    #[schema(value_type = u32, required = true, minimum = 1, maximum = 10_000)]
    #[serde(default, deserialize_with = "super::extract::whole_number")]
    height_mm: Option<u32>,
}

/// A new order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "reference": "PO-1234",
    "origin": {"name": "Acme DC", "line1": "Kade 1", "city": "Rotterdam", "postal_code": "3011 AA", "country": "NL"},
    "destination": {"name": "J. Jansen", "line1": "Hauptstr. 2", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "parcels": [{"weight_grams": 1200, "length_mm": 300, "width_mm": 200, "height_mm": 100}],
    "carrier": "DHL",
    "metadata": {"warehouse": "R7"}
}))]
pub(crate) struct CreateOrder {
    /// Your own reference, unique among your orders.
    #[schema(schema_with = openapi::reference, required = true)]
    reference: Option<String>,
    #[schema(value_type = AddressInput, required = true)]
    origin: Option<AddressInput>,
    #[schema(value_type = AddressInput, required = true)]
    destination: Option<AddressInput>,
    /// 1 to 50 parcels, or absent.
    #[schema(value_type = Option<Vec<ParcelInput>>, min_items = 1, max_items = 50)]
    parcels: Option<Vec<ParcelInput>>,
    #[schema(schema_with = openapi::optional_text::<64>)]
    carrier: Option<String>,
    #[schema(schema_with = openapi::optional_text::<64>)]
    tracking_number: Option<String>,
    #[schema(schema_with = openapi::optional_date_time)]
    estimated_delivery_at: Option<String>,
    #[schema(schema_with = openapi::metadata_schema)]
    metadata: Option<Metadata>,
}

/// Takes a required field, recording its absence.
fn required<T>(value: Option<T>, field: &str, errors: &mut FieldErrors) -> Option<T> {
    if value.is_none() {
        errors.missing(field);
    }
    value
}

fn address(input: Option<AddressInput>, path: &str, errors: &mut FieldErrors) -> Option<Address> {
    let input = required(input, path, errors)?;
    let field = |name| validation::join(path, name);
    let name = required(input.name, &field("name"), errors);
    let line1 = required(input.line1, &field("line1"), errors);
    let city = required(input.city, &field("city"), errors);
    let postal_code = required(input.postal_code, &field("postal_code"), errors);
    let country = required(input.country, &field("country"), errors);
    let address = Address {
        name: name?,
        line1: line1?,
        line2: input.line2,
        city: city?,
        region: input.region,
        postal_code: postal_code?,
        country: country?,
    };
    address.validate(path, errors);
    Some(address)
}

fn parcel(input: ParcelInput, path: &str, errors: &mut FieldErrors) -> Option<Parcel> {
    let field = |name| validation::join(path, name);
    let weight_grams = required(input.weight_grams, &field("weight_grams"), errors);
    let length_mm = required(input.length_mm, &field("length_mm"), errors);
    let width_mm = required(input.width_mm, &field("width_mm"), errors);
    let height_mm = required(input.height_mm, &field("height_mm"), errors);
    let parcel = Parcel {
        weight_grams: weight_grams?,
        length_mm: length_mm?,
        width_mm: width_mm?,
        height_mm: height_mm?,
    };
    parcel.validate(path, errors);
    Some(parcel)
}

impl CreateOrder {
    fn parse(self) -> Result<NewOrder, FieldErrors> {
        let mut errors = FieldErrors::new();
        let reference = required(self.reference, "reference", &mut errors);
        if let Some(reference) = &reference {
            order::validate_reference("reference", reference, &mut errors);
        }
        let origin = address(self.origin, "origin", &mut errors);
        let destination = address(self.destination, "destination", &mut errors);
        let parcels = match self.parcels {
            None => Some(Vec::new()),
            Some(parcels) if parcels.is_empty() || parcels.len() > MAX_PARCELS => {
                errors.add(
                    "parcels",
                    format!("must list 1 to {MAX_PARCELS} parcels, or be omitted"),
                );
                None
            }
            Some(parcels) => parcels
                .into_iter()
                .enumerate()
                .map(|(i, p)| parcel(p, &format!("parcels[{i}]"), &mut errors))
                .collect(),
        };
        validation::optional_text(&mut errors, "carrier", self.carrier.as_deref(), 64);
        validation::optional_text(
            &mut errors,
            "tracking_number",
            self.tracking_number.as_deref(),
            64,
        );
        let estimated_delivery_at = self
            .estimated_delivery_at
            .as_deref()
            .and_then(|t| estimated_delivery_at(t, &mut errors));
        let metadata = self.metadata.unwrap_or_default();
        order::validate_metadata("metadata", &metadata, &mut errors);
        let shipping = Shipping {
            carrier: self.carrier,
            tracking_number: self.tracking_number,
            estimated_delivery_at,
            metadata,
        };
        match (reference, origin, destination, parcels) {
            (Some(reference), Some(origin), Some(destination), Some(parcels))
                if errors.is_empty() =>
            {
                Ok(NewOrder {
                    reference,
                    origin,
                    destination,
                    parcels,
                    shipping,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Parses a delivery estimate, recording an error when it is not an RFC 3339 timestamp; kept to
/// the millisecond, as it is shown, so that writing back what was read changes nothing.
fn estimated_delivery_at(
    value: &str,
    errors: &mut FieldErrors,
) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::SubsecRound;
    let parsed = chrono::DateTime::parse_from_rfc3339(value).ok();
    if parsed.is_none() {
        errors.add("estimated_delivery_at", "must be an RFC 3339 timestamp");
    }
    parsed.map(|t| t.with_timezone(&chrono::Utc).trunc_subsecs(3))
}

/// Places an order (customer keys).
#[utoipa::path(
    post,
    path = "/v1/orders",
    operation_id = "createOrder", tag = "orders", request_body = CreateOrder,
    responses((status = 201, description = "The order, `pending` with sequence 1", body = OrderView),
        openapi::BadRequest, openapi::Unauthorized, openapi::Forbidden, openapi::Conflict,
        openapi::PayloadTooLarge, openapi::UnsupportedMediaType, openapi::Unprocessable, openapi::TooManyRequests))]
pub(crate) async fn create(
    State(state): State<AppState>,
    customer: Customer,
    Json(body): Json<CreateOrder>,
) -> Result<(StatusCode, axum::Json<OrderView>)> {
    let new = body.parse().map_err(Error::Validation)?;
    let order = state.service.place_order(customer.customer_id, new).await?;
    tracing::Span::current().record("order_id", tracing::field::display(&order.id));
    Ok((StatusCode::CREATED, axum::Json(order.into())))
}

/// Filters and paging of the order list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only orders in this status.
    #[param(value_type = Option<OrderStatus>)]
    status: Option<String>,
    /// Operators only: one customer's orders.
    #[param(pattern = r"^cus_[0-7][0-9a-hjkmnp-tv-z]{25}$")]
    customer_id: Option<String>,
    /// Only orders placed at or after this time.
    #[param(value_type = Option<String>, format = DateTime)]
    created_after: Option<String>,
    /// Only orders placed before this time.
    #[param(value_type = Option<String>, format = DateTime)]
    created_before: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^ord_[0-7][0-9a-hjkmnp-tv-z]{25}$")]
    cursor: Option<String>,
}

/// Lists orders, newest first (customers: their own; operators: all, or one customer's).
#[utoipa::path(
    get,
    path = "/v1/orders",
    operation_id = "listOrders", tag = "orders", params(ListQuery),
    responses((status = 200, description = "A page of orders", body = Page<OrderView>),
        openapi::Unauthorized,
        openapi::Forbidden, openapi::Unprocessable, openapi::TooManyRequests))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Page<OrderView>>> {
    let scope = match (caller.scope(), query.customer_id.as_deref()) {
        (scope, None) => scope,
        (Scope::All, Some(customer)) => Scope::Customer(
            CustomerId::parse(customer)
                .map_err(|_| Error::field("customer_id", "is not a customer id"))?,
        ),
        (Scope::Customer(own), Some(customer)) if own.as_str() == customer => Scope::Customer(own),
        (Scope::Customer(_), Some(_)) => return Err(Error::Forbidden),
    };
    let status = query
        .status
        .as_deref()
        .map(|s| {
            OrderStatus::parse(s).ok_or_else(|| Error::field("status", "is not an order status"))
        })
        .transpose()?;
    let limit = pagination::limit(query.limit)?;
    let cursor = pagination::decode(query.cursor.as_deref(), |id| OrderId::parse(id).ok())?;
    let from = super::deliveries::timestamp("created_after", query.created_after.as_deref())?
        .map(OrderId::floor);
    let created_before =
        super::deliveries::timestamp("created_before", query.created_before.as_deref())?
            .map(OrderId::floor);
    let filter = db::orders::ListFilter {
        scope,
        status,
        from,
        before: pagination::lowest(created_before, cursor),
        limit: limit + 1,
    };
    let orders = state.service.list_orders(&filter).await?;
    Ok(axum::Json(pagination::page(
        orders,
        limit,
        |o| o.id.as_str(),
        OrderView::from,
    )))
}

/// One order.
#[utoipa::path(
    get,
    path = "/v1/orders/{id}",
    operation_id = "getOrder", tag = "orders", params(("id" = String, Path, description = "`ord_…`")),
    responses((status = 200, description = "The order", body = OrderView),
        openapi::Unauthorized, openapi::NotFound, openapi::TooManyRequests))]
pub(crate) async fn fetch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<OrderView>> {
    let id = order_id(&id)?;
    let order = state.service.order(&caller.scope(), &id).await?;
    Ok(axum::Json(order.into()))
}

/// Changes to an order's shipping details, read as a JSON merge patch (RFC 7396): a field left
/// out stays as it is and `null` clears it; `metadata` merges key by key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "carrier": "DHL",
    "tracking_number": "JJD000390007827",
    "estimated_delivery_at": "2026-11-24T16:00:00Z",
    "metadata": {"dock": "4", "warehouse": null}
}))]
pub(crate) struct UpdateOrder {
    /// The carrier handling it (operator keys only).
    #[schema(schema_with = openapi::optional_text::<64>)]
    #[serde(default, deserialize_with = "super::extract::nullable")]
    carrier: Option<Option<String>>,
    /// The carrier's tracking number (operator keys only).
    #[schema(schema_with = openapi::optional_text::<64>)]
    #[serde(default, deserialize_with = "super::extract::nullable")]
    tracking_number: Option<Option<String>>,
    /// When it is expected at the destination (operator keys only).
    #[schema(schema_with = openapi::optional_date_time)]
    #[serde(default, deserialize_with = "super::extract::nullable")]
    estimated_delivery_at: Option<Option<String>>,
    /// Metadata keys to set, or to remove with `null`.
    #[schema(schema_with = openapi::metadata_patch_schema)]
    #[serde(default, deserialize_with = "super::extract::nullable")]
    metadata: Option<Option<BTreeMap<String, Option<String>>>>,
}

impl UpdateOrder {
    fn parse(self) -> Result<ShippingPatch, FieldErrors> {
        let mut errors = FieldErrors::new();
        for (field, value) in [
            ("carrier", &self.carrier),
            ("tracking_number", &self.tracking_number),
        ] {
            validation::optional_text(
                &mut errors,
                field,
                value.as_ref().and_then(Option::as_deref),
                64,
            );
        }
        let estimated_delivery_at = self
            .estimated_delivery_at
            .map(|value| value.and_then(|t| estimated_delivery_at(&t, &mut errors)));
        let metadata = match self.metadata {
            None => None,
            Some(None) => {
                errors.add(
                    "metadata",
                    "must be an object: set a key to null to remove it",
                );
                None
            }
            Some(Some(changes)) => {
                // The keys and values as a whole metadata would have them, removed keys as
                // empty values: the same rules apply to both.
                let named: Metadata = changes
                    .iter()
                    .map(|(key, value)| (key.clone(), value.clone().unwrap_or_default()))
                    .collect();
                order::validate_metadata("metadata", &named, &mut errors);
                Some(changes)
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ShippingPatch {
            carrier: self.carrier,
            tracking_number: self.tracking_number,
            estimated_delivery_at,
            metadata,
        })
    }
}

/// Updates an order's carrier, tracking number and delivery estimate (operator keys) or its
/// metadata (either key), writing an `order.updated` event with the next sequence number when
/// anything changed. A customer key changing more than metadata is 403; a patch that changes
/// nothing returns the order unchanged and sends nothing.
#[utoipa::path(
    patch,
    path = "/v1/orders/{id}",
    operation_id = "updateOrder", tag = "orders", request_body = UpdateOrder,
    params(("id" = String, Path, description = "`ord_…`")),
    responses((status = 200, description = "The order after the update", body = OrderView),
        openapi::BadRequest, openapi::Unauthorized, openapi::Forbidden, openapi::NotFound, openapi::Conflict,
        openapi::PayloadTooLarge, openapi::UnsupportedMediaType, openapi::Unprocessable, openapi::TooManyRequests))]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<UpdateOrder>,
) -> Result<axum::Json<OrderView>> {
    let id = order_id(&id)?;
    let scope = caller.scope();
    let patch = body.parse().map_err(Error::Validation)?;
    if patch.touches_shipment() && scope != Scope::All {
        return Err(Error::Forbidden);
    }
    let order = state.service.update_order(&scope, &id, patch).await?;
    Ok(axum::Json(order.into()))
}

/// A status change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": OrderStatus::InTransit, "location": "Venlo hub"}))]
pub(crate) struct ChangeStatus {
    #[schema(value_type = OrderStatus, required = true)]
    status: Option<String>,
    /// Free text for the customer.
    #[schema(schema_with = openapi::optional_text::<500>)]
    detail: Option<String>,
    /// Where the order is.
    #[schema(schema_with = openapi::optional_text::<200>)]
    location: Option<String>,
}

/// Moves an order through its lifecycle (operator keys); a forbidden change is 409.
#[utoipa::path(
    post,
    path = "/v1/orders/{id}/status",
    operation_id = "changeOrderStatus", tag = "orders", request_body = ChangeStatus,
    params(("id" = String, Path, description = "`ord_…`")),
    responses((status = 200, description = "The order after the change", body = OrderView),
        openapi::BadRequest, openapi::Unauthorized, openapi::Forbidden, openapi::NotFound, openapi::Conflict,
        openapi::PayloadTooLarge, openapi::UnsupportedMediaType, openapi::Unprocessable, openapi::TooManyRequests))]
pub(crate) async fn change_status(
    State(state): State<AppState>,
    Operator(caller): Operator,
    Path(id): Path<String>,
    Json(body): Json<ChangeStatus>,
) -> Result<axum::Json<OrderView>> {
    let id = order_id(&id)?;
    let mut errors = FieldErrors::new();
    let to = match body.status.as_deref().map(OrderStatus::parse) {
        None => {
            errors.missing("status");
            None
        }
        Some(None) => {
            errors.add("status", "is not an order status");
            None
        }
        Some(status) => status,
    };
    validation::optional_text(&mut errors, "detail", body.detail.as_deref(), 500);
    validation::optional_text(&mut errors, "location", body.location.as_deref(), 200);
    let (Some(to), true) = (to, errors.is_empty()) else {
        return Err(Error::Validation(errors));
    };
    let request = ChangeRequest {
        to,
        detail: body.detail,
        location: body.location,
    };
    let order = state
        .service
        .change_status(&caller.scope(), &id, request)
        .await?;
    Ok(axum::Json(order.into()))
}

/// Cancels an order while `pending` or `confirmed` (customer keys); otherwise 409.
#[utoipa::path(
    post,
    path = "/v1/orders/{id}/cancel",
    operation_id = "cancelOrder", tag = "orders", params(("id" = String, Path, description = "`ord_…`")),
    responses((status = 200, description = "The cancelled order", body = OrderView),
        openapi::Unauthorized, openapi::Forbidden, openapi::NotFound, openapi::Conflict,
        openapi::PayloadTooLarge, openapi::TooManyRequests))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<String>,
) -> Result<axum::Json<OrderView>> {
    let id = order_id(&id)?;
    let request = ChangeRequest {
        to: OrderStatus::Cancelled,
        detail: Some("cancelled by the customer".into()),
        location: None,
    };
    let order = state
        .service
        .change_status(&Scope::Customer(customer.customer_id), &id, request)
        .await?;
    Ok(axum::Json(order.into()))
}

/// The status changes of an order, oldest first.
#[utoipa::path(
    get,
    path = "/v1/orders/{id}/history",
    operation_id = "getOrderHistory", tag = "orders", params(("id" = String, Path, description = "`ord_…`")),
    responses((status = 200, description = "Every status change", body = Page<HistoryView>),
        openapi::Unauthorized, openapi::NotFound, openapi::TooManyRequests))]
pub(crate) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Page<HistoryView>>> {
    let id = order_id(&id)?;
    let rows = state.service.order_history(&caller.scope(), &id).await?;
    Ok(axum::Json(Page {
        data: rows.into_iter().map(HistoryView::from).collect(),
        next_cursor: None,
    }))
}
