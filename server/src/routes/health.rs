//! Liveness. Unauthenticated by design: load balancers carry no Forge token.

use app::{api::Health, functions::HEALTHZ};
use axum::{routing::get, Json, Router};

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(HEALTHZ, get(healthz))
}

async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}
