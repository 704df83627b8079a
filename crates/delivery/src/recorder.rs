//! Group commit of attempt records.
//!
//! Attempts finish one by one but are written together: whatever records are waiting when the
//! writer becomes free, and those that arrive within the recorder's linger of the first, go into
//! one transaction ([`store::record_attempts`]); the commits, round trips and statements per
//! attempt fall with the batch size. Without a linger a light load writes one transaction per
//! attempt, as if each were written on its own. The embedded dispatcher lingers for
//! [`EMBEDDED_LINGER`], so that a light load shares its commits too (at 250 deliveries a second
//! one arrives every 4 ms), at the cost of a record landing up to that much later (the webhook
//! was already sent, and the request slot freed). The SQS consumers do not linger: a Lambda
//! invocation would be billed the wait. Each attempt still
//! waits for its own record to be committed before it reports an outcome. A lock conflict (a
//! deadlock with the relay or a claim) runs the same transaction again
//! ([`database::retry_lock_conflicts`]). A batch the server refuses otherwise (a row it rejects)
//! is written again record by record, so that one bad row cannot fail the others; any other
//! failure (a lost connection) is retried once for the whole batch. Retrying is safe: a batch
//! whose commit did land finds its leases released and writes nothing the second time.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::MySqlPool;
use tokio::sync::{mpsc, oneshot};

use crate::health::Tracking;
use crate::store::{self, AttemptRecord};
use platform::database;

/// The most records written in one transaction.
pub const MAX_BATCH: usize = 32;
/// How long the embedded dispatcher's batches wait for more records after their first, unless
/// they are full.
pub const EMBEDDED_LINGER: Duration = Duration::from_millis(20);

struct Entry {
    record: AttemptRecord,
    reply: oneshot::Sender<Result<bool, RecordError>>,
}

/// Why a record got no answer.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The statement or the connection failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// The batch it was part of could not be written (the database could not be reached).
    #[error("the batch of attempt records failed: {0}")]
    Batch(String),
    /// The writer stopped before answering (its runtime is shutting down).
    #[error("the attempt writer stopped before the record was written")]
    WriterStopped,
}

/// Hands attempt records to a writer task, started on first use on the caller's runtime and
/// ended when the last clone is dropped.
#[derive(Clone)]
pub struct Recorder {
    pool: MySqlPool,
    tracking: Arc<Tracking>,
    sender: Arc<OnceLock<mpsc::Sender<Entry>>>,
    linger: Duration,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("started", &self.sender.get().is_some())
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder writing through `pool`, each batch whatever is waiting, keeping endpoint
    /// health by `tracking`.
    pub fn new(pool: MySqlPool, tracking: Tracking) -> Self {
        Self::lingering(pool, tracking, Duration::ZERO)
    }

    /// A recorder writing through `pool`, each batch waiting up to `linger` after its first
    /// record for more.
    pub fn lingering(pool: MySqlPool, tracking: Tracking, linger: Duration) -> Self {
        Self {
            pool,
            tracking: Arc::new(tracking),
            sender: Arc::new(OnceLock::new()),
            linger,
        }
    }

    /// Writes `record` together with whatever else is waiting. `Ok(false)`: the lease was lost
    /// and nothing was written.
    pub async fn record(&self, record: AttemptRecord) -> Result<bool, RecordError> {
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(MAX_BATCH * 4);
            let writer = Writer {
                pool: self.pool.clone(),
                tracking: Arc::clone(&self.tracking),
            };
            tokio::spawn(writer.run(receiver, self.linger));
            sender
        });
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError(entry)) = sender.send(Entry { record, reply }).await {
            // The writer has gone with its runtime: write this record here.
            let writer = Writer {
                pool: self.pool.clone(),
                tracking: Arc::clone(&self.tracking),
            };
            return Ok(writer.write_one(&entry.record).await?);
        }
        answer.await.map_err(|_| RecordError::WriterStopped)?
    }
}

/// Writes batches of records through `pool`.
struct Writer {
    pool: MySqlPool,
    tracking: Arc<Tracking>,
}

impl Writer {
    /// The writer: one transaction per batch of waiting records.
    async fn run(self, mut receiver: mpsc::Receiver<Entry>, linger: Duration) {
        let mut entries = Vec::with_capacity(MAX_BATCH);
        while receiver.recv_many(&mut entries, MAX_BATCH).await > 0 {
            let deadline = tokio::time::Instant::now() + linger;
            while !linger.is_zero() && entries.len() < MAX_BATCH {
                let room = MAX_BATCH - entries.len();
                match tokio::time::timeout_at(deadline, receiver.recv_many(&mut entries, room))
                    .await
                {
                    Ok(received) if received > 0 => {}
                    // The deadline passed, or every sender is gone.
                    _ => break,
                }
            }
            let (records, replies): (Vec<_>, Vec<_>) =
                entries.drain(..).map(|e| (e.record, e.reply)).unzip();
            #[expect(clippy::cast_precision_loss, reason = "batches are at most MAX_BATCH")]
            metrics::histogram!("attempt_record_batch_size").record(records.len() as f64);
            let mut result = self.write_batch(&records).await;
            if let Err(error) = &result
                && !matches!(error, sqlx::Error::Database(_))
            {
                tracing::warn!(%error, records = records.len(), "writing a batch of attempts failed; retrying it once");
                result = self.write_batch(&records).await;
            }
            match result {
                Ok(written) => {
                    for (reply, written) in replies.into_iter().zip(written) {
                        // A caller that gave up waiting no longer needs the answer.
                        let _ = reply.send(Ok(written));
                    }
                }
                Err(error) if records.len() == 1 => {
                    if let Some(reply) = replies.into_iter().next() {
                        let _ = reply.send(Err(error.into()));
                    }
                }
                Err(error @ sqlx::Error::Database(_)) => {
                    tracing::warn!(%error, records = records.len(), "the server refused a batch of attempts; writing them one by one");
                    for (record, reply) in records.iter().zip(replies) {
                        let _ = reply.send(self.write_one(record).await.map_err(Into::into));
                    }
                }
                Err(error) => {
                    let message = error.to_string();
                    for reply in replies {
                        let _ = reply.send(Err(RecordError::Batch(message.clone())));
                    }
                }
            }
        }
    }

    /// Writes `records` in one transaction, again if the server rolls it back for a lock conflict,
    /// and hands on the deliveries of the operational events it wrote.
    async fn write_batch(&self, records: &[AttemptRecord]) -> sqlx::Result<Vec<bool>> {
        let recorded = database::retry_lock_conflicts(|| {
            store::record_attempts(&self.pool, records, &self.tracking)
        })
        .await?;
        for inserted in recorded.inserted {
            self.tracking.handoff.committed(inserted);
        }
        Ok(recorded.written)
    }

    async fn write_one(&self, record: &AttemptRecord) -> sqlx::Result<bool> {
        Ok(self
            .write_batch(std::slice::from_ref(record))
            .await?
            .first()
            .copied()
            .unwrap_or(false))
    }
}
