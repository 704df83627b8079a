//! Serves the customer portal (the single-page app built from `web/`) at `/portal/`.
//!
//! In production the portal is served from S3 behind CloudFront (`infra/modules/portal`); this
//! serves the same build locally and wherever `PORTAL_DIR` is set, with the same headers
//! (CloudFront adds HSTS, which only means something over TLS):
//! - hashed assets (`/portal/assets/…`) are cached for a year, immutably; a missing one is 404;
//! - every other path answers `index.html` (the app routes on the client), never cached, so a
//!   new release is picked up on the next load;
//! - a strict Content-Security-Policy: only the portal's own scripts, styles and API
//!   (no inline script), and `frame-ancestors` from `PORTAL_FRAME_ANCESTORS` (default
//!   `'none'`): a customer can embed the portal only where that setting allows.

use std::path::Path;

use anyhow::Context;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower::ServiceBuilder;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use super::AppState;

/// Where the portal is served.
pub const PATH: &str = "/portal";

/// The Content-Security-Policy of the portal's pages, allowing framing by `frame_ancestors`.
pub fn content_security_policy(frame_ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors {frame_ancestors}"
    )
}

/// Checks a `frame-ancestors` source list: `'none'` alone, or any of `'self'` and HTTPS host
/// sources (`https://portal.example.com`, `https://*.example.com:8443`). Wildcards, bare schemes
/// (`https:`), plain-HTTP hosts and anything that could end the directive or the header are
/// refused: each would let pages nobody vetted frame the portal's buttons.
pub fn parse_frame_ancestors(value: &str) -> anyhow::Result<String> {
    let sources: Vec<&str> = value.split_whitespace().collect();
    anyhow::ensure!(
        !sources.is_empty(),
        "PORTAL_FRAME_ANCESTORS is empty: use 'none' to forbid framing"
    );
    if sources != ["'none'"] {
        for source in &sources {
            anyhow::ensure!(
                *source == "'self'" || is_https_host_source(source),
                "PORTAL_FRAME_ANCESTORS: {source:?} is not 'self' or an https:// host \
                 ('none' must stand alone)"
            );
        }
    }
    Ok(sources.join(" "))
}

/// `https://` + a host (optionally `*.`-prefixed, never `*` alone), an optional port and path.
fn is_https_host_source(source: &str) -> bool {
    let Some(rest) = source.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    let host = host.strip_prefix("*.").unwrap_or(host);
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && rest
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'\'' | b'"' | b';' | b','))
}

fn header_layer(
    name: HeaderName,
    value: &str,
) -> anyhow::Result<SetResponseHeaderLayer<HeaderValue>> {
    let value = HeaderValue::from_str(value).with_context(|| format!("{name}: {value:?}"))?;
    Ok(SetResponseHeaderLayer::overriding(name, value))
}

/// The portal's routes, serving the build in `dir` (which must hold `index.html`).
pub fn router(dir: &Path, frame_ancestors: &str) -> anyhow::Result<Router<AppState>> {
    let index = dir.join("index.html");
    anyhow::ensure!(
        index.is_file(),
        "PORTAL_DIR={} holds no index.html: build the portal first (`npm run build` in web/)",
        dir.display()
    );
    let assets = ServiceBuilder::new()
        .layer(header_layer(
            header::CACHE_CONTROL,
            "public, max-age=31536000, immutable",
        )?)
        .service(ServeDir::new(dir.join("assets")));
    let pages = ServiceBuilder::new()
        .layer(header_layer(header::CACHE_CONTROL, "no-cache")?)
        .service(ServeDir::new(dir).fallback(ServeFile::new(index)));
    let portal = Router::new()
        .nest_service(&format!("{PATH}/assets"), assets)
        .nest_service(PATH, pages)
        .layer(header_layer(
            header::CONTENT_SECURITY_POLICY,
            &content_security_policy(frame_ancestors),
        )?)
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff")?)
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer")?);
    // For browsers that predate `frame-ancestors`, when nobody may frame the portal.
    Ok(if frame_ancestors == "'none'" {
        portal.layer(header_layer(header::X_FRAME_OPTIONS, "DENY")?)
    } else {
        portal
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ancestors_accepts_keywords_and_hosts_only() {
        assert_eq!(
            parse_frame_ancestors("'none'").ok().as_deref(),
            Some("'none'")
        );
        assert_eq!(
            parse_frame_ancestors(" 'self'   https://*.example.com ")
                .ok()
                .as_deref(),
            Some("'self' https://*.example.com")
        );
        for bad in [
            "",
            "'none'; script-src *",
            "https://a.example, https://b.example",
            "'unsafe-inline'",
            "a\u{7f}",
        ] {
            assert!(parse_frame_ancestors(bad).is_err(), "{bad:?} accepted");
        }
    }
}
