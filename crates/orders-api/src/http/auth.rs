//! Authentication: `Authorization: Bearer <credential>`, resolved to a role. A credential is an
//! API key (`mk_…`) or a portal session token (`mps_…`), which acts as its customer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use domain::ids::{ApiKeyId, CustomerId, PortalSessionId};
use sqlx::MySqlPool;

use super::AppState;
use super::error::Error;
use crate::db::Scope;
use crate::db::api_keys::{self, KeyHash, Role};
use crate::db::portal_sessions::{self, Lookup};

/// The most keys a [`KeyCache`] remembers.
const KEY_CACHE_CAPACITY: u64 = 10_000;

/// Keys that authenticated recently, so that a client's requests do not each look its key up:
/// for `API_KEY_CACHE_SECONDS` after the lookup (none at 0), by the key's SHA-256, never the
/// key. Only keys that authenticated are remembered. A key revoked through this process stops
/// working at once: every key remembered before a revocation is looked up again. One revoked
/// by another process (another instance, the database) works here for at most that long.
pub struct KeyCache {
    keys: Option<moka::sync::Cache<KeyHash, Remembered>>,
    /// Revocations through this process so far.
    revocations: AtomicU64,
}

/// A key that authenticated, and how many revocations there had been before its lookup.
#[derive(Clone)]
struct Remembered {
    revocations: u64,
    key_id: ApiKeyId,
    role: Role,
}

/// The key whose hash is `hash`, from the database, noting that it was used when its
/// `last_used_at` is over a minute old: that column is therefore exact to within a minute and
/// the cache's TTL. The note is best-effort: a key that authenticated is not refused because
/// the note could not be written (a lock wait, say); the failure is logged.
async fn look_up(pool: &MySqlPool, hash: &KeyHash) -> sqlx::Result<Option<(ApiKeyId, Role)>> {
    let mut conn = pool.acquire().await?;
    let Some(found) = api_keys::authenticate(&mut conn, hash).await? else {
        return Ok(None);
    };
    if found.stale
        && let Err(error) = api_keys::touch(&mut conn, &found.id).await
    {
        tracing::warn!(key_id = %found.id, %error, "could not note an API key's use");
    }
    Ok(Some((found.id, found.role)))
}

impl KeyCache {
    /// A cache remembering keys for `ttl` (zero: none).
    pub fn new(ttl: Duration) -> Self {
        let keys = (!ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(KEY_CACHE_CAPACITY)
                .time_to_live(ttl)
                .build()
        });
        Self {
            keys,
            revocations: AtomicU64::new(0),
        }
    }

    /// The key id and role of `key` if it is a live key, from the cache or the database.
    pub async fn authenticate(
        &self,
        pool: &MySqlPool,
        key: &str,
    ) -> sqlx::Result<Option<(ApiKeyId, Role)>> {
        let Some(hash) = api_keys::key_hash(key) else {
            return Ok(None);
        };
        // Read before the lookup: a revocation that commits after the lookup read the key is
        // counted after it too, so what the lookup found is not used again.
        let revocations = self.revocations.load(Ordering::SeqCst);
        if let Some(known) = self.recall(&hash, revocations) {
            return Ok(Some(known));
        }
        let found = look_up(pool, &hash).await?;
        if let Some((key_id, role)) = &found {
            self.remember(hash, revocations, key_id, role);
        }
        Ok(found)
    }

    /// The key id and role remembered for `hash`, if it was remembered within the TTL and no
    /// revocation has been marked since its lookup (`revocations` is the current count).
    fn recall(&self, hash: &KeyHash, revocations: u64) -> Option<(ApiKeyId, Role)> {
        let known = self.keys.as_ref()?.get(hash)?;
        (known.revocations == revocations).then_some((known.key_id, known.role))
    }

    /// Remembers that `hash` authenticated as `key_id` with `role` in a lookup that began when
    /// `revocations` revocations had been marked. Does nothing when the cache is off.
    fn remember(&self, hash: KeyHash, revocations: u64, key_id: &ApiKeyId, role: &Role) {
        if let Some(keys) = &self.keys {
            let remembered = Remembered {
                revocations,
                key_id: key_id.clone(),
                role: role.clone(),
            };
            keys.insert(hash, remembered);
        }
    }

    /// Marks a revocation: every key remembered so far is looked up again. The guard marks it
    /// when dropped, so hold it across the revocation's statement: the mark follows the
    /// commit even when the request is cancelled in between.
    pub fn revoking(&self) -> Revoking<'_> {
        Revoking(self)
    }
}

/// Marks a revocation in a [`KeyCache`] when dropped.
pub struct Revoking<'a>(&'a KeyCache);

impl Drop for Revoking<'_> {
    fn drop(&mut self) {
        self.0.revocations.fetch_add(1, Ordering::SeqCst);
        if let Some(keys) = &self.0.keys {
            keys.invalidate_all();
        }
    }
}

/// What a caller authenticated with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Credential {
    /// An API key.
    ApiKey(ApiKeyId),
    /// A portal session (always a customer's).
    PortalSession(PortalSessionId),
}

/// Whose requests share a rate-limit bucket: each API key has its own, and all the portal
/// sessions of a customer share one (so opening more sessions buys no more requests).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
    /// An API key's requests.
    ApiKey(ApiKeyId),
    /// A customer's portal sessions' requests.
    Portal(CustomerId),
}

/// Any authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The credential used.
    pub credential: Credential,
    /// What it may do.
    pub role: Role,
}

impl Caller {
    /// Refuses portal sessions: they may not create credentials (API keys, portal sessions).
    pub fn not_in_portal(&self) -> Result<(), Error> {
        match self.credential {
            Credential::ApiKey(_) => Ok(()),
            Credential::PortalSession(_) => Err(Error::NotInPortal),
        }
    }

    /// The rows this caller may see.
    pub fn scope(&self) -> Scope {
        match &self.role {
            Role::Operator => Scope::All,
            Role::Customer(customer) => Scope::Customer(customer.clone()),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(Error::Unauthorized)?;
        let (credential, role, rate_key) = if let Some(hash) = portal_sessions::token_hash(key) {
            // Sessions are few and short-lived: looked up on every request, never cached, so a
            // revocation takes effect at once on every instance.
            let mut conn = state.pool.acquire().await?;
            match portal_sessions::authenticate(&mut conn, &hash).await? {
                Some(Lookup::Live { id, customer_id }) => (
                    Credential::PortalSession(id),
                    Role::Customer(customer_id.clone()),
                    RateKey::Portal(customer_id),
                ),
                Some(Lookup::Ended) => return Err(Error::SessionEnded),
                None => return Err(Error::Unauthorized),
            }
        } else {
            let (key_id, role) = state
                .keys
                .authenticate(&state.pool, key)
                .await?
                .ok_or(Error::Unauthorized)?;
            (
                Credential::ApiKey(key_id.clone()),
                role,
                RateKey::ApiKey(key_id),
            )
        };
        if let Some(limiter) = &state.rate_limiter
            && let Err(not_until) = limiter.check_key(&rate_key)
        {
            use governor::clock::{Clock, DefaultClock};
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(Error::RateLimited {
                retry_after_seconds: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            });
        }
        let caller = Caller { credential, role };
        if let Role::Customer(customer) = &caller.role {
            tracing::Span::current().record("customer_id", tracing::field::display(customer));
        }
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// The customer a request means: a customer's own (naming another is 403), or, for an operator,
/// the customer `customer_id` names (404 if there is none; `None` when it names none).
pub async fn requested_customer(
    state: &AppState,
    caller: &Caller,
    customer_id: Option<&str>,
) -> Result<Option<CustomerId>, Error> {
    match (&caller.role, customer_id) {
        (Role::Customer(own), None) => Ok(Some(own.clone())),
        (Role::Customer(own), Some(customer)) if own.as_str() == customer => Ok(Some(own.clone())),
        (Role::Customer(_), Some(_)) => Err(Error::Forbidden),
        (Role::Operator, None) => Ok(None),
        (Role::Operator, Some(raw)) => {
            let id = CustomerId::parse(raw)
                .map_err(|_| Error::field("customer_id", "is not a customer id"))?;
            let mut conn = state.pool.acquire().await?;
            if !crate::db::customers::exists(&mut conn, &id).await? {
                return Err(Error::NotFound);
            }
            Ok(Some(id))
        }
    }
}

/// A caller with an operator key (403 otherwise).
#[derive(Debug, Clone)]
pub struct Operator(pub Caller);

impl FromRequestParts<AppState> for Operator {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match caller.role {
            Role::Operator => Ok(Self(caller)),
            Role::Customer(_) => Err(Error::Forbidden),
        }
    }
}

/// A caller with a customer key or portal session (403 otherwise).
#[derive(Debug, Clone)]
pub struct Customer {
    /// The credential used.
    pub credential: Credential,
    /// The customer it belongs to.
    pub customer_id: CustomerId,
}

impl FromRequestParts<AppState> for Customer {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match caller.role {
            Role::Customer(customer_id) => Ok(Self {
                credential: caller.credential,
                customer_id,
            }),
            Role::Operator => Err(Error::Forbidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use domain::ids::CustomerId;

    use super::*;

    fn hash(key: &str) -> KeyHash {
        api_keys::key_hash(key).expect("an API key")
    }

    fn revocations(cache: &KeyCache) -> u64 {
        cache.revocations.load(Ordering::SeqCst)
    }

    #[test]
    fn a_remembered_key_is_a_hit_within_its_ttl() {
        let cache = KeyCache::new(Duration::from_secs(3_600));
        let (operator, customer) = (ApiKeyId::new(), ApiKeyId::new());
        let customer_role = Role::Customer(CustomerId::new());
        cache.remember(hash("mk_operator"), 0, &operator, &Role::Operator);
        cache.remember(hash("mk_customer"), 0, &customer, &customer_role);
        assert_eq!(
            cache.recall(&hash("mk_operator"), 0),
            Some((operator, Role::Operator))
        );
        assert_eq!(
            cache.recall(&hash("mk_customer"), 0),
            Some((customer, customer_role))
        );
        assert_eq!(cache.recall(&hash("mk_unknown"), 0), None);
    }

    #[test]
    fn a_remembered_key_expires_after_its_ttl() {
        let ttl = Duration::from_millis(50);
        let cache = KeyCache::new(ttl);
        let key_id = ApiKeyId::new();
        let remembered_at = Instant::now();
        cache.remember(hash("mk_short_lived"), 0, &key_id, &Role::Operator);
        let hit = cache.recall(&hash("mk_short_lived"), 0);
        // Only a hit if this thread was not stalled past the TTL in between.
        if remembered_at.elapsed() < ttl {
            assert_eq!(hit, Some((key_id, Role::Operator)));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while cache.recall(&hash("mk_short_lived"), 0).is_some() {
            assert!(
                Instant::now() < deadline,
                "still remembered long after the TTL"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(remembered_at.elapsed() >= ttl);
    }

    #[test]
    fn a_zero_ttl_remembers_nothing() {
        let cache = KeyCache::new(Duration::ZERO);
        assert!(cache.keys.is_none());
        cache.remember(hash("mk_key"), 0, &ApiKeyId::new(), &Role::Operator);
        assert_eq!(cache.recall(&hash("mk_key"), 0), None);
        // Revoking without a cache only counts.
        drop(cache.revoking());
        assert_eq!(revocations(&cache), 1);
    }

    #[test]
    fn a_revocation_forgets_every_key_once_its_guard_is_dropped() {
        let cache = KeyCache::new(Duration::from_secs(3_600));
        let key_id = ApiKeyId::new();
        cache.remember(hash("mk_a"), 0, &key_id, &Role::Operator);
        cache.remember(hash("mk_b"), 0, &key_id, &Role::Operator);

        let guard = cache.revoking();
        // Held across the revocation's statement: nothing changes until it is dropped.
        assert_eq!(revocations(&cache), 0);
        assert!(cache.recall(&hash("mk_a"), 0).is_some());
        drop(guard);

        assert_eq!(revocations(&cache), 1);
        for key in ["mk_a", "mk_b"] {
            assert_eq!(cache.recall(&hash(key), 1), None, "{key}");
            assert_eq!(cache.recall(&hash(key), 0), None, "{key}");
        }
        // Looked up again after the revocation: remembered anew.
        cache.remember(hash("mk_a"), 1, &key_id, &Role::Operator);
        assert_eq!(
            cache.recall(&hash("mk_a"), 1),
            Some((key_id, Role::Operator))
        );
    }

    #[test]
    fn a_lookup_that_raced_a_revocation_is_not_used() {
        let cache = KeyCache::new(Duration::from_secs(3_600));
        let key_id = ApiKeyId::new();
        // The lookup read the count (0) and then the key; a revocation committed meanwhile and
        // was marked before the lookup's result was remembered.
        let before_lookup = revocations(&cache);
        drop(cache.revoking());
        cache.remember(hash("mk_raced"), before_lookup, &key_id, &Role::Operator);
        assert_eq!(cache.recall(&hash("mk_raced"), revocations(&cache)), None);
    }
}
