//! CORS for `requestRemote`: product origins get a grant, everything else gets none.

use reqwest::{Method, StatusCode};

use crate::helpers::{assert_fit_rejected, spawn_app, spawn_app_with, TestApp};

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/whoami"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn a_preflight_from_a_product_site_is_granted_without_a_token() {
    let app = spawn_app().await;

    let response = preflight(&app, "https://acme.atlassian.net").await;

    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a preflight carries no token"
    );
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some("https://acme.atlassian.net")
    );
    let methods = header(&response, "access-control-allow-methods")
        .unwrap()
        .to_ascii_uppercase();
    for method in ["GET", "POST", "PATCH", "PUT", "DELETE"] {
        assert!(methods.contains(method), "{method} missing from {methods}");
    }
    let headers = header(&response, "access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert!(header(&response, "vary").is_some_and(|v| v.to_ascii_lowercase().contains("origin")));
}

#[tokio::test]
async fn a_preflight_from_any_other_origin_gets_no_grant() {
    let app = spawn_app().await;
    for origin in [
        "https://evil.com",
        "https://evil.com/x.atlassian.net",
        "https://atlassian.net.evil.com",
        "https://evilatlassian.net",
        "https://atlassian.net",
        "https://a.b.atlassian.net",
        "http://acme.atlassian.net",
        "https://acme.atlassian.net:8443",
        "null",
    ] {
        let response = preflight(&app, origin).await;
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            None,
            "{origin} was granted"
        );
    }
}

#[tokio::test]
async fn a_fit_rejection_is_readable_by_an_allowed_origin() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/whoami"))
        .header("origin", "https://acme.atlassian.net")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some("https://acme.atlassian.net")
    );
    assert_fit_rejected(response, "cross-origin without a token").await;
}

#[tokio::test]
async fn exact_origins_can_be_configured_alongside_the_wildcard() {
    let app = spawn_app_with(|s| {
        s.cors_origins = vec![
            "https://*.atlassian.net".into(),
            "https://tasks.example.com".into(),
        ]
    })
    .await;
    let granted = preflight(&app, "https://tasks.example.com").await;
    assert_eq!(
        header(&granted, "access-control-allow-origin"),
        Some("https://tasks.example.com")
    );
    let refused = preflight(&app, "https://x.tasks.example.com").await;
    assert_eq!(header(&refused, "access-control-allow-origin"), None);
}
