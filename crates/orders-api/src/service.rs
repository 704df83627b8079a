//! Operations that span several repository calls, each in one transaction.
//!
//! A status change, its history row, its event and its delivery obligations commit together;
//! nothing here calls the queue (the relay does, after the commit). A transaction the server
//! rolls back for a lock conflict runs again from the start, up to 5 times
//! ([`platform::database::retry_lock_conflicts`]).

use domain::event::Event;
use domain::ids::{CustomerId, EndpointId, OrderId};
use domain::order::{NewOrder, Order, OrderStatus, StatusChange};
use platform::database::retry_lock_conflicts;
use sqlx::{MySql, MySqlConnection, MySqlPool, Transaction};

use delivery::outbox;

use crate::db::{self, Scope, endpoints, orders};
use crate::http::error::{Error, Result};

/// Writes an event and one pending delivery per endpoint in `targets` (or, when `None`, per
/// enabled endpoint of the customer subscribed to its type).
pub async fn record_event(
    conn: &mut MySqlConnection,
    event: &Event,
    targets: Option<&[EndpointId]>,
) -> sqlx::Result<usize> {
    outbox::insert_event(conn, event).await?;
    let subscribed;
    let targets = match targets {
        Some(targets) => targets,
        None => {
            subscribed = endpoints::subscribed(conn, &event.customer_id, event.event_type).await?;
            &subscribed
        }
    };
    Ok(outbox::insert_deliveries(conn, event, targets).await?.len())
}

/// Writes a status change and everything that follows from it. The only way to change an
/// order's status, and it needs a [`StatusChange`], which only the lifecycle hands out.
async fn write_change(conn: &mut MySqlConnection, change: &StatusChange) -> Result<()> {
    if change.previous_status.is_none() {
        orders::insert(conn, &change.order).await.map_err(|e| {
            if db::is_unique_violation(&e, orders::REFERENCE_KEY) {
                Error::Conflict {
                    slug: "duplicate-reference",
                    detail: format!(
                        "an order with reference {:?} already exists",
                        change.order.reference
                    ),
                }
            } else {
                e.into()
            }
        })?;
    } else if !orders::update_status(conn, change).await? {
        // Unreachable while the row is locked, but a lost race must never write an event.
        return Err(Error::Conflict {
            slug: "concurrent-change",
            detail: "the order changed while this request was processed; retry".into(),
        });
    }
    orders::insert_history(conn, change).await?;
    record_event(conn, &Event::for_status_change(change), None).await?;
    Ok(())
}

/// Commits `tx` after its work succeeded; otherwise rolls it back before returning the error.
/// At once, not when the connection goes back to the pool: after a lock wait timeout the
/// server undid only the statement, and the transaction run again must not wait for this
/// one's locks.
async fn settle<T>(tx: Transaction<'_, MySql>, work: Result<T>) -> Result<T> {
    match work {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!(%rollback, "rolling back a failed transaction");
            }
            Err(error)
        }
    }
}

/// Places an order for `customer`.
pub async fn place_order(pool: &MySqlPool, customer: CustomerId, new: NewOrder) -> Result<Order> {
    let change = Order::place(customer, new, domain::time::now());
    retry_lock_conflicts(|| async {
        let mut tx = pool.begin().await?;
        let written = write_change(&mut tx, &change).await;
        settle(tx, written).await
    })
    .await?;
    Ok(change.order)
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

/// Moves an order visible in `scope` through its lifecycle: lock, transition, write, commit.
pub async fn change_status(
    pool: &MySqlPool,
    scope: &Scope,
    id: &OrderId,
    request: ChangeRequest,
) -> Result<Order> {
    retry_lock_conflicts(|| async {
        let mut tx = pool.begin().await?;
        let changed = apply_change(&mut tx, scope, id, request.clone()).await;
        settle(tx, changed).await
    })
    .await
}

/// The work of [`change_status`] inside its transaction.
async fn apply_change(
    conn: &mut MySqlConnection,
    scope: &Scope,
    id: &OrderId,
    request: ChangeRequest,
) -> Result<Order> {
    let order = orders::find(conn, id, scope, true)
        .await?
        .ok_or(Error::NotFound)?;
    let change = order.transition(
        request.to,
        request.detail,
        request.location,
        domain::time::now(),
    )?;
    write_change(conn, &change).await?;
    Ok(change.order)
}
