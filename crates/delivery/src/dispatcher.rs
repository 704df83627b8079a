//! One delivery attempt, from claim to recorded outcome.

use std::time::Duration;

use domain::ids::{DeliveryId, EndpointId};
use domain::retry::{self, AttemptClass, RetrySchedule};
use domain::secret_box::SecretKeyring;
use domain::signing::{self, SigningSecret};
use sqlx::MySqlPool;
use tracing::{Instrument, info_span};

use domain::state::{DeliveryStatus, DisabledReason, ErrorClass, FailureReason};

use crate::client::{AttemptResult, WebhookClient};
use crate::recorder::{RecordError, Recorder};
use crate::store::{self, AttemptRecord, ClaimOutcome, Claimed, Next};

/// What became of a delivery after the dispatcher looked at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver accepted it.
    Delivered,
    /// The attempt failed; the next one is due after this delay.
    RetryScheduled(Duration),
    /// No further attempt will be made (attempts exhausted, 410, endpoint disabled).
    Failed,
    /// Nothing to do: already finished, or missing.
    Skipped,
    /// Pending but not due yet, or leased by another consumer: look again after this delay.
    NotDue(Duration),
}

/// A failure of the dispatcher itself (database down, undecryptable secret): not the
/// endpoint's fault, so it must not count as an attempt.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// The database could not be reached or refused a statement.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// A stored signing secret could not be opened with the configured keys.
    #[error("a signing secret of endpoint {0} cannot be opened")]
    Secret(String),
    /// The attempt was made but its record was not written; the lease expires and the
    /// delivery is attempted again.
    #[error("the attempt could not be recorded")]
    Record(#[from] RecordError),
}

/// Attempts deliveries.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    pool: MySqlPool,
    keyring: std::sync::Arc<SecretKeyring>,
    client: WebhookClient,
    recorder: Recorder,
    schedule: RetrySchedule,
    lease: Duration,
    auto_disable_after: Duration,
}

impl Dispatcher {
    /// A dispatcher whose leases outlast the client's `timeout` comfortably.
    pub fn new(
        pool: MySqlPool,
        keyring: std::sync::Arc<SecretKeyring>,
        client: WebhookClient,
        schedule: RetrySchedule,
        timeout: Duration,
        auto_disable_after: Duration,
    ) -> Self {
        Self {
            recorder: Recorder::new(pool.clone()),
            pool,
            keyring,
            client,
            schedule,
            lease: timeout + Duration::from_secs(10),
            auto_disable_after,
        }
    }

    /// The database pool.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// How long a claim is held.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Claims `id` and, if won, attempts it (the queue-driven path).
    pub async fn deliver(&self, id: &DeliveryId) -> Result<Outcome, DispatchError> {
        let claim =
            platform::database::retry_lock_conflicts(|| store::claim(&self.pool, id, self.lease));
        match claim.await? {
            ClaimOutcome::Claimed(claimed) => self.attempt(*claimed).await,
            // Not due, or in someone else's hands: look again when that changes.
            ClaimOutcome::NotDue(wait) | ClaimOutcome::Leased(wait) => Ok(Outcome::NotDue(wait)),
            ClaimOutcome::Finished | ClaimOutcome::Missing => Ok(Outcome::Skipped),
        }
    }

    /// Attempts a delivery whose claim is already won.
    pub async fn attempt(&self, claimed: Claimed) -> Result<Outcome, DispatchError> {
        let span = info_span!(
            "delivery",
            delivery_id = %claimed.claim.delivery_id,
            endpoint_id = %claimed.work.endpoint_id,
            attempt = claimed.claim.attempt_count + 1,
        );
        self.attempt_inner(claimed).instrument(span).await
    }

    async fn attempt_inner(&self, claimed: Claimed) -> Result<Outcome, DispatchError> {
        let Claimed { claim, work } = claimed;
        if !work.endpoint_active {
            store::fail_claimed(&self.pool, &claim, FailureReason::EndpointDisabled).await?;
            tracing::info!("endpoint disabled; delivery failed");
            return Ok(Outcome::Failed);
        }
        let secrets = work
            .sealed_secrets
            .iter()
            .map(|sealed| {
                self.keyring
                    .open(work.endpoint_id.as_str(), sealed)
                    .ok()
                    .and_then(|bytes| SigningSecret::from_bytes(bytes).ok())
            })
            .collect::<Option<Vec<_>>>()
            .filter(|secrets| !secrets.is_empty())
            .ok_or_else(|| DispatchError::Secret(work.endpoint_id.to_string()))?;

        let started_at = chrono::Utc::now();
        let timestamp = started_at.timestamp();
        let signature =
            signing::signature_header(&secrets, work.event_id.as_str(), timestamp, &work.payload);
        let headers = vec![
            (signing::HEADER_ID, work.event_id.to_string()),
            (signing::HEADER_TIMESTAMP, timestamp.to_string()),
            (signing::HEADER_SIGNATURE, signature),
        ];
        let result = self.client.post(&work.url, headers, work.payload).await;
        let next = self.next_state(claim.attempt_count + 1, &result);
        let (status, error_class, duration) = (result.status, result.error_class, result.duration);
        let success = result.is_success();
        let record = AttemptRecord {
            claim,
            started_at,
            result,
            next,
        };
        if !self.recorder.record(record).await? {
            tracing::warn!("lease lost before the attempt was recorded");
            return Ok(Outcome::Skipped);
        }
        self.track_health(
            &work.endpoint_id,
            work.failing_since,
            started_at,
            (success, status),
        )
        .await?;
        let outcome = match next {
            Next::Delivered => DeliveryStatus::Delivered.as_str(),
            Next::Retry(_) => "retry",
            Next::Failed(_) => DeliveryStatus::Failed.as_str(),
        };
        metrics::counter!("webhook_attempts_total", "outcome" => outcome).increment(1);
        metrics::histogram!("webhook_attempt_duration_seconds").record(duration.as_secs_f64());
        tracing::info!(
            status,
            error_class = error_class.map(|c| c.as_str()),
            duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            next = ?next,
            "attempt recorded"
        );
        Ok(match next {
            Next::Delivered => Outcome::Delivered,
            Next::Retry(delay) => Outcome::RetryScheduled(delay),
            Next::Failed(_) => Outcome::Failed,
        })
    }

    /// Keeps the endpoint's health: a 410 disables it; so does failing without a single success
    /// for `auto_disable_after`. Writes only when the health changes.
    async fn track_health(
        &self,
        endpoint_id: &EndpointId,
        failing_since: Option<chrono::DateTime<chrono::Utc>>,
        started_at: chrono::DateTime<chrono::Utc>,
        (success, status): (bool, Option<u16>),
    ) -> Result<(), DispatchError> {
        let disable = |reason: DisabledReason| async move {
            let mut conn = self.pool.acquire().await?;
            store::disable_endpoint(&mut conn, endpoint_id, reason).await?;
            tracing::warn!(%endpoint_id, %reason, "endpoint disabled");
            Ok::<_, DispatchError>(())
        };
        match (success, failing_since) {
            (true, None) => {}
            (true, Some(_)) => store::set_failing_since(&self.pool, endpoint_id, None).await?,
            (false, _) if status == Some(410) => disable(DisabledReason::Gone).await?,
            (false, None) => {
                store::set_failing_since(&self.pool, endpoint_id, Some(started_at)).await?;
            }
            (false, Some(since)) => {
                let failing_for = (started_at - since).to_std().unwrap_or_default();
                if failing_for >= self.auto_disable_after {
                    disable(DisabledReason::AutoDisabled).await?;
                }
            }
        }
        Ok(())
    }

    /// What follows attempt number `attempts_made` that ended in `result`.
    fn next_state(&self, attempts_made: u32, result: &AttemptResult) -> Next {
        let class = match (result.status, result.error_class) {
            (_, None) => AttemptClass::Success,
            (Some(status), _) => retry::classify_status(status),
            (None, Some(ErrorClass::Timeout | ErrorClass::BlockedTarget | ErrorClass::Dns)) => {
                AttemptClass::Throttled
            }
            (None, Some(_)) => AttemptClass::Failed,
        };
        match class {
            AttemptClass::Success => Next::Delivered,
            AttemptClass::Gone => Next::Failed(FailureReason::EndpointGone),
            AttemptClass::Throttled | AttemptClass::Failed => {
                match self.schedule.scheduled_delay(attempts_made) {
                    None => Next::Failed(FailureReason::AttemptsExhausted),
                    Some(scheduled) => {
                        let scheduled = retry::jittered(scheduled, random_unit());
                        Next::Retry(if class == AttemptClass::Throttled {
                            retry::throttled_delay(scheduled, result.retry_after)
                        } else {
                            scheduled
                        })
                    }
                }
            }
        }
    }
}

/// A uniform random number in [0, 1).
fn random_unit() -> f64 {
    let bits = getrandom::u64().unwrap_or(0) >> 11;
    // 53 random bits fit an f64 mantissa exactly.
    #[expect(clippy::cast_precision_loss, reason = "53-bit values are exact in f64")]
    let unit = bits as f64 / (1u64 << 53) as f64;
    unit
}
