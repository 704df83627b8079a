//! Serves the customer portal (the single-page app built from `web/`) at `/portal/`.
//!
//! In production the portal is served from S3 behind CloudFront (`infra/modules/portal`); this
//! serves the same build locally and wherever `PORTAL_DIR` is set, with the same headers:
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

/// Checks a `frame-ancestors` source list: sources separated by spaces, none of which could end
/// the directive or the header (`;`, `,`, quotes other than keywords', control characters).
pub fn parse_frame_ancestors(value: &str) -> anyhow::Result<String> {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    anyhow::ensure!(
        !value.is_empty(),
        "PORTAL_FRAME_ANCESTORS is empty: use 'none' to forbid framing"
    );
    for source in value.split(' ') {
        let keyword = matches!(source, "'none'" | "'self'");
        let host_source =
            !source.contains(['\'', ';', ',', '"']) && source.bytes().all(|b| b.is_ascii_graphic());
        anyhow::ensure!(
            keyword || host_source,
            "PORTAL_FRAME_ANCESTORS: {source:?} is not 'none', 'self' or a host source"
        );
    }
    Ok(value)
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
    Ok(Router::new()
        .nest_service(&format!("{PATH}/assets"), assets)
        .nest_service(PATH, pages)
        .layer(header_layer(
            header::CONTENT_SECURITY_POLICY,
            &content_security_policy(frame_ancestors),
        )?)
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff")?)
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer")?))
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
