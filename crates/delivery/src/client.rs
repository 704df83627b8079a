//! The outbound HTTP client: one attempt of one delivery, SSRF-safe.
//!
//! Every send resolves the target host through [`TargetGuard`], refuses it if any address is in
//! a blocked class (`domain::target`), and connects only to the vetted addresses: the guard *is*
//! reqwest's resolver, so there is no second lookup a DNS change could slip through. Literal IP
//! hosts bypass resolvers, so they are checked before the request is built. Redirects are never
//! followed and proxies from the environment are ignored.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::headers::CustomHeaders;
use domain::retry::parse_retry_after;
use domain::state::ErrorClass;
use domain::target::{AddressPolicy, BlockedReason, WebhookUrl};
use futures::future::BoxFuture;

/// How many bytes of a response body are kept in the attempt log.
pub const RESPONSE_EXCERPT_LIMIT: usize = 20 * 1024;

/// The longest a host name lookup may take: a resolver that does not answer by then counts as
/// one where the name does not resolve, so that neither a registration nor an attempt waits on
/// it (the system resolver retries for 10 s and more).
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// Resolves host names; the system resolver in production, a fixed table in tests.
pub trait HostLookup: Send + Sync + 'static {
    /// Every address `host` resolves to.
    fn lookup(&self, host: String) -> BoxFuture<'static, io::Result<Vec<IpAddr>>>;
}

/// The operating system's resolver.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl HostLookup for SystemLookup {
    fn lookup(&self, host: String) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// A fixed host table, for tests that need names resolving to chosen addresses.
#[derive(Debug, Clone, Default)]
pub struct StaticLookup(pub HashMap<String, Vec<IpAddr>>);

impl HostLookup for StaticLookup {
    fn lookup(&self, host: String) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        let found = self.0.get(&host).cloned();
        Box::pin(async move {
            found.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "host not found"))
        })
    }
}

/// Why a target was refused before any connection was made.
#[derive(Debug, thiserror::Error)]
pub enum TargetRefused {
    /// An address of the target is in a blocked class.
    #[error(transparent)]
    Blocked(#[from] BlockedReason),
    /// The host name did not resolve.
    #[error("the host name did not resolve: {0}")]
    Dns(String),
}

/// Resolves targets and refuses any that reach a blocked address.
#[derive(Clone)]
pub struct TargetGuard {
    policy: AddressPolicy,
    lookup: Arc<dyn HostLookup>,
    lookup_timeout: Duration,
}

impl std::fmt::Debug for TargetGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetGuard")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl TargetGuard {
    /// A guard applying `policy` to what `lookup` resolves within [`LOOKUP_TIMEOUT`].
    pub fn new(policy: AddressPolicy, lookup: Arc<dyn HostLookup>) -> Self {
        Self {
            policy,
            lookup,
            lookup_timeout: LOOKUP_TIMEOUT,
        }
    }

    /// The same guard, giving up on a lookup after `timeout`.
    #[must_use]
    pub fn with_lookup_timeout(mut self, timeout: Duration) -> Self {
        self.lookup_timeout = timeout;
        self
    }

    /// A guard on the system resolver.
    pub fn system(allow_loopback: bool) -> Self {
        Self::new(AddressPolicy { allow_loopback }, Arc::new(SystemLookup))
    }

    /// Resolves `host` and vets every address; all must be allowed.
    pub async fn vet_host(&self, host: &str) -> Result<Vec<IpAddr>, TargetRefused> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            self.policy.check(ip)?;
            return Ok(vec![ip]);
        }
        let addrs = tokio::time::timeout(self.lookup_timeout, self.lookup.lookup(host.to_owned()))
            .await
            .map_err(|_| {
                TargetRefused::Dns(format!(
                    "no answer within {} ms",
                    self.lookup_timeout.as_millis()
                ))
            })?
            .map_err(|e| TargetRefused::Dns(e.to_string()))?;
        if addrs.is_empty() {
            return Err(TargetRefused::Dns("no addresses".into()));
        }
        for ip in &addrs {
            self.policy.check(*ip)?;
        }
        Ok(addrs)
    }

    /// Vets the host of `url` (at registration, and before every send).
    pub async fn vet(&self, url: &WebhookUrl) -> Result<Vec<IpAddr>, TargetRefused> {
        let host = url.url().host_str().unwrap_or_default().to_owned();
        self.vet_host(&host).await
    }
}

/// reqwest's resolver: only vetted addresses ever reach the connector.
struct GuardedResolver(TargetGuard);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = guard.vet_host(&host).await?;
            let addrs: reqwest::dns::Addrs =
                Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// What one attempt observed.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// The response status, when a response arrived.
    pub status: Option<u16>,
    /// Why it failed; `None` for a 2xx response.
    pub error_class: Option<ErrorClass>,
    /// A human-readable cause of a failure.
    pub error_message: Option<String>,
    /// Response headers, sensitive ones redacted, as a JSON object.
    pub response_headers: Option<String>,
    /// The first [`RESPONSE_EXCERPT_LIMIT`] bytes of the response body.
    pub response_excerpt: Vec<u8>,
    /// `Retry-After` of the response, if any.
    pub retry_after: Option<Duration>,
    /// How long the attempt took.
    pub duration: Duration,
}

impl AttemptResult {
    pub(crate) fn failure(class: ErrorClass, message: String, duration: Duration) -> Self {
        Self {
            status: None,
            error_class: Some(class),
            error_message: Some(message),
            response_headers: None,
            response_excerpt: Vec::new(),
            retry_after: None,
            duration,
        }
    }

    /// Whether the receiver accepted the delivery.
    pub fn is_success(&self) -> bool {
        self.error_class.is_none()
    }
}

const REDACTED_HEADERS: [&str; 5] = [
    "set-cookie",
    "authorization",
    "proxy-authenticate",
    "www-authenticate",
    "cookie",
];

/// Sends webhook requests.
#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    guard: TargetGuard,
}

impl WebhookClient {
    /// A client with the given limits that only reaches targets `guard` allows.
    pub fn new(
        guard: TargetGuard,
        timeout: Duration,
        connect_timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        platform::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(crate::USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .dns_resolver(Arc::new(GuardedResolver(guard.clone())))
            .build()?;
        Ok(Self { http, guard })
    }

    /// POSTs `body` to `url` with the endpoint's `custom` headers and the attempt's `headers`,
    /// and reports what happened. Never fails: every outcome is an [`AttemptResult`] for the
    /// log.
    pub async fn post(
        &self,
        url: &WebhookUrl,
        custom: &CustomHeaders,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) -> AttemptResult {
        let started = Instant::now();
        // Literal addresses never reach the resolver, so vet them here.
        if let Some(host) = url.url().host_str()
            && host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok()
            && let Err(refused) = self.guard.vet_host(host).await
        {
            return refused_result(&refused, started.elapsed());
        }
        let mut request = self
            .http
            .post(url.url().clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        // Their names never collide with the attempt's (domain::headers refuses those).
        for (name, value) in custom {
            request = request.header(name, value);
        }
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let mut response = match request.body(body).send().await {
            Ok(response) => response,
            Err(e) => return transport_failure(&e, started.elapsed()),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let response_headers = redacted_headers(response.headers());
        let mut excerpt = Vec::new();
        let mut read_error = None;
        while excerpt.len() < RESPONSE_EXCERPT_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => keep_excerpt(&mut excerpt, &chunk),
                Ok(None) => break,
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
        }
        let success = (200..300).contains(&status);
        let (error_class, error_message) = match (success, read_error) {
            // The status was received; a broken body does not undo a 2xx.
            (true, _) => (None, None),
            (false, Some(e)) if e.is_timeout() => (
                Some(ErrorClass::Timeout),
                Some(format!("HTTP {status}; body: {e}")),
            ),
            (false, _) => (Some(ErrorClass::Http), Some(format!("HTTP {status}"))),
        };
        AttemptResult {
            status: Some(status),
            error_class,
            error_message,
            response_headers: Some(response_headers),
            response_excerpt: excerpt,
            retry_after,
            duration: started.elapsed(),
        }
    }
}

/// Appends what fits of `chunk` to `excerpt`, which never grows past
/// [`RESPONSE_EXCERPT_LIMIT`] bytes.
fn keep_excerpt(excerpt: &mut Vec<u8>, chunk: &[u8]) {
    let room = RESPONSE_EXCERPT_LIMIT.saturating_sub(excerpt.len());
    excerpt.extend_from_slice(&chunk[..chunk.len().min(room)]);
}

fn refused_result(refused: &TargetRefused, duration: Duration) -> AttemptResult {
    let class = match refused {
        TargetRefused::Blocked(_) => ErrorClass::BlockedTarget,
        TargetRefused::Dns(_) => ErrorClass::Dns,
    };
    AttemptResult::failure(class, refused.to_string(), duration)
}

fn transport_failure(error: &reqwest::Error, duration: Duration) -> AttemptResult {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<TargetRefused>() {
            return refused_result(refused, duration);
        }
        source = cause.source();
    }
    let class = if error.is_timeout() {
        ErrorClass::Timeout
    } else {
        ErrorClass::Connection
    };
    AttemptResult::failure(class, error_chain(error), duration)
}

fn error_chain(error: &dyn StdError) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

fn redacted_headers(headers: &reqwest::header::HeaderMap) -> String {
    let map: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .take(50)
        .map(|(name, value)| {
            let value = if REDACTED_HEADERS.contains(&name.as_str()) {
                "[redacted]".to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes())
                    .chars()
                    .take(512)
                    .collect()
            };
            (name.as_str().to_owned(), serde_json::Value::String(value))
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
    use serde_json::{Map, Value};

    use super::*;

    fn header_map(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("valid header name"),
                HeaderValue::from_bytes(value).expect("valid header value"),
            );
        }
        headers
    }

    fn stored(headers: &HeaderMap) -> Map<String, Value> {
        serde_json::from_str(&redacted_headers(headers)).expect("a JSON object")
    }

    fn value<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
        map.get(name).and_then(Value::as_str)
    }

    #[test]
    fn sensitive_headers_are_redacted_whatever_their_case() {
        let headers = header_map(&[
            ("Set-Cookie", b"session=abc; HttpOnly"),
            ("AUTHORIZATION", b"Bearer secret"),
            ("cookie", b"a=b"),
            ("WWW-Authenticate", b"Basic realm=\"x\""),
            ("Proxy-Authenticate", b"Basic realm=\"proxy\""),
            ("Content-Type", b"application/json"),
            ("X-Request-Id", b"req-1"),
        ]);
        let map = stored(&headers);
        for name in REDACTED_HEADERS {
            assert_eq!(value(&map, name), Some("[redacted]"), "{name}");
        }
        // Names are stored lowercase; other values are kept as sent.
        assert_eq!(value(&map, "content-type"), Some("application/json"));
        assert_eq!(value(&map, "x-request-id"), Some("req-1"));
        assert_eq!(map.len(), 7);
        let json = redacted_headers(&headers);
        for secret in ["abc", "secret", "a=b", "realm"] {
            assert!(!json.contains(secret), "{secret} leaked into {json}");
        }
    }

    #[test]
    fn multi_valued_headers_keep_one_entry() {
        let headers = header_map(&[
            ("set-cookie", b"first=1"),
            ("set-cookie", b"second=2"),
            ("x-multi", b"a"),
            ("x-multi", b"b"),
        ]);
        let map = stored(&headers);
        assert_eq!(map.len(), 2);
        assert_eq!(value(&map, "set-cookie"), Some("[redacted]"));
        // One JSON key per name: the last value wins and the earlier ones are dropped.
        assert_eq!(value(&map, "x-multi"), Some("b"));
    }

    #[test]
    fn stored_headers_are_bounded() {
        let long = "v".repeat(2_000);
        let headers = header_map(&[("x-long", long.as_bytes()), ("x-binary", b"ok \xff end")]);
        let map = stored(&headers);
        assert_eq!(value(&map, "x-long"), Some("v".repeat(512).as_str()));
        assert_eq!(value(&map, "x-binary"), Some("ok \u{fffd} end"));

        let many: Vec<(String, Vec<u8>)> = (0..60)
            .map(|i| (format!("x-header-{i:02}"), b"v".to_vec()))
            .collect();
        let pairs: Vec<(&str, &[u8])> = many
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_slice()))
            .collect();
        assert_eq!(stored(&header_map(&pairs)).len(), 50);

        assert_eq!(redacted_headers(&HeaderMap::new()), "{}");
    }

    #[test]
    fn the_excerpt_keeps_the_first_bytes_up_to_the_limit() {
        let mut excerpt = Vec::new();
        keep_excerpt(&mut excerpt, b"hello ");
        keep_excerpt(&mut excerpt, b"");
        keep_excerpt(&mut excerpt, b"world");
        assert_eq!(excerpt, b"hello world");

        let mut excerpt = vec![b'a'; RESPONSE_EXCERPT_LIMIT - 3];
        keep_excerpt(&mut excerpt, b"bcdef");
        assert_eq!(excerpt.len(), RESPONSE_EXCERPT_LIMIT);
        assert!(excerpt.ends_with(b"abcd"));
        keep_excerpt(&mut excerpt, b"more");
        assert_eq!(excerpt.len(), RESPONSE_EXCERPT_LIMIT);

        let mut excerpt = Vec::new();
        keep_excerpt(&mut excerpt, &vec![7; RESPONSE_EXCERPT_LIMIT * 2]);
        assert_eq!(excerpt.len(), RESPONSE_EXCERPT_LIMIT);
    }

    #[test]
    fn refusals_are_classified() {
        let ip: IpAddr = "10.0.0.1".parse().expect("an address");
        let blocked = refused_result(
            &TargetRefused::Blocked(BlockedReason::Private(ip)),
            Duration::from_millis(3),
        );
        assert_eq!(blocked.status, None);
        assert_eq!(blocked.error_class, Some(ErrorClass::BlockedTarget));
        assert_eq!(
            blocked.error_message.as_deref(),
            Some("address 10.0.0.1 is in a private range")
        );
        assert_eq!(blocked.duration, Duration::from_millis(3));
        assert!(!blocked.is_success());

        let dns = refused_result(&TargetRefused::Dns("host not found".into()), Duration::ZERO);
        assert_eq!(dns.error_class, Some(ErrorClass::Dns));
        assert_eq!(
            dns.error_message.as_deref(),
            Some("the host name did not resolve: host not found")
        );
    }

    #[test]
    fn error_chain_joins_every_cause() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] io::Error);
        let inner = io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(error_chain(&Outer(inner)), "outer: refused");
        assert_eq!(error_chain(&io::Error::other("alone")), "alone");
    }
}
