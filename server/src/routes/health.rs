//! Liveness. Unauthenticated by design: load balancers carry no Forge token.

use app::{
    api::Health,
    routes::{Healthz, Operation},
};
use axum::{routing::get, Json, Router};

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(Healthz::PATH, get(healthz))
}

async fn healthz() -> Json<<Healthz as Operation>::Response> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}
