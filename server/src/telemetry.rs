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
///
/// The b3 ids are the caller's to send, so they are used only when they are what B3 says (hex,
/// 16 or 32 characters for the trace, 16 for the span); anything else gets a fresh id, so no
/// one can forge log lines or fill them through these headers. The path is logged escaped and cut
/// at 256 characters.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let trace_id = header("x-b3-traceid")
        .filter(|id| is_hex_of_len(id, &[16, 32]))
        .map(str::to_owned)
        .unwrap_or_else(|| fresh_hex(32));
    let span_id = header("x-b3-spanid")
        .filter(|id| is_hex_of_len(id, &[16]))
        .map(str::to_owned)
        .unwrap_or_else(|| fresh_hex(16));
    let path: String = request.uri().path().chars().take(256).collect();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = path.as_str(),
        trace_id = %trace_id,
        span_id = %span_id,
        // Filled in once the FIT is verified.
        installation = tracing::field::Empty,
        principal = tracing::field::Empty,
    )
}

fn is_hex_of_len(id: &str, lengths: &[usize]) -> bool {
    lengths.contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `len` lowercase hex digits, random.
fn fresh_hex(len: usize) -> String {
    let mut hex = uuid::Uuid::new_v4().simple().to_string();
    hex.truncate(len);
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_b3_ids_are_kept() {
        assert!(is_hex_of_len("80f198ee56343ba864fe8b2a57d3eff7", &[16, 32]));
        assert!(is_hex_of_len("e457b5a2e4d86bd1", &[16, 32]));
        for bad in [
            "",
            "xyz",
            "80f198ee56343ba8\n64fe8b2a57d3eff",
            "e457b5a2e4d86bd",
            "e457b5a2e4d86bd1e457",
        ] {
            assert!(!is_hex_of_len(bad, &[16, 32]), "{bad:?}");
        }
        assert_eq!(fresh_hex(32).len(), 32);
        assert!(is_hex_of_len(&fresh_hex(16), &[16]));
    }
}
