//! `FORGE_ENVIRONMENT_IDS`: a deployment accepts the tokens of its own app environments only.

use reqwest::StatusCode;

use crate::helpers::{assert_fit_rejected, claims, spawn_app, spawn_app_with, KEY};

const OTHER_ENVIRONMENT: &str = "ari:cloud:ecosystem::environment/3f1c9b52/development-of-someone";

#[tokio::test]
async fn a_pinned_remote_refuses_tokens_of_other_environments_of_the_app() {
    let mine = claims().app.environment.id;
    let app = spawn_app_with(|s| s.environment_ids = Some(vec![mine.clone()])).await;

    let ok = app.get_whoami(&KEY.sign(&claims())).await;
    assert_eq!(ok.status(), StatusCode::OK);

    let mut staging = claims();
    staging.app.environment.id = OTHER_ENVIRONMENT.into();
    // Same signature, app and audience: only the environment differs.
    assert_fit_rejected(
        app.get_whoami(&KEY.sign(&staging)).await,
        "another environment",
    )
    .await;
}

#[tokio::test]
async fn several_environments_can_be_pinned() {
    let mine = claims().app.environment.id;
    let app =
        spawn_app_with(|s| s.environment_ids = Some(vec![OTHER_ENVIRONMENT.into(), mine.clone()]))
            .await;
    let mut other = claims();
    other.app.environment.id = OTHER_ENVIRONMENT.into();
    for c in [claims(), other] {
        assert_eq!(app.get_whoami(&KEY.sign(&c)).await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn an_unpinned_remote_accepts_every_environment() {
    let app = spawn_app().await;
    let mut other = claims();
    other.app.environment.id = OTHER_ENVIRONMENT.into();
    assert_eq!(
        app.get_whoami(&KEY.sign(&other)).await.status(),
        StatusCode::OK
    );
}
