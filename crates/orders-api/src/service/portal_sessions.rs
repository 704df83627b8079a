//! Portal sessions: links into the customer portal.

use domain::ids::{CustomerId, PortalSessionId};

use super::{Result, Service, ServiceError};
use crate::db::portal_sessions::{self, NewSession, SessionRow};

/// A session just opened: its token is shown once, in its link.
pub type NewPortalSession = NewSession;

/// A live portal session.
pub type PortalSession = SessionRow;

impl Service {
    /// Opens a portal session for `customer`, valid for `lifetime_seconds`.
    pub async fn open_portal_session(
        &self,
        customer: &CustomerId,
        lifetime_seconds: u32,
    ) -> Result<NewPortalSession> {
        let mut conn = self.pool.acquire().await?;
        Ok(portal_sessions::create(&mut conn, customer, lifetime_seconds).await?)
    }

    /// A live session of `owner` (any customer's for `None`).
    pub async fn portal_session(
        &self,
        owner: Option<&CustomerId>,
        id: &PortalSessionId,
    ) -> Result<PortalSession> {
        let mut conn = self.pool.acquire().await?;
        portal_sessions::find(&mut conn, id, owner)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Revokes a session of `owner` (any customer's for `None`): its link stops working at
    /// once.
    pub async fn revoke_portal_session(
        &self,
        owner: Option<&CustomerId>,
        id: &PortalSessionId,
    ) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        portal_sessions::find(&mut conn, id, owner)
            .await?
            .ok_or(ServiceError::NotFound)?;
        portal_sessions::revoke(&mut conn, id).await?;
        Ok(())
    }
}
