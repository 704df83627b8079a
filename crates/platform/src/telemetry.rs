//! Logging: readable in dev, JSON in production, always on stderr (stdout stays for output
//! that scripts capture, such as a newly created key).

use tracing_subscriber::EnvFilter;

use crate::config::AppEnv;

/// Installs the global subscriber; `RUST_LOG` overrides the default filter.
pub fn init(app_env: AppEnv) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests booting several applications) keeps the first.
    let _ = match app_env {
        AppEnv::Dev => builder.try_init(),
        AppEnv::Prod => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}
