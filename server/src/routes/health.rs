//! Liveness and readiness. Unauthenticated by design: load balancers carry no Forge token. Each
//! says up or down and nothing else: why a replica is not ready is in its logs.

use std::time::Duration;

use app::{
    api::Health,
    functions::{HEALTHZ, READYZ},
};
use axum::{extract::State, http::StatusCode, routing::get, Json, Router};
use serde_json::{json, Value};

use crate::startup::AppState;

/// A database slower than this counts as down: the probe must answer within a balancer's
/// check timeout (HAProxy's recipe in README allows 2 s).
const DATABASE_PROBE_TIMEOUT: Duration = Duration::from_secs(1);

pub fn router() -> Router<AppState> {
    Router::new()
        .route(HEALTHZ, get(healthz))
        .route(READYZ, get(readyz))
}

/// Alive: the process answers. Says nothing of the database, so an orchestrator does not
/// restart every replica when the database is down.
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Ready for traffic: not shutting down, and the database answers, or cannot answer this probe
/// in time only because every pooled connection is busy with requests.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let ready = !state.draining.is_draining()
        && match tokio::time::timeout(DATABASE_PROBE_TIMEOUT, state.services.db.ping()).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "not ready: the database refused a query");
                false
            }
            // Busy is not down: taking every replica out of rotation when the load peaks would
            // turn a slow minute into an outage.
            Err(_) if state.services.db.is_saturated() => true,
            Err(_) => {
                tracing::warn!(
                    timeout_ms = DATABASE_PROBE_TIMEOUT.as_millis() as u64,
                    "not ready: the database did not answer in time"
                );
                false
            }
        };
    if ready {
        (StatusCode::OK, Json(json!({ "status": "ready" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready" })),
        )
    }
}
