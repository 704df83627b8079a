//! What every process of Mechanica order webhooks shares, and nothing about orders or
//! deliveries: configuration common to every binary ([`config`]), the database pool and the
//! lock-conflict retry ([`database`]), logging ([`telemetry`]), the TLS provider ([`tls`]),
//! shutdown ([`shutdown_signal`]), how in-process loops wait for work ([`pacing`]) and the SQS
//! client ([`sqs`]).

pub mod config;
pub mod database;
pub mod pacing;
pub mod sqs;
pub mod telemetry;
pub mod tls;

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
