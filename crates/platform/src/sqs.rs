//! The SQS client every SQS-facing process builds the same way.

/// An SQS client from the environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials chain),
/// on the workspace's rustls-with-ring HTTPS client.
pub async fn client() -> aws_sdk_sqs::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(crate::tls::aws_http_client())
        .load()
        .await;
    aws_sdk_sqs::Client::new(&config)
}
