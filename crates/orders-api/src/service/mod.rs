//! The operations of the API, one function per thing a caller can do, whatever the transport.
//!
//! Handlers extract and validate the request's shape, call one function here and map its
//! result. The functions here own what the HTTP layer must not decide: transactions (a write
//! of more than one statement runs in one, [`in_transaction`], run again from the start when
//! the server rolls it back for a lock conflict, [`platform::database::retry_lock_conflicts`];
//! a single-statement write runs alone), handing deliveries over after a commit that wrote
//! them ([`Handoff`]: the relay is woken in SQS mode, the embedded dispatcher in memory mode),
//! and the failures a caller can act on ([`ServiceError`]), which the HTTP layer turns into
//! problem documents in one place.
//!
//! A status change, its history row, its event and its deliveries commit together; nothing
//! here calls the queue or a customer's endpoint.

mod api_keys;
mod customers;
mod deliveries;
mod endpoints;
mod orders;
mod portal_sessions;

use std::sync::Arc;

use delivery::client::TargetGuard;
use delivery::outbox::Handoff;
use domain::order::InvalidTransition;
use domain::secret_box::SecretKeyring;
use domain::validation::FieldErrors;
use sqlx::{MySql, MySqlPool, Transaction};

pub use api_keys::NewApiKey;
pub use customers::CreatedCustomer;
pub use deliveries::DeliveryDetail;
pub use endpoints::{EndpointInput, EndpointPatchInput, Rotated, TestQueued};
pub use orders::ChangeRequest;
pub use portal_sessions::{NewPortalSession, PortalSession};

/// `Result` with [`ServiceError`].
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Why an operation did not happen. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No such resource visible to the caller.
    #[error("no such resource")]
    NotFound,
    /// Some fields are invalid.
    #[error("the request has invalid fields")]
    Invalid(FieldErrors),
    /// The order lifecycle forbids the change.
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// The customer already has an order with this reference.
    #[error("an order with reference {0:?} already exists")]
    DuplicateReference(String),
    /// The order changed between its read and its write (a lost race).
    #[error("the order changed while this request was processed; retry")]
    ConcurrentChange,
    /// An attempt of the delivery is in flight.
    #[error("an attempt of this delivery is in flight; retry once it is recorded")]
    DeliveryInFlight,
    /// The endpoint (of the delivery) is disabled.
    #[error("the endpoint is disabled; enable it first")]
    EndpointDisabled,
    /// The database refused or could not be reached.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Anything else; the cause is logged, not shown.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    /// Invalid input in one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        Self::Invalid(errors)
    }
}

impl platform::database::LockConflict for ServiceError {
    fn is_lock_conflict(&self) -> bool {
        matches!(self, Self::Database(error) if platform::database::LockConflict::is_lock_conflict(error))
    }
}

/// What the operations work with.
#[derive(Clone)]
pub struct Service {
    pool: MySqlPool,
    keyring: Arc<SecretKeyring>,
    guard: TargetGuard,
    handoff: Handoff,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").finish_non_exhaustive()
    }
}

impl Service {
    /// Operations on `pool`, sealing secrets with `keyring`, vetting targets with `guard` and
    /// handing committed deliveries over through `handoff`.
    pub fn new(
        pool: MySqlPool,
        keyring: Arc<SecretKeyring>,
        guard: TargetGuard,
        handoff: Handoff,
    ) -> Self {
        Self {
            pool,
            keyring,
            guard,
            handoff,
        }
    }

    /// Tells the relay (or in memory mode the dispatcher) that deliveries were committed.
    fn hand_off(&self) {
        self.handoff.notify();
    }
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

/// Runs `work` in a transaction of its own, again from the start after a lock conflict.
macro_rules! in_transaction {
    ($pool:expr, |$tx:ident| $work:expr) => {
        platform::database::retry_lock_conflicts(|| async {
            let mut $tx = $pool.begin().await?;
            let work = async { $work }.await;
            $crate::service::settle($tx, work).await
        })
        .await
    };
}
pub(crate) use in_transaction;
