//! Logging: `tracing` to stdout, filtered by `RUST_LOG`, with one span per request that
//! carries Forge's trace ids (`x-b3-traceid`, `x-b3-spanid`).
//!
//! Forge removed its own remote-request logs (CHANGE-2979), so these ids are the only way to
//! match a remote log line to an invocation Atlassian support can see.

use axum::http::Request;
use tracing::Span;
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

/// Installs the global subscriber once; later calls are no-ops (tests call it repeatedly).
/// `LOG_FORMAT=json` switches to one JSON object per line for log shippers.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v == "json");
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json {
        registry
            .with(fmt::layer().json().with_current_span(true))
            .try_init()
    } else {
        registry.with(fmt::layer().with_target(false)).try_init()
    };
}

/// The span every request runs in. Only ids and the route go in: headers can hold tokens.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        trace_id = %header("x-b3-traceid"),
        span_id = %header("x-b3-spanid"),
        // Filled in once the FIT is verified.
        installation = tracing::field::Empty,
        principal = tracing::field::Empty,
    )
}
