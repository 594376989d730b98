//! The `forge-fit` crate on its own, on a router of our making with its default refusals: what
//! a second Forge remote gets from it.

use std::time::Duration;

use axum::{body::Body, http::Request, routing::get, Router};
use forge_fit::{
    require_fit, ExposeSecret, Fit, FitConfig, FitError, FitVerifier, ForgeOAuth, JwksConfig,
};
use reqwest::StatusCode;
use tower::ServiceExt;

use crate::helpers::{valid_token, warm_verifier, JwksServer, APP_ID, KEY};

async fn verifier(jwks: &JwksServer) -> FitVerifier {
    warm_verifier(FitConfig {
        leeway: Duration::from_secs(5),
        ..FitConfig::new(APP_ID, JwksConfig::new(jwks.url.clone()))
    })
    .await
}

/// Answers what the handler saw: the tenant and whether each forwarded token arrived intact.
async fn handler(Fit(claims): Fit, oauth: ForgeOAuth) -> String {
    let system = oauth.system.as_ref().map(|t| t.expose_secret().to_owned());
    format!(
        "{} {:?} {}",
        claims.app.installation_id,
        system,
        oauth.user.is_none()
    )
}

/// Whether the forwarded token header is still visible to a handler reading raw headers.
async fn raw_headers(request: Request<Body>) -> String {
    request
        .headers()
        .contains_key("x-forge-oauth-system")
        .to_string()
}

fn app(verifier: FitVerifier) -> Router {
    Router::new()
        .route("/me", get(handler))
        .route("/raw", get(raw_headers))
        .route_layer(axum::middleware::from_fn_with_state(
            verifier,
            require_fit::<FitError>,
        ))
}

fn request(path: &str) -> Request<Body> {
    Request::get(path)
        .header("authorization", format!("Bearer {}", valid_token()))
        .header("x-forge-oauth-system", "secret-sys-token")
        .body(Body::empty())
        .unwrap()
}

async fn text(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn handlers_get_the_claims_and_the_forwarded_tokens_as_secrets() {
    let jwks = JwksServer::start(&[&KEY]).await;
    let response = app(verifier(&jwks).await)
        .oneshot(request("/me"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let installation = crate::helpers::claims().app.installation_id;
    assert_eq!(
        text(response).await,
        format!("{installation} Some(\"secret-sys-token\") true")
    );
}

#[tokio::test]
async fn forwarded_tokens_are_taken_out_of_the_raw_headers() {
    let jwks = JwksServer::start(&[&KEY]).await;
    let response = app(verifier(&jwks).await)
        .oneshot(request("/raw"))
        .await
        .unwrap();
    assert_eq!(text(response).await, "false");
}

#[tokio::test]
async fn the_extractor_fails_closed_on_a_route_without_the_layer() {
    let unprotected = Router::new().route("/me", get(handler));
    let response = unprotected.oneshot(request("/me")).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_request_without_a_token_gets_the_default_opaque_json_401() {
    let jwks = JwksServer::start(&[&KEY]).await;
    let request = Request::get("/me").body(Body::empty()).unwrap();
    let response = app(verifier(&jwks).await).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="forge-remote""#
    );
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
    assert_eq!(body["code"], "invalid_token");
}
