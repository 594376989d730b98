//! HTTP handlers. Each module exposes a `router()`; `startup` merges them.

use axum::{extract::MatchedPath, Router};

use crate::startup::AppState;

/// The app's server functions (`app::functions`), served by leptos_axum.
pub mod functions;
/// `GET /healthz` and `GET /readyz`: liveness and readiness, the only routes without a FIT.
pub mod health;
/// `POST /forge/{lifecycle,uninstall,scheduled}`: Forge's lifecycle events and triggers.
pub mod lifecycle;

/// Every route that requires a verified FIT. `startup` puts the FIT layer over all of them, so
/// a route added here is protected without further wiring.
pub fn api_router(state: &AppState) -> Router<AppState> {
    // The UI's calls need an active installation; the lifecycle routes are how one becomes
    // (or stops being) active, so they are not behind that check.
    functions::router()
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            functions::admit_installation,
        ))
        .merge(lifecycle::router())
}

/// The route a request matched, as metrics and traces name it. A server function's
/// trailing-slash twin (`/tasks/`) is the same route as `/tasks`, so it is one series.
pub fn template(matched: &MatchedPath) -> &str {
    let path = matched.as_str();
    match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed,
        _ => path,
    }
}
