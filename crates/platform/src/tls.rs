//! TLS for every outbound HTTPS client: rustls on the ring crypto provider.
//!
//! reqwest is built without a provider of its own (`rustls-no-provider`) and takes the process's
//! default one, so [`install_crypto_provider`] runs before any reqwest client is built (the
//! constructors in this workspace call it). The AWS SDK's client is built on ring explicitly by
//! [`aws_http_client`]; sqlx picks ring through its `tls-rustls-ring-webpki` feature.

/// Makes ring the process's default rustls crypto provider. Cheap and idempotent: a provider
/// already installed (by an earlier call, or by a program embedding this crate) stays.
pub fn install_crypto_provider() {
    // `Err` only says that a default provider is installed already, which is the goal.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The AWS SDK's HTTPS client: hyper on rustls with ring, trusting the system's roots.
pub fn aws_http_client() -> aws_sdk_sqs::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
