//! Logging and tracing: `tracing` to stdout, filtered by `RUST_LOG`, with one span per request
//! that carries Forge's trace ids (`x-b3-traceid`, `x-b3-spanid`); and, when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the same spans exported over OTLP.
//!
//! Forge removed its own remote-request logs (CHANGE-2979), so these ids are the only way to
//! match a remote log line to an invocation Atlassian support can see. The exported trace *is*
//! Forge's: its trace id is the `x-b3-traceid` Forge sent (a 64-bit one left-padded with zeros,
//! as B3 says), and its parent the `x-b3-spanid`, so the id support quotes finds it.
//!
//! The exporter is OpenTelemetry's batch exporter over OTLP/HTTP with protobuf; it reads the
//! standard variables (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`,
//! `OTEL_SERVICE_NAME`, `OTEL_BSP_SCHEDULE_DELAY`, …). Every request is recorded, whatever
//! sampling decision Forge's `x-b3-sampled` carries: these traces are the operator's. Which
//! spans are exported is `TRACES_FILTER` (`RUST_LOG` syntax, default `info`), apart from the
//! logs' `RUST_LOG`.

use std::sync::OnceLock;

use axum::http::Request;
use opentelemetry::{
    trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState},
    Context,
};
use opentelemetry_sdk::{trace::SdkTracerProvider, Resource};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer};

/// Set once the OTLP exporter is installed: only then do request spans get a parent context.
static EXPORTING: OnceLock<()> = OnceLock::new();

/// What [`init`] set up; [`Telemetry::shutdown`] sends the spans still buffered.
#[must_use = "call shutdown() before exiting, or the last spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops the exporter (a no-op without one). Blocks for at most the
    /// exporter's timeout, so it runs on a blocking thread.
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(e) = provider.shutdown() {
                    eprintln!("warning: the trace exporter did not flush: {e}");
                }
            })
            .await;
        }
    }
}

/// Installs the global subscriber once; later calls are no-ops (tests call it repeatedly).
/// `LOG_FORMAT=json` switches to one JSON object per line for log shippers. With
/// `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are also exported (see the module documentation).
pub fn init(default_filter: &str) -> Telemetry {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v == "json");
    let logs = if json {
        fmt::layer().json().with_current_span(true).boxed()
    } else {
        fmt::layer().with_target(false).boxed()
    };
    let provider = match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Ok(endpoint) if !endpoint.trim().is_empty() => match exporter() {
            Ok(provider) => Some(provider),
            Err(e) => {
                eprintln!("warning: OTEL_EXPORTER_OTLP_ENDPOINT is set, but no exporter: {e}");
                None
            }
        },
        _ => None,
    };
    // Filtered apart from the logs, so that RUST_LOG=warn keeps the logs quiet without
    // losing the request spans, which are at info.
    let traces = provider.as_ref().map(|provider| {
        use opentelemetry::trace::TracerProvider as _;
        let filter = std::env::var("TRACES_FILTER")
            .ok()
            .and_then(|f| EnvFilter::try_new(f).ok())
            .unwrap_or_else(|| EnvFilter::new("info"));
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("team-tasks-remote"))
            .with_filter(filter)
    });
    let installed = tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(traces)
        .try_init()
        .is_ok();
    if installed && provider.is_some() {
        let _ = EXPORTING.set(());
    }
    Telemetry {
        provider: provider.filter(|_| installed),
    }
}

fn exporter() -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .build()?;
    // OTEL_SERVICE_NAME, when set, overrides this name.
    let resource = Resource::builder()
        .with_service_name("team-tasks-remote")
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Forge's b3 ids as the remote parent of the request's span. A 64-bit trace id becomes the
/// 128-bit one B3 says it stands for (left-padded with zeros).
fn b3_parent(trace_id: &str, span_id: &str) -> Option<Context> {
    let trace_id = TraceId::from_hex(&format!("{trace_id:0>32}")).ok()?;
    let span_id = SpanId::from_hex(span_id).ok()?;
    let parent = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    parent
        .is_valid()
        .then(|| Context::new().with_remote_span_context(parent))
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
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = path.as_str(),
        trace_id = %trace_id,
        span_id = %span_id,
        // Filled in once the FIT is verified.
        installation = tracing::field::Empty,
        principal = tracing::field::Empty,
        // Only when exporting: what trace viewers show, a name ("GET /tasks" once the route is
        // known), the kind and OpenTelemetry's HTTP attributes. Left empty, the logs never
        // show them; they would only repeat what each line says already.
        "otel.name" = tracing::field::Empty,
        "otel.kind" = tracing::field::Empty,
        "otel.status_code" = tracing::field::Empty,
        "http.route" = tracing::field::Empty,
        "http.response.status_code" = tracing::field::Empty,
    );
    if exporting() {
        // Before the parent is set, while the OpenTelemetry span is not started yet: only
        // then does tracing-opentelemetry take a name and a kind from a recorded field.
        span.record("otel.name", request.method().as_str());
        span.record("otel.kind", "server");
        // The id the logs show (Forge's, or the fresh one) is the exported trace's id too.
        if let Some(parent) = b3_parent(&trace_id, &span_id) {
            let _ = span.set_parent(parent);
        }
    }
    span
}

/// Whether spans are exported (`OTEL_EXPORTER_OTLP_ENDPOINT` set and the exporter installed).
pub fn exporting() -> bool {
    EXPORTING.get().is_some()
}

/// A route layer, when exporting: names the request's span after its route template
/// (`POST /tasks`), as OpenTelemetry's HTTP conventions name server spans.
pub async fn name_span_after_route(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if let Some(route) = request.extensions().get::<axum::extract::MatchedPath>() {
        let route = crate::routes::template(route);
        let span = Span::current();
        span.record("http.route", route);
        // The OpenTelemetry span has started (its parent was set): renamed through the API, as
        // tracing-opentelemetry applies `otel.name` only to a span not started yet.
        span.context()
            .span()
            .update_name(format!("{} {route}", request.method()));
    }
    next.run(request).await
}

/// What the trace layer does with each response: the status on the span (when exporting) and
/// tower-http's usual debug line.
pub fn record_response<B>(
    response: &axum::http::Response<B>,
    latency: std::time::Duration,
    span: &Span,
) {
    let status = response.status();
    if exporting() {
        // An i64: tracing-opentelemetry exports a u64 as a string, OpenTelemetry wants an int.
        span.record("http.response.status_code", i64::from(status.as_u16()));
        if status.is_server_error() {
            span.record("otel.status_code", "ERROR");
        }
    }
    tracing::debug!(
        status = status.as_u16(),
        latency_ms = latency.as_millis() as u64,
        "finished processing request"
    );
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

    #[test]
    fn a_64_bit_b3_trace_id_is_left_padded_and_bad_ids_give_no_parent() {
        let parent = b3_parent("e457b5a2e4d86bd1", "05e3ac9a4f6e3b90").unwrap();
        let span = parent.span();
        let context = span.span_context();
        assert_eq!(
            context.trace_id().to_string(),
            "0000000000000000e457b5a2e4d86bd1"
        );
        assert_eq!(context.span_id().to_string(), "05e3ac9a4f6e3b90");
        assert!(context.is_remote() && context.is_sampled());
        assert!(b3_parent("00000000000000000000000000000000", "05e3ac9a4f6e3b90").is_none());
        assert!(b3_parent("e457b5a2e4d86bd1", "0000000000000000").is_none());
    }
}
