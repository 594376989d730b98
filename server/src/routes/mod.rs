//! HTTP handlers. Each module exposes a `router()`; `startup` merges them.

use axum::Router;

use crate::startup::AppState;

/// Extractors with JSON rejections.
pub mod extract;
/// `GET /healthz`: liveness, the only route without a FIT.
pub mod health;
/// Team Tasks: `/tasks` and the issue header.
pub mod tasks;
/// `GET /whoami`: the verified invocation.
pub mod whoami;

/// Every route that requires a verified FIT. `startup` puts the FIT layer over all of them, so
/// a route added here is protected without further wiring.
pub fn api_router() -> Router<AppState> {
    Router::new().merge(whoami::router()).merge(tasks::router())
}
