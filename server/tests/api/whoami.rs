//! `GET /whoami` returns what the token said, and only from the token.

use app::api::{ExtensionContext, WhoAmI};
use reqwest::StatusCode;

use crate::helpers::{claims, spawn_app, KEY};

#[tokio::test]
async fn a_valid_token_is_accepted_and_whoami_returns_its_claims() {
    // Arrange
    let app = spawn_app().await;
    let claims = claims();

    // Act
    let response = app.get_whoami(&KEY.sign(&claims)).await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let me: WhoAmI = response.json().await.unwrap();
    assert_eq!(me.app_id, claims.app.id);
    assert_eq!(me.installation_id, claims.app.installation_id);
    assert_eq!(me.principal, claims.principal);
    assert_eq!(me.module.kind, "xen:macro");
    assert_eq!(me.module.key, claims.app.module.key);
    assert_eq!(me.environment.kind, "DEVELOPMENT");
    assert_eq!(me.environment.id, claims.app.environment.id);
    assert_eq!(me.app_version.as_deref(), Some("1.0.0"));
    let context = me.context.expect("an issue panel token has a context");
    let expected = claims.context.unwrap();
    assert_eq!(context.cloud_id, expected.cloud_id);
    assert_eq!(context.site_url, expected.site_url);
    assert_eq!(context.local_id, expected.local_id);
    let Some(ExtensionContext::IssuePanel { issue, project }) = context.extension else {
        panic!("expected the issue panel extension");
    };
    assert_eq!((issue.key.as_str(), project.key.as_str()), ("KAN-1", "KAN"));
}

#[tokio::test]
async fn identity_sent_outside_the_token_is_ignored() {
    let app = spawn_app().await;
    let claims = claims();

    let response = app
        .client
        .get(app.url("/whoami?installationId=ari:cloud:ecosystem::installation/evil"))
        .bearer_auth(KEY.sign(&claims))
        .header(
            "x-forge-installation-id",
            "ari:cloud:ecosystem::installation/evil",
        )
        .send()
        .await
        .unwrap();

    let me: WhoAmI = response.json().await.unwrap();
    assert_eq!(me.installation_id, claims.app.installation_id);
}

#[tokio::test]
async fn healthz_needs_no_token() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
