//! `/readyz`: what a load balancer checks. No token, and nothing in the answer but up or down.

use axum::{body::Body, Router};
use http::Request;
use reqwest::StatusCode;
use server::{configuration::Settings, db::Database, startup};
use tower::ServiceExt as _;

use crate::helpers::{fresh_database_url, spawn_app, APP_ID, TOKEN_KEY};

#[tokio::test]
async fn readyz_says_ready_without_a_token_and_nothing_more() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response
        .headers()
        .get("connection")
        .is_none_or(|v| v != "close"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "status": "ready" }));
}

type InProcess = (
    startup::AppState,
    Database,
    Router,
    Option<tempfile::TempDir>,
);

/// The router alone, driven in-process, over a fresh database: nothing listens at the JWKS
/// URL, and nothing here needs a key. The directory keeps a SQLite file alive.
async fn in_process() -> InProcess {
    in_process_with(None).await
}

/// [`in_process`], with a pool of at most `max_connections`.
async fn in_process_with(max_connections: Option<u32>) -> InProcess {
    let settings = Settings::from_lookup(|name| match name {
        "FORGE_APP_ID" => Some(APP_ID.into()),
        "FORGE_JWKS_URL" => Some("http://127.0.0.1:9/jwks.json".into()),
        "TOKEN_ENCRYPTION_KEY" => Some(TOKEN_KEY.into()),
        _ => None,
    })
    .unwrap();
    let (url, dir) = fresh_database_url().await;
    let db = Database::connect_with(&url, max_connections).await.unwrap();
    let state = startup::AppState::new(settings, db.clone()).unwrap();
    let router = startup::router(state.clone());
    (state, db, router, dir)
}

async fn get(router: &Router, path: &str) -> axum::response::Response {
    router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap()
}

/// A closed pool: the state a replica is in when its database is gone.
#[tokio::test]
async fn readyz_is_a_503_once_the_database_stops_answering_and_healthz_stays_up() {
    let (_state, db, router, _dir) = in_process().await;
    assert_eq!(get(&router, "/readyz").await.status(), StatusCode::OK);

    db.pool().close().await;
    let response = get(&router, "/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(&body[..], br#"{"status":"not_ready"}"#);
    assert_eq!(get(&router, "/healthz").await.status(), StatusCode::OK);
}

/// Every connection busy with requests: the probe cannot get one in time, yet the database
/// answers. Ready, or a load peak would take every replica out of rotation at once.
#[tokio::test]
async fn readyz_stays_ready_when_every_pooled_connection_is_busy() {
    let (_state, db, router, _dir) = in_process_with(Some(1)).await;
    let _busy = db.pool().acquire().await.unwrap();
    assert!(db.is_saturated());
    let started = std::time::Instant::now();
    assert_eq!(get(&router, "/readyz").await.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "answered without waiting for the probe"
    );
}

/// Draining (what SIGTERM sets): not ready, and every answer asks the client to reconnect
/// elsewhere, while requests are still served.
#[tokio::test]
async fn while_draining_readyz_is_a_503_and_answers_close_their_connection() {
    let (state, _db, router, _dir) = in_process().await;
    state.draining.start();
    let ready = get(&router, "/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.headers()["connection"], "close");
    let health = get(&router, "/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.headers()["connection"], "close");
    // An API route is still served (here: refused for want of a token, as ever).
    assert_eq!(
        get(&router, "/whoami").await.status(),
        StatusCode::UNAUTHORIZED
    );
}
