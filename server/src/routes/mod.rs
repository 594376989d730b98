//! HTTP handlers. Each module exposes a `router()`; `startup` merges them.

use axum::Router;

use crate::startup::AppState;

/// The app's server functions (`app::functions`), served by leptos_axum.
pub mod functions;
/// `GET /healthz`: liveness, the only route without a FIT.
pub mod health;

/// Every route that requires a verified FIT. `startup` puts the FIT layer over all of them, so
/// a route added here is protected without further wiring.
pub fn api_router() -> Router<AppState> {
    functions::router()
}
