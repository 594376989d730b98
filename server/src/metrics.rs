//! Prometheus metrics on their own listener (`METRICS_ADDR`), never on the public port.
//!
//! Names and labels follow OpenTelemetry's semantic conventions where one applies, as the
//! OpenTelemetry-to-Prometheus mapping writes them (dots to underscores, unit suffix):
//!
//! - `http_server_request_duration_seconds{http_request_method, http_route,
//!   http_response_status_code}`: histogram of every request the public port answers, the
//!   route as its template (`/tasks`), never the raw path; `http_route` is absent when no route
//!   matched;
//! - `db_client_connection_count{db_client_connection_state="used"|"idle"}`: the pool;
//! - `forge_fit_verifications_total{result, reason}`, `forge_jwks_fetches_total{result}`,
//!   `forge_fit_cache_lookups_total{result="hit"|"miss"}`;
//! - `rate_limit_refusals_total`, `jira_requests_total{http_request_method, result}` and
//!   `jira_request_duration_seconds`;
//! - `outbox_rows` and `outbox_oldest_age_seconds`: what waits to be written to Jira;
//! - Prometheus's standard process metrics (`process_cpu_seconds_total`,
//!   `process_resident_memory_bytes`, `process_open_fds`, `process_max_fds`, `process_threads`,
//!   `process_start_time_seconds`, …), from the `metrics-process` crate.
//!
//! The gauges and the cache counters are read when Prometheus scrapes, not kept up to date
//! on the hot path. Without `METRICS_ADDR` no recorder is installed, the `metrics` macros do
//! nothing and the request layer is not added.

use std::{net::SocketAddr, sync::OnceLock, time::Duration};

use axum::{
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::startup::AppState;

pub const REQUEST_DURATION: &str = "http_server_request_duration_seconds";

/// OpenTelemetry's recommended buckets for HTTP durations, with three finer ones below 5 ms:
/// most answers here take well under a millisecond.
const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
    7.5, 10.0,
];

/// The process-wide recorder, installed on first use. One per process (the `metrics` facade
/// has one global recorder), so every application in a test process shares it.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), DURATION_BUCKETS)
            .expect("the buckets are not empty")
            .install_recorder()
            .expect("no other metrics recorder is installed");
        process().describe();
        // Histograms keep their samples until upkeep folds them in; Prometheus scrapes every
        // 15 s or so, which is no reason to hold them that long.
        let upkeep = handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        });
        handle
    })
}

/// Middleware over the whole public router: one duration sample per request, labelled with
/// the route the router matched ([`remember_route`] hands it out).
pub async fn record_request(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let elapsed = started.elapsed().as_secs_f64();
    match response.extensions().get::<MatchedPath>() {
        Some(route) => metrics::histogram!(
            REQUEST_DURATION,
            "http_request_method" => method,
            "http_route" => crate::routes::template(route).to_owned(),
            "http_response_status_code" => status,
        )
        .record(elapsed),
        None => metrics::histogram!(
            REQUEST_DURATION,
            "http_request_method" => method,
            "http_response_status_code" => status,
        )
        .record(elapsed),
    }
    response
}

/// A route layer: copies the matched route template into the response, where
/// [`record_request`], which runs before routing, can read it.
pub async fn remember_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

/// OpenTelemetry's rule: a method outside the standard set is `_OTHER`, so a client cannot
/// grow the label's values.
fn method_label(method: &http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "CONNECT" => "CONNECT",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "PATCH" => "PATCH",
        _ => "_OTHER",
    }
}

/// Serves `GET /metrics` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, state: AppState) {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(state);
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "the metrics listener failed");
    }
}

/// The process metrics' collector: it reads `/proc/self` when asked, at each scrape.
fn process() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(metrics_process::Collector::default)
}

/// Binds `addr` for [`serve`]; an error names the variable.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("METRICS_ADDR {addr}: {e}"))
}

/// Reads the gauges, then renders everything in Prometheus's text format.
async fn scrape(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.services.db.pool();
    let (size, idle) = (pool.size(), pool.num_idle() as u32);
    metrics::gauge!("db_client_connection_count", "db_client_connection_state" => "used")
        .set(size.saturating_sub(idle) as f64);
    metrics::gauge!("db_client_connection_count", "db_client_connection_state" => "idle")
        .set(idle as f64);
    let cache = state.fit.cache_stats();
    metrics::counter!("forge_fit_cache_lookups_total", "result" => "hit").absolute(cache.hits);
    metrics::counter!("forge_fit_cache_lookups_total", "result" => "miss").absolute(cache.misses);
    match state.services.db.outbox_depth().await {
        Ok(depth) => {
            metrics::gauge!("outbox_rows").set(depth.rows as f64);
            metrics::gauge!("outbox_oldest_age_seconds").set(depth.oldest_ms as f64 / 1000.0);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not read the outbox depth"),
    }
    process().collect();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        recorder().render(),
    )
}
