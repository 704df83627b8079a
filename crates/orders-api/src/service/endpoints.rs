//! Webhook endpoints: registering them (the target is vetted, the secret and the custom headers
//! sealed), changing, disabling and deleting them, test events, secret rotation and recovery.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use delivery::client::TargetRefused;
use delivery::store::disable_endpoint;
use domain::event::{Event, EventType};
use domain::headers::{self, CustomHeaders, HeadersPatch};
use domain::ids::{CustomerId, DeliveryId, EndpointId, EventId};
use domain::signing::SigningSecret;
use domain::state::DisabledReason;
use domain::stats::{self, Bucket, Tally};
use domain::target::WebhookUrl;
use domain::throttle::{MAX_PER_SECOND, RateLimit};
use domain::validation::{self, FieldErrors};
use sqlx::MySqlConnection;

use super::{Result, Service, ServiceError, in_transaction};
use crate::db::endpoints::{self, Endpoint, Patch};

/// The longest grace period of a secret rotation.
pub const MAX_GRACE: Duration = Duration::from_secs(604_800);
/// How many failed deliveries one recovery re-opens at most.
pub const RECOVER_LIMIT: u32 = 10_000;

/// A new endpoint as the caller sent it.
#[derive(Debug, Default)]
pub struct EndpointInput {
    /// Where deliveries go (required).
    pub url: Option<String>,
    /// A note.
    pub description: Option<String>,
    /// Event type names; `None` subscribes to every type.
    pub event_types: Option<Vec<String>>,
    /// Custom headers sent with every attempt.
    pub headers: Option<BTreeMap<String, String>>,
    /// The most deliveries a second; `None`: unlimited.
    pub rate_limit_per_second: Option<i64>,
}

/// Changes to an endpoint as the caller sent them; `None` leaves a field alone.
#[derive(Debug, Default)]
pub struct EndpointPatchInput {
    /// A new URL.
    pub url: Option<String>,
    /// A new note (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// A new subscription (`Some(None)` means every type).
    pub event_types: Option<Option<Vec<String>>>,
    /// Enable (clearing the disabled reason and the failure clock) or disable.
    pub enabled: Option<bool>,
    /// Custom headers to set, or to remove (`None`).
    pub headers: Option<HeadersPatch>,
    /// A new rate limit (`Some(None)`: unlimited).
    pub rate_limit_per_second: Option<Option<i64>>,
}

/// A queued test event.
#[derive(Debug)]
pub struct TestQueued {
    /// The event (`webhook-id`).
    pub event_id: EventId,
    /// Its one delivery.
    pub delivery_id: DeliveryId,
}

/// A rotated secret.
#[derive(Debug)]
pub struct Rotated {
    /// The new secret, shown once.
    pub secret: SigningSecret,
    /// Until when the previous secrets keep signing.
    pub previous_secret_expires_at: DateTime<Utc>,
}

/// A rate limit of `per_second` deliveries a second, or what is wrong with it in `errors`.
fn rate_limit(per_second: i64, errors: &mut FieldErrors) -> Option<RateLimit> {
    let limit = u32::try_from(per_second).ok().and_then(RateLimit::new);
    if limit.is_none() {
        errors.add(
            "rate_limit_per_second",
            format!("must be 1 to {MAX_PER_SECOND} deliveries a second, or null for no limit"),
        );
    }
    limit
}

/// Parses event type names, adding what is wrong to `errors`.
fn event_types(types: Vec<String>, errors: &mut FieldErrors) -> Option<Vec<EventType>> {
    if types.is_empty() {
        errors.add(
            "event_types",
            "must list at least one event type, or be omitted for all",
        );
        return None;
    }
    let mut parsed = Vec::new();
    for (i, name) in types.iter().enumerate() {
        match EventType::parse(name) {
            Some(t) if !parsed.contains(&t) => parsed.push(t),
            Some(_) => errors.add(format!("event_types[{i}]"), "is listed twice"),
            None => errors.add(
                format!("event_types[{i}]"),
                format!(
                    "is not an event type; expected one of {}",
                    EventType::ALL.map(EventType::as_str).join(", ")
                ),
            ),
        }
    }
    Some(parsed)
}

impl Service {
    /// Parses a target and vets it against the SSRF policy, adding what is wrong to `errors`.
    /// Refused is only what is unsafe whatever DNS answers later: a blocked scheme, credentials
    /// in the URL, a blocked literal address, a host that resolves to a blocked address now. A
    /// host that does not resolve yet (its DNS not live) is accepted with a warning in
    /// `warnings`; like every target, it is vetted again at every send.
    async fn target(
        &self,
        raw: &str,
        errors: &mut FieldErrors,
        warnings: &mut Vec<String>,
    ) -> Option<WebhookUrl> {
        let url = match WebhookUrl::parse(raw) {
            Ok(url) => url,
            Err(e) => {
                errors.add("url", e.to_string());
                return None;
            }
        };
        match self.guard.vet(&url).await {
            Ok(_) => {}
            Err(TargetRefused::Dns(reason)) => warnings.push(format!(
                "url: the host {} does not resolve ({reason}); the endpoint is registered, but \
                 its deliveries fail and are retried on the usual schedule until it resolves to \
                 a public address",
                url.url().host_str().unwrap_or_default()
            )),
            Err(refused) => {
                errors.add(
                    "url",
                    format!("cannot be used as a webhook target: {refused}"),
                );
                return None;
            }
        }
        Some(url)
    }

    /// Seals a new secret for `endpoint`.
    fn seal_new_secret(&self, endpoint: &EndpointId) -> Result<(SigningSecret, Vec<u8>)> {
        let secret = SigningSecret::generate();
        let sealed = self
            .keyring
            .seal(endpoint.as_str(), secret.as_bytes())
            .map_err(anyhow::Error::from)?;
        Ok((secret, sealed))
    }

    /// Seals the custom headers of `endpoint` (`None` when there are none).
    fn seal_headers(
        &self,
        endpoint: &EndpointId,
        headers: &CustomHeaders,
    ) -> Result<Option<Vec<u8>>> {
        Ok(headers::seal(&self.keyring, endpoint, headers).map_err(anyhow::Error::from)?)
    }

    /// The custom headers of `endpoint`, opened.
    fn open_headers(&self, endpoint: &Endpoint) -> Result<CustomHeaders> {
        Ok(headers::open(
            &self.keyring,
            &endpoint.id,
            endpoint.sealed_headers.as_deref(),
        )
        .map_err(anyhow::Error::from)?)
    }

    /// The custom headers of `endpoint` as they are shown: names, and values [`headers::mask`]ed.
    pub fn masked_headers(&self, endpoint: &Endpoint) -> Result<CustomHeaders> {
        let mut shown = self.open_headers(endpoint)?;
        shown
            .values_mut()
            .for_each(|value| *value = headers::mask(value));
        Ok(shown)
    }

    /// Registers an endpoint for `customer`, with a new signing secret (returned once) and
    /// what the customer should know about it (see [`Service::target`]).
    pub async fn create_endpoint(
        &self,
        customer: CustomerId,
        input: EndpointInput,
    ) -> Result<(Endpoint, SigningSecret, Vec<String>)> {
        let mut errors = FieldErrors::new();
        let mut warnings = Vec::new();
        let url = match input.url.as_deref() {
            Some(raw) => self.target(raw, &mut errors, &mut warnings).await,
            None => {
                errors.missing("url");
                None
            }
        };
        validation::optional_text(
            &mut errors,
            "description",
            input.description.as_deref(),
            500,
        );
        let types = input
            .event_types
            .map(|types| event_types(types, &mut errors));
        let custom = input
            .headers
            .map(|raw| headers::parse("headers", raw, &mut errors))
            .unwrap_or_default();
        let rate_limit = input
            .rate_limit_per_second
            .and_then(|limit| rate_limit(limit, &mut errors));
        let (Some(url), true) = (url, errors.is_empty()) else {
            return Err(ServiceError::Invalid(errors));
        };
        let now = domain::time::now();
        let id = EndpointId::new();
        let endpoint = Endpoint {
            sealed_headers: self.seal_headers(&id, &custom)?,
            id,
            customer_id: customer,
            url,
            description: input.description,
            event_types: types.flatten(),
            enabled: true,
            disabled_reason: None,
            failing_since: None,
            rate_limit,
            created_at: now,
            updated_at: now,
        };
        let (secret, sealed) = self.seal_new_secret(&endpoint.id)?;
        in_transaction!(self.pool, |tx| {
            endpoints::insert(&mut tx, &endpoint).await?;
            endpoints::insert_secret(&mut tx, &endpoint.id, &sealed).await?;
            Ok(())
        })?;
        Ok((endpoint, secret, warnings))
    }

    /// Up to `limit` endpoints of `customer` with ids below `before`, newest first.
    pub async fn list_endpoints(
        &self,
        customer: &CustomerId,
        before: Option<&EndpointId>,
        limit: u32,
    ) -> Result<Vec<Endpoint>> {
        let mut conn = self.pool.acquire().await?;
        Ok(endpoints::list(&mut conn, customer, before, limit).await?)
    }

    /// One endpoint of `customer`.
    pub async fn endpoint(&self, customer: &CustomerId, id: &EndpointId) -> Result<Endpoint> {
        let mut conn = self.pool.acquire().await?;
        endpoints::find(&mut conn, customer, id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// The statistics of an endpoint of `customer`: its attempts in `bucket`-sized buckets from
    /// the one holding `since` up to `until`, every bucket present (see
    /// [`domain::stats::series`]).
    pub async fn endpoint_stats(
        &self,
        customer: &CustomerId,
        id: &EndpointId,
        bucket: Bucket,
        (since, until): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<(DateTime<Utc>, Tally)>> {
        self.endpoint(customer, id).await?;
        let from = bucket.start(since);
        let stored = delivery::stats::read(&self.pool, id, bucket.source(), from, until).await?;
        Ok(stats::series(bucket, since, until, &stored))
    }

    /// Changes an endpoint of `customer`; disabling it fails its pending deliveries. Returns
    /// it with what the customer should know about the change (see [`Service::target`]).
    pub async fn update_endpoint(
        &self,
        customer: &CustomerId,
        id: &EndpointId,
        input: EndpointPatchInput,
    ) -> Result<(Endpoint, Vec<String>)> {
        let mut errors = FieldErrors::new();
        let mut warnings = Vec::new();
        let url = match input.url.as_deref() {
            Some(raw) => self.target(raw, &mut errors, &mut warnings).await,
            None => None,
        };
        if let Some(Some(description)) = &input.description {
            validation::text(&mut errors, "description", description, 500);
        }
        let event_types = input
            .event_types
            .map(|types| types.and_then(|types| event_types(types, &mut errors)));
        let headers_patch = input
            .headers
            .map(|raw| headers::parse_patch("headers", raw, &mut errors));
        let rate_limit_patch = input
            .rate_limit_per_second
            .map(|limit| limit.and_then(|limit| rate_limit(limit, &mut errors)));
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let patch = Patch {
            url,
            description: input.description,
            event_types,
            sealed_headers: None,
            rate_limit: rate_limit_patch,
            enable: input.enabled == Some(true),
        };
        in_transaction!(self.pool, |tx| {
            let current = endpoints::find_for_update(&mut tx, customer, id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let mut patch = patch.clone();
            if let Some(changes) = &headers_patch {
                // Merged into what is stored under the row's lock, so that two changes to
                // different headers both land.
                let mut merged = self.open_headers(&current)?;
                let mut errors = FieldErrors::new();
                headers::merge("headers", &mut merged, changes.clone(), &mut errors);
                if !errors.is_empty() {
                    return Err(ServiceError::Invalid(errors));
                }
                patch.sealed_headers = Some(self.seal_headers(id, &merged)?);
            }
            endpoints::update(&mut tx, customer, id, &patch).await?;
            if input.enabled == Some(false) {
                disable_endpoint(&mut tx, id, DisabledReason::DisabledByCustomer).await?;
            }
            endpoints::find(&mut tx, customer, id)
                .await?
                .ok_or(ServiceError::NotFound)
        })
        .map(|endpoint| (endpoint, warnings))
    }

    /// Deletes an endpoint of `customer`; its pending deliveries fail.
    pub async fn delete_endpoint(&self, customer: &CustomerId, id: &EndpointId) -> Result<()> {
        in_transaction!(self.pool, |tx| {
            if endpoints::delete(&mut tx, customer, id).await? {
                Ok(())
            } else {
                Err(ServiceError::NotFound)
            }
        })
    }

    /// Queues a `webhook.test` event to one enabled endpoint of `customer`, through the outbox.
    pub async fn send_test_event(
        &self,
        customer: &CustomerId,
        id: &EndpointId,
    ) -> Result<TestQueued> {
        let admission = self.handoff.admit().await;
        let (queued, inserted) = in_transaction!(self.pool, |tx| {
            usable_endpoint(&mut tx, customer, id).await?;
            let event = Event::test(customer.clone(), id, domain::time::now());
            let inserted = self
                .record_event(&mut tx, &admission, &event, Some(std::slice::from_ref(id)))
                .await?;
            let delivery_id = inserted
                .ids
                .first()
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("no delivery was written"))?;
            let queued = TestQueued {
                event_id: event.id,
                delivery_id,
            };
            Ok((queued, inserted))
        })?;
        self.handoff.committed(inserted);
        Ok(queued)
    }

    /// Issues a new signing secret for an endpoint of `customer`; the previous ones keep
    /// signing for `grace` (at most [`MAX_GRACE`]).
    pub async fn rotate_secret(
        &self,
        customer: &CustomerId,
        id: &EndpointId,
        grace: Duration,
    ) -> Result<Rotated> {
        if grace > MAX_GRACE {
            return Err(ServiceError::field(
                "grace_period_seconds",
                format!("must be between 0 and {}", MAX_GRACE.as_secs()),
            ));
        }
        let (secret, sealed) = self.seal_new_secret(id)?;
        let previous_secret_expires_at = in_transaction!(self.pool, |tx| {
            endpoints::find(&mut tx, customer, id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            Ok(endpoints::rotate_secret(&mut tx, id, &sealed, grace).await?)
        })?;
        Ok(Rotated {
            secret,
            previous_secret_expires_at,
        })
    }

    /// Re-opens the failed deliveries of an enabled endpoint of `customer` created at or after
    /// `since` (at most [`RECOVER_LIMIT`]), through the outbox. Returns how many.
    pub async fn recover_endpoint(
        &self,
        customer: &CustomerId,
        id: &EndpointId,
        since: DateTime<Utc>,
    ) -> Result<u64> {
        let queued = in_transaction!(self.pool, |tx| {
            usable_endpoint(&mut tx, customer, id).await?;
            let from = DeliveryId::floor(since);
            Ok(delivery::log::recover(&mut tx, &self.handoff, id, &from, RECOVER_LIMIT).await?)
        })?;
        self.hand_off();
        Ok(queued)
    }
}

/// A live, enabled endpoint of `customer`, or the reason it cannot be used.
async fn usable_endpoint(
    conn: &mut MySqlConnection,
    customer: &CustomerId,
    id: &EndpointId,
) -> Result<Endpoint> {
    let endpoint = endpoints::find(conn, customer, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !endpoint.enabled {
        return Err(ServiceError::EndpointDisabled);
    }
    Ok(endpoint)
}
