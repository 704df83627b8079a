//! API keys: customers manage their own; operators any customer's, and operator keys.

use domain::ids::{ApiKeyId, CustomerId};
use secrecy::SecretString;

use super::{Result, Service, ServiceError};
use crate::db::api_keys::{self, KeyRow, Role};

/// A key just created: the key itself is shown once.
#[derive(Debug)]
pub struct NewApiKey {
    /// The key as listed.
    pub row: KeyRow,
    /// The key itself.
    pub secret: SecretString,
}

impl Service {
    /// The live keys of `owner`, or the operator keys (`None`), newest first.
    pub async fn list_api_keys(&self, owner: Option<&CustomerId>) -> Result<Vec<KeyRow>> {
        let mut conn = self.pool.acquire().await?;
        Ok(api_keys::list(&mut conn, owner).await?)
    }

    /// Creates a key for `role`.
    pub async fn create_api_key(&self, role: &Role, name: Option<&str>) -> Result<NewApiKey> {
        let mut conn = self.pool.acquire().await?;
        let key = api_keys::create(&mut conn, role, name).await?;
        let row = api_keys::find(&mut conn, &key.id, None)
            .await?
            .ok_or_else(|| anyhow::anyhow!("a created key vanished"))?;
        Ok(NewApiKey {
            row,
            secret: key.secret,
        })
    }

    /// Revokes a key of `owner` (any key for `None`). `revoking` is called once the key is
    /// known to be the caller's, just before the revocation, and what it returns is held until
    /// the revocation has committed or the call is abandoned: a key cache's guard (see
    /// `KeyCache::revoking`), so that a revocation that is refused clears no cache.
    pub async fn revoke_api_key<Guard>(
        &self,
        owner: Option<&CustomerId>,
        id: &ApiKeyId,
        revoking: impl FnOnce() -> Guard,
    ) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        api_keys::find(&mut conn, id, owner)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let _guard = revoking();
        api_keys::revoke(&mut conn, id).await?;
        Ok(())
    }
}
