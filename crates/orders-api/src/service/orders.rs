//! Orders: placing them and moving them through their lifecycle, and reading them.

use delivery::outbox::{Admission, Inserted, Recipients};
use domain::event::Event;
use domain::ids::{CustomerId, EndpointId, OrderId};
use domain::order::{NewOrder, Order, OrderStatus, ShippingPatch, StatusChange};
use sqlx::MySqlConnection;

use super::{Result, Service, ServiceError, in_transaction};
use crate::db::orders::{HistoryRow, ListFilter};
use crate::db::{self, Scope, orders};

impl Service {
    /// Writes an event and one pending delivery per endpoint in `targets` (or, when `None`, per
    /// enabled endpoint of the customer subscribed to its type), in the room `admission` took
    /// before the transaction; returns the deliveries, to be handed over after the commit
    /// ([`delivery::outbox::Handoff::committed`]).
    pub(super) async fn record_event(
        &self,
        conn: &mut MySqlConnection,
        admission: &Admission,
        event: &Event,
        targets: Option<&[EndpointId]>,
    ) -> sqlx::Result<Inserted> {
        delivery::outbox::insert_event(conn, event).await?;
        let (customer, event_type) = (&event.customer_id, event.event_type);
        let subscribed;
        let recipients = match targets {
            Some(targets) => Recipients::Endpoints(targets),
            // The dispatcher may take them straight away: read their targets with them.
            None if self.handoff.takes_targets() => Recipients::Targets(
                delivery::store::subscribed_targets(conn, customer, event_type).await?,
            ),
            None => {
                subscribed =
                    delivery::store::subscribed_endpoints(conn, customer, event_type).await?;
                Recipients::Endpoints(&subscribed)
            }
        };
        delivery::outbox::insert_deliveries(conn, &self.handoff, admission, event, recipients).await
    }

    /// Writes a status change and everything that follows from it. The only way to change an
    /// order's status, and it needs a [`StatusChange`], which only the lifecycle hands out.
    async fn write_change(
        &self,
        conn: &mut MySqlConnection,
        admission: &Admission,
        change: &StatusChange,
    ) -> Result<Inserted> {
        if change.previous_status().is_none() {
            orders::insert(conn, change.order()).await.map_err(|e| {
                if db::is_unique_violation(&e, orders::REFERENCE_KEY) {
                    ServiceError::DuplicateReference(change.order().reference.clone())
                } else {
                    e.into()
                }
            })?;
        } else if !orders::update_status(conn, change).await? {
            // Unreachable while the row is locked, but a lost race must never write an event.
            return Err(ServiceError::ConcurrentChange);
        }
        orders::insert_history(conn, change).await?;
        Ok(self
            .record_event(conn, admission, &Event::for_status_change(change), None)
            .await?)
    }
}

/// The order `id` visible in `scope`, its row locked for a change until the transaction ends.
async fn locked(conn: &mut MySqlConnection, id: &OrderId, scope: &Scope) -> Result<Order> {
    orders::find(conn, id, scope, true)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// What a caller asks of a status change.
#[derive(Debug, Clone)]
pub struct ChangeRequest {
    /// The target status.
    pub to: OrderStatus,
    /// Operator's detail.
    pub detail: Option<String>,
    /// Where it happened.
    pub location: Option<String>,
}

impl Service {
    /// Places an order for `customer`.
    pub async fn place_order(&self, customer: CustomerId, new: NewOrder) -> Result<Order> {
        let admission = self.handoff.admit().await;
        let change = Order::place(customer, new, domain::time::now());
        let inserted = in_transaction!(self.pool, |tx| {
            self.write_change(&mut tx, &admission, &change).await
        })?;
        self.handoff.committed(inserted);
        Ok(change.into_order())
    }

    /// Moves an order visible in `scope` through its lifecycle: lock, transition, write,
    /// commit.
    pub async fn change_status(
        &self,
        scope: &Scope,
        id: &OrderId,
        request: ChangeRequest,
    ) -> Result<Order> {
        let admission = self.handoff.admit().await;
        let (order, inserted) = in_transaction!(self.pool, |tx| {
            let order = locked(&mut tx, id, scope).await?;
            let change = order.transition(
                request.to,
                request.detail.clone(),
                request.location.clone(),
                domain::time::now(),
            )?;
            let inserted = self.write_change(&mut tx, &admission, &change).await?;
            Ok((change.into_order(), inserted))
        })?;
        self.handoff.committed(inserted);
        Ok(order)
    }

    /// Applies `patch` to the shipping details of an order visible in `scope`: lock, update,
    /// write with its `order.updated` event, commit. A patch that changes nothing writes nothing
    /// and returns the order as it is.
    pub async fn update_order(
        &self,
        scope: &Scope,
        id: &OrderId,
        patch: ShippingPatch,
    ) -> Result<Order> {
        let admission = self.handoff.admit().await;
        let (order, inserted) = in_transaction!(self.pool, |tx| {
            let order = locked(&mut tx, id, scope).await?;
            let Some(update) = order
                .update(patch.clone(), domain::time::now())
                .map_err(ServiceError::Invalid)?
            else {
                return Ok((order, None));
            };
            if !orders::update_shipping(&mut tx, &update).await? {
                return Err(ServiceError::ConcurrentChange);
            }
            let inserted = self
                .record_event(&mut tx, &admission, &Event::for_update(&update), None)
                .await?;
            Ok((update.into_order(), Some(inserted)))
        })?;
        if let Some(inserted) = inserted {
            self.handoff.committed(inserted);
        }
        Ok(order)
    }

    /// The orders `filter` selects, newest first.
    pub async fn list_orders(&self, filter: &ListFilter) -> Result<Vec<Order>> {
        let mut conn = self.pool.acquire().await?;
        Ok(orders::list(&mut conn, filter).await?)
    }

    /// One order visible in `scope`.
    pub async fn order(&self, scope: &Scope, id: &OrderId) -> Result<Order> {
        let mut conn = self.pool.acquire().await?;
        orders::find(&mut conn, id, scope, false)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// The status history of an order visible in `scope`, oldest first.
    pub async fn order_history(&self, scope: &Scope, id: &OrderId) -> Result<Vec<HistoryRow>> {
        let mut conn = self.pool.acquire().await?;
        orders::find(&mut conn, id, scope, false)
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok(orders::history(&mut conn, id).await?)
    }
}
