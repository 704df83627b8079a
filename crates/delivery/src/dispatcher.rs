//! One delivery attempt, from claim to recorded outcome.

use std::sync::Arc;
use std::time::Duration;

use domain::headers;
use domain::ids::DeliveryId;
use domain::retry::{self, AttemptClass, RetrySchedule};
use domain::secret_box::SecretKeyring;
use domain::signing::{self, SigningSecret};
use sqlx::MySqlPool;
use tokio::sync::OwnedSemaphorePermit;
use tracing::{Instrument, info_span};

use domain::state::{DeliveryStatus, ErrorClass, FailureReason};

use crate::client::{AttemptResult, WebhookClient};
use crate::health::Tracking;
use crate::recorder::{RecordError, Recorder};
use crate::store::{self, AttemptRecord, Claim, ClaimOutcome, Claimed, Next};
use crate::throttle::{self, Deferral, Limiter, Pace};

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
    /// Its endpoint's rate limit holds it back: it is due again after this delay (a little
    /// before its slot, if it holds one), without an attempt ([`crate::throttle`]).
    Throttled(Duration),
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
    /// The endpoint's stored custom headers could not be opened with the configured keys.
    #[error("the custom headers of endpoint {0} cannot be opened")]
    Headers(String),
    /// The attempt was made but its record was not written; the lease expires and the
    /// delivery is attempted again.
    #[error("the attempt could not be recorded")]
    Record(#[from] RecordError),
}

/// Attempts deliveries.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    pool: MySqlPool,
    keyring: Arc<SecretKeyring>,
    client: WebhookClient,
    recorder: Recorder,
    limiter: Limiter,
    schedule: RetrySchedule,
    timeout: Duration,
    lease: Duration,
    tracking: Tracking,
}

impl Dispatcher {
    /// A dispatcher whose leases outlast the client's `timeout` comfortably, keeping its
    /// endpoints' health by `tracking`.
    pub fn new(
        pool: MySqlPool,
        keyring: Arc<SecretKeyring>,
        client: WebhookClient,
        schedule: RetrySchedule,
        timeout: Duration,
        tracking: Tracking,
    ) -> Self {
        Self {
            recorder: Recorder::new(pool.clone(), tracking.clone()),
            limiter: Limiter::new(pool.clone()),
            pool,
            keyring,
            client,
            schedule,
            timeout,
            lease: timeout + Duration::from_secs(10),
            tracking,
        }
    }

    /// This dispatcher, its attempt records batched with a linger of `linger`
    /// ([`Recorder::lingering`]); call it before the first attempt.
    #[must_use]
    pub fn with_record_linger(mut self, linger: Duration) -> Self {
        self.recorder = Recorder::lingering(self.pool.clone(), self.tracking.clone(), linger);
        self
    }

    /// The database pool.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// The longest a request may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How long a claim is held.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Releases a claimed delivery to wait for its endpoint's rate limit as `deferral` says;
    /// not an attempt.
    async fn wait_for_slot(
        &self,
        claim: &Claim,
        deferral: Deferral,
    ) -> Result<Outcome, DispatchError> {
        let Some(due_in) = throttle::defer(&self.pool, claim, deferral).await? else {
            tracing::warn!("lease lost before the delivery was put back to wait for its slot");
            return Ok(Outcome::Skipped);
        };
        metrics::counter!("webhook_throttled_total").increment(1);
        tracing::debug!(?deferral, "rate limited; waiting for a slot");
        Ok(Outcome::Throttled(due_in))
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
        self.attempt_holding(claimed, None).await
    }

    /// Attempts a delivery whose claim is already won, holding `slot` (a permit of the
    /// caller's window of requests) until the receiver has answered: the slot is free again
    /// while the attempt's record is written.
    pub async fn attempt_in_slot(
        &self,
        claimed: Claimed,
        slot: OwnedSemaphorePermit,
    ) -> Result<Outcome, DispatchError> {
        self.attempt_holding(claimed, Some(slot)).await
    }

    async fn attempt_holding(
        &self,
        claimed: Claimed,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Result<Outcome, DispatchError> {
        let span = info_span!(
            "delivery",
            delivery_id = %claimed.claim.delivery_id,
            endpoint_id = %claimed.work.endpoint_id,
            attempt = claimed.claim.attempt_count + 1,
        );
        self.attempt_inner(claimed, slot).instrument(span).await
    }

    async fn attempt_inner(
        &self,
        claimed: Claimed,
        mut slot: Option<OwnedSemaphorePermit>,
    ) -> Result<Outcome, DispatchError> {
        let Claimed { claim, work } = claimed;
        if !work.endpoint_active {
            store::fail_claimed(&self.pool, &claim, FailureReason::EndpointDisabled).await?;
            tracing::info!("endpoint disabled; delivery failed");
            return Ok(Outcome::Failed);
        }
        if let Some(limit) = work.rate_limit {
            match self.limiter.pace(&claim, &work.endpoint_id, limit).await? {
                Pace::SendAfter(wait) => {
                    if !wait.is_zero() {
                        // The rate limit's own pacing, a slot at most about a second away.
                        // Waiting is not sending: the request slot is someone else's meanwhile.
                        // If none is free again within a second (every request hanging), the
                        // delivery asks for a new slot rather than outlive its lease waiting.
                        let window = slot.take().map(|held| Arc::clone(held.semaphore()));
                        tokio::time::sleep(wait).await;
                        if let Some(window) = window {
                            let patience = throttle::REQUEST_SLOT_PATIENCE;
                            match tokio::time::timeout(patience, window.acquire_owned()).await {
                                Ok(held) => slot = held.ok(),
                                Err(_) => {
                                    let again = Deferral::Retry(Duration::ZERO);
                                    return self.wait_for_slot(&claim, again).await;
                                }
                            }
                        }
                    }
                }
                Pace::SlotAt(at, wait) => {
                    return self.wait_for_slot(&claim, Deferral::Slot(at, wait)).await;
                }
                Pace::Full(wait) => {
                    return self.wait_for_slot(&claim, Deferral::Retry(wait)).await;
                }
            }
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
        let custom = headers::open(
            &self.keyring,
            &work.endpoint_id,
            work.sealed_headers.as_deref(),
        )
        .map_err(|_| DispatchError::Headers(work.endpoint_id.to_string()))?;

        let started_at = chrono::Utc::now();
        let timestamp = started_at.timestamp();
        let signature =
            signing::signature_header(&secrets, work.event_id.as_str(), timestamp, &work.payload);
        let headers = vec![
            (signing::HEADER_ID, work.event_id.to_string()),
            (signing::HEADER_TIMESTAMP, timestamp.to_string()),
            (signing::HEADER_SIGNATURE, signature),
        ];
        let result = match &work.url {
            Ok(url) => self.client.post(url, &custom, headers, work.payload).await,
            Err(invalid) => AttemptResult::failure(
                ErrorClass::BlockedTarget,
                invalid.to_string(),
                Duration::ZERO,
            ),
        };
        drop(slot);
        let next = next_state(
            &self.schedule,
            claim.attempt_count + 1,
            &result,
            random_unit(),
        );
        let (status, error_class, duration) = (result.status, result.error_class, result.duration);
        let record = AttemptRecord {
            claim,
            started_at,
            result,
            next,
            endpoint_failing: work.failing_since.is_some(),
        };
        if !self.recorder.record(record).await? {
            tracing::warn!("lease lost before the attempt was recorded");
            return Ok(Outcome::Skipped);
        }
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
}

/// What follows attempt number `attempts_made` that ended in `result`, under `schedule`;
/// `unit` is a uniform random number in `[0, 1)` that jitters a retry's delay.
fn next_state(
    schedule: &RetrySchedule,
    attempts_made: u32,
    result: &AttemptResult,
    unit: f64,
) -> Next {
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
            match schedule.scheduled_delay(attempts_made) {
                None => Next::Failed(FailureReason::AttemptsExhausted),
                Some(scheduled) => {
                    let scheduled = retry::jittered(scheduled, unit);
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

/// A uniform random number in [0, 1).
pub(crate) fn random_unit() -> f64 {
    let bits = getrandom::u64().unwrap_or(0) >> 11;
    // 53 random bits fit an f64 mantissa exactly.
    #[expect(clippy::cast_precision_loss, reason = "53-bit values are exact in f64")]
    let unit = bits as f64 / (1u64 << 53) as f64;
    unit
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn response(status: u16, retry_after: Option<Duration>) -> AttemptResult {
        let success = (200..300).contains(&status);
        AttemptResult {
            status: Some(status),
            error_class: (!success).then_some(ErrorClass::Http),
            error_message: (!success).then(|| format!("HTTP {status}")),
            response_headers: Some("{}".to_owned()),
            response_excerpt: Vec::new(),
            retry_after,
            duration: Duration::from_millis(5),
        }
    }

    fn no_response(class: ErrorClass) -> AttemptResult {
        AttemptResult {
            status: None,
            error_class: Some(class),
            error_message: Some(class.to_string()),
            response_headers: None,
            response_excerpt: Vec::new(),
            retry_after: None,
            duration: Duration::from_millis(5),
        }
    }

    fn retry_delay(next: Next) -> Duration {
        match next {
            Next::Retry(delay) => delay,
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    #[test]
    fn success_is_delivered_whatever_the_attempt() {
        let schedule = RetrySchedule::default();
        for status in [200, 201, 204, 299] {
            for attempts_made in [1, 8, 9] {
                assert_eq!(
                    next_state(&schedule, attempts_made, &response(status, None), 0.5),
                    Next::Delivered,
                    "{status} after {attempts_made} attempts"
                );
            }
        }
    }

    #[test]
    fn gone_fails_at_once_even_with_attempts_left() {
        let schedule = RetrySchedule::default();
        for attempts_made in [1, 8] {
            assert_eq!(
                next_state(&schedule, attempts_made, &response(410, None), 0.5),
                Next::Failed(FailureReason::EndpointGone)
            );
        }
    }

    #[test]
    fn a_failure_with_attempts_left_retries_on_the_jittered_schedule() {
        let schedule = RetrySchedule::default();
        // After attempt 3 the schedule says 1 800 s: ±20 % is 1 440–2 160 s.
        let result = response(500, None);
        assert_eq!(
            retry_delay(next_state(&schedule, 3, &result, 0.5)),
            secs(1_800)
        );
        assert_eq!(
            retry_delay(next_state(&schedule, 3, &result, 0.0)),
            secs(1_440)
        );
        let high = retry_delay(next_state(&schedule, 3, &result, 0.999_999));
        assert!(high > secs(2_159) && high <= secs(2_160), "{high:?}");
        for unit in [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999] {
            let delay = retry_delay(next_state(&schedule, 3, &result, unit));
            assert!(
                delay >= secs(1_440) && delay <= secs(2_160),
                "{unit}: {delay:?}"
            );
        }
        // Other non-throttling statuses (4xx, 3xx, 1xx) follow the schedule too, with no
        // one-minute floor.
        for status in [100, 301, 400, 404, 500, 501] {
            assert_eq!(
                retry_delay(next_state(
                    &schedule,
                    1,
                    &response(status, Some(secs(900))),
                    0.5
                )),
                secs(5),
                "{status}"
            );
        }
    }

    #[test]
    fn the_last_attempt_exhausts_the_delivery() {
        let schedule = RetrySchedule::default();
        let last = schedule.max_attempts();
        let failures = [
            response(500, None),
            response(429, Some(secs(10))),
            response(503, None),
            no_response(ErrorClass::Timeout),
            no_response(ErrorClass::Connection),
            no_response(ErrorClass::Dns),
            no_response(ErrorClass::BlockedTarget),
        ];
        for result in &failures {
            assert!(matches!(
                next_state(&schedule, last - 1, result, 0.5),
                Next::Retry(_)
            ));
            for attempts_made in [last, last + 1, u32::MAX] {
                assert_eq!(
                    next_state(&schedule, attempts_made, result, 0.5),
                    Next::Failed(FailureReason::AttemptsExhausted),
                    "{result:?} after {attempts_made}"
                );
            }
        }
        let single = RetrySchedule::parse("0").expect("valid schedule");
        assert_eq!(
            next_state(&single, 1, &response(500, None), 0.5),
            Next::Failed(FailureReason::AttemptsExhausted)
        );
    }

    #[test]
    fn throttling_waits_at_least_a_minute_and_honours_retry_after_within_bounds() {
        let schedule = RetrySchedule::default();
        let throttled = [
            response(429, None),
            response(502, None),
            response(503, None),
            response(504, None),
            no_response(ErrorClass::Timeout),
            no_response(ErrorClass::Dns),
            no_response(ErrorClass::BlockedTarget),
        ];
        for result in &throttled {
            // Scheduled 5 s after the first attempt: floor and ceiling are both 60 s.
            for unit in [0.0, 0.5, 0.999] {
                assert_eq!(
                    retry_delay(next_state(&schedule, 1, result, unit)),
                    secs(60),
                    "{result:?}"
                );
            }
            // Scheduled 300 s, jittered to exactly 300 s: no Retry-After keeps it.
            assert_eq!(
                retry_delay(next_state(&schedule, 2, result, 0.5)),
                secs(300)
            );
        }
        let cases = [
            // (attempts made, Retry-After, unit, expected)
            (1, Some(3_600), 0.5, 60),      // capped at max(60 s, 2 × 5 s)
            (1, Some(1), 0.5, 60),          // never sooner than a minute
            (2, Some(500), 0.5, 500),       // within [300, 600]: honoured
            (2, Some(30), 0.5, 300),        // not sooner than the schedule
            (2, Some(9_000), 0.5, 600),     // at most twice the schedule
            (2, Some(500), 0.0, 480),       // bounds follow the jittered delay: [240, 480]
            (7, Some(90_000), 0.5, 39_600), // never beyond the visibility ceiling
        ];
        for (attempts_made, retry_after, unit, expected) in cases {
            for status in [429, 503] {
                let result = response(status, retry_after.map(secs));
                assert_eq!(
                    retry_delay(next_state(&schedule, attempts_made, &result, unit)),
                    secs(expected),
                    "{status} after {attempts_made}, Retry-After {retry_after:?}, unit {unit}"
                );
            }
        }
    }

    #[test]
    fn a_connection_error_follows_the_schedule_without_the_throttle_floor() {
        let schedule = RetrySchedule::default();
        let result = no_response(ErrorClass::Connection);
        assert_eq!(retry_delay(next_state(&schedule, 1, &result, 0.5)), secs(5));
        assert_eq!(retry_delay(next_state(&schedule, 1, &result, 0.0)), secs(4));
        assert_eq!(
            retry_delay(next_state(&schedule, 4, &result, 0.5)),
            secs(7_200)
        );
    }

    #[test]
    fn random_unit_is_in_the_unit_interval() {
        for _ in 0..1_000 {
            let unit = random_unit();
            assert!((0.0..1.0).contains(&unit), "{unit}");
        }
    }
}
