//! Forge's limits and JSON on every error: 413 over 500 KB, a deadline below 25 s, JSON
//! 404/405 bodies.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use server::startup::MAX_REQUEST_BODY;

use crate::helpers::{
    assert_json_error, claims, spawn_app, spawn_app_with, valid_token, JwksMode, STRANGER,
};

#[tokio::test]
async fn a_body_over_500_kb_gets_a_json_413_on_a_verified_route() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/whoami"))
        .bearer_auth(valid_token())
        .header("content-type", "application/json")
        .body(vec![b' '; MAX_REQUEST_BODY + 1])
        .send()
        .await
        .unwrap();
    let body = assert_json_error(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(body.code, "payload_too_large");
}

#[tokio::test]
async fn an_unknown_path_gets_a_json_404() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/no/such/route"))
        .bearer_auth(valid_token())
        .send()
        .await
        .unwrap();
    let body = assert_json_error(response, StatusCode::NOT_FOUND).await;
    assert_eq!(body.code, "not_found");
}

#[tokio::test]
async fn a_wrong_method_gets_a_json_405() {
    let app = spawn_app().await;
    let response = app
        .client
        .delete(app.url("/whoami"))
        .bearer_auth(valid_token())
        .send()
        .await
        .unwrap();
    let body = assert_json_error(response, StatusCode::METHOD_NOT_ALLOWED).await;
    assert_eq!(body.code, "method_not_allowed");
}

/// The only slow step in a request today is a JWKS refetch, so a slow JWKS host is an honest
/// way to hit the deadline without a test-only route.
#[tokio::test]
async fn a_request_past_the_deadline_gets_a_json_error_in_time() {
    let deadline = Duration::from_millis(300);
    let app = spawn_app_with(|s| {
        s.request_timeout = deadline;
        s.jwks_refetch_interval = Duration::ZERO;
    })
    .await;
    app.jwks.set_mode(JwksMode::Slow(Duration::from_secs(3)));

    let start = Instant::now();
    let response = app.get_whoami(&STRANGER.sign(&claims())).await;

    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    let body = assert_json_error(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body.code, "timeout");
}
