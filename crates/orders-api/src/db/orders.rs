//! Orders and their status history.

use chrono::{DateTime, Utc};
use domain::ids::{CustomerId, OrderId};
use domain::order::{
    Address, Metadata, Order, OrderStatus, Parcel, Shipping, ShippingUpdate, StatusChange,
};
use sqlx::types::Json;
use sqlx::{MySqlConnection, QueryBuilder};

use platform::database::bad_column;

use super::Scope;

/// The unique key on `(customer_id, reference)`.
pub const REFERENCE_KEY: &str = "orders_customer_reference";

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: String,
    customer_id: String,
    reference: String,
    status: String,
    sequence: u32,
    origin: Json<Address>,
    destination: Json<Address>,
    parcels: Json<Vec<Parcel>>,
    carrier: Option<String>,
    tracking_number: Option<String>,
    estimated_delivery_at: Option<DateTime<Utc>>,
    metadata: Option<Json<Metadata>>,
    created_at: DateTime<Utc>,
    status_changed_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, customer_id, reference, status, sequence, origin, destination, \
                       parcels, carrier, tracking_number, estimated_delivery_at, metadata, \
                       created_at, status_changed_at";

impl TryFrom<OrderRow> for Order {
    type Error = sqlx::Error;

    fn try_from(row: OrderRow) -> sqlx::Result<Self> {
        Ok(Order {
            id: OrderId::parse(&row.id).map_err(bad_column)?,
            customer_id: CustomerId::parse(&row.customer_id).map_err(bad_column)?,
            reference: row.reference,
            status: parse_status(&row.status)?,
            sequence: row.sequence,
            origin: row.origin.0,
            destination: row.destination.0,
            parcels: row.parcels.0,
            shipping: Shipping {
                carrier: row.carrier,
                tracking_number: row.tracking_number,
                estimated_delivery_at: row.estimated_delivery_at,
                metadata: row.metadata.map(|m| m.0).unwrap_or_default(),
            },
            created_at: row.created_at,
            status_changed_at: row.status_changed_at,
        })
    }
}

fn parse_status(s: &str) -> sqlx::Result<OrderStatus> {
    OrderStatus::parse(s)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown order status {s:?}").into()))
}

/// Inserts a new order (the creation's [`StatusChange`]).
pub async fn insert(conn: &mut MySqlConnection, order: &Order) -> sqlx::Result<()> {
    sqlx::query(
        r"insert into orders
            (id, customer_id, reference, status, sequence, origin, destination, parcels,
             carrier, tracking_number, estimated_delivery_at, metadata,
             created_at, updated_at, status_changed_at)
          values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(order.id.as_str())
    .bind(order.customer_id.as_str())
    .bind(&order.reference)
    .bind(order.status.as_str())
    .bind(order.sequence)
    .bind(Json(&order.origin))
    .bind(Json(&order.destination))
    .bind(Json(&order.parcels))
    .bind(order.shipping.carrier.as_deref())
    .bind(order.shipping.tracking_number.as_deref())
    .bind(order.shipping.estimated_delivery_at)
    .bind((!order.shipping.metadata.is_empty()).then_some(Json(&order.shipping.metadata)))
    .bind(order.created_at)
    .bind(order.created_at)
    .bind(order.status_changed_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// One order visible in `scope`; `for_update` locks the row for a status change.
pub async fn find(
    conn: &mut MySqlConnection,
    id: &OrderId,
    scope: &Scope,
    for_update: bool,
) -> sqlx::Result<Option<Order>> {
    let mut query = QueryBuilder::new(format!("select {COLUMNS} from orders where id = "));
    query.push_bind(id.as_str());
    if let Some(customer) = scope.customer() {
        query
            .push(" and customer_id = ")
            .push_bind(customer.as_str());
    }
    if for_update {
        query.push(" for update");
    }
    let row: Option<OrderRow> = query.build_query_as().fetch_optional(conn).await?;
    row.map(Order::try_from).transpose()
}

/// Writes the new status of a changed order, if nobody changed it since it was read
/// (compare-and-set on the sequence). Returns whether the row was updated.
pub async fn update_status(
    conn: &mut MySqlConnection,
    change: &StatusChange,
) -> sqlx::Result<bool> {
    let order = change.order();
    let updated = sqlx::query(
        r"update orders set status = ?, sequence = ?, status_changed_at = ?, updated_at = ?
          where id = ? and sequence = ?",
    )
    .bind(order.status.as_str())
    .bind(order.sequence)
    .bind(order.status_changed_at)
    .bind(order.status_changed_at)
    .bind(order.id.as_str())
    .bind(order.sequence - 1)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Writes the shipping details and sequence of an updated order, if nobody changed it since it
/// was read (compare-and-set on the sequence). Returns whether the row was updated.
pub async fn update_shipping(
    conn: &mut MySqlConnection,
    update: &ShippingUpdate,
) -> sqlx::Result<bool> {
    let order = update.order();
    let shipping = &order.shipping;
    let updated = sqlx::query(
        r"update orders
          set carrier = ?, tracking_number = ?, estimated_delivery_at = ?, metadata = ?,
              sequence = ?, updated_at = ?
          where id = ? and sequence = ?",
    )
    .bind(shipping.carrier.as_deref())
    .bind(shipping.tracking_number.as_deref())
    .bind(shipping.estimated_delivery_at)
    .bind((!shipping.metadata.is_empty()).then_some(Json(&shipping.metadata)))
    .bind(order.sequence)
    .bind(update.updated_at())
    .bind(order.id.as_str())
    .bind(order.sequence - 1)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Appends the history row of a change.
pub async fn insert_history(conn: &mut MySqlConnection, change: &StatusChange) -> sqlx::Result<()> {
    let order = change.order();
    sqlx::query(
        r"insert into order_status_history
            (order_id, sequence, status, previous_status, detail, location, changed_at)
          values (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(order.id.as_str())
    .bind(order.sequence)
    .bind(order.status.as_str())
    .bind(change.previous_status().map(OrderStatus::as_str))
    .bind(change.detail())
    .bind(change.location())
    .bind(order.status_changed_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Filters of an order listing.
#[derive(Debug, Clone)]
pub struct ListFilter {
    /// Whose orders.
    pub scope: Scope,
    /// Only this status.
    pub status: Option<OrderStatus>,
    /// Only ids at or above this one (created at or after a time).
    pub from: Option<OrderId>,
    /// Only ids below this one (the previous page's last id, or created before a time).
    pub before: Option<OrderId>,
    /// Page size.
    pub limit: u32,
}

/// Orders matching `filter`, newest first.
pub async fn list(conn: &mut MySqlConnection, filter: &ListFilter) -> sqlx::Result<Vec<Order>> {
    let mut query = QueryBuilder::new(format!("select {COLUMNS} from orders where true"));
    if let Some(customer) = filter.scope.customer() {
        query
            .push(" and customer_id = ")
            .push_bind(customer.as_str().to_owned());
    }
    if let Some(status) = filter.status {
        query.push(" and status = ").push_bind(status.as_str());
    }
    if let Some(from) = &filter.from {
        query
            .push(" and id >= ")
            .push_bind(from.as_str().to_owned());
    }
    if let Some(before) = &filter.before {
        query
            .push(" and id < ")
            .push_bind(before.as_str().to_owned());
    }
    query
        .push(" order by id desc limit ")
        .push_bind(filter.limit);
    let rows: Vec<OrderRow> = query.build_query_as().fetch_all(conn).await?;
    rows.into_iter().map(Order::try_from).collect()
}

/// One row of an order's status history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    /// The order's sequence after the change.
    pub sequence: u32,
    /// The status it moved to.
    pub status: String,
    /// The status it left (`None` at creation).
    pub previous_status: Option<String>,
    /// Operator's detail.
    pub detail: Option<String>,
    /// Where it happened.
    pub location: Option<String>,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// The history of an order, oldest first.
pub async fn history(conn: &mut MySqlConnection, id: &OrderId) -> sqlx::Result<Vec<HistoryRow>> {
    sqlx::query_as(
        r"select sequence, status, previous_status, detail, location, changed_at
          from order_status_history where order_id = ? order by sequence",
    )
    .bind(id.as_str())
    .fetch_all(conn)
    .await
}
