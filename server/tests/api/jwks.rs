//! The JWKS cache: rotation without a restart, a rate-limited refetch, and resilience to an
//! outage of the JWKS host.

use std::time::Duration;

use forge_fit::mint::SigningKey;
use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::helpers::{
    assert_fit_rejected, claims, spawn_app_against, spawn_app_with, valid_token, JwksMode,
    JwksServer, KEY, STRANGER,
};

#[tokio::test]
async fn a_key_rotated_into_the_jwks_is_accepted_within_the_refetch_interval() {
    // Arrange
    let interval = Duration::from_secs(1);
    let app = spawn_app_with(|s| s.jwks_refetch_interval = interval).await;
    let rotated = STRANGER.with_kid("forge/invocation-token/wf-rotated");
    app.jwks.publish(&rotated);
    let token = rotated.sign(&claims());

    // Act: keep calling, as the panel would, until the new key is picked up.
    let took = app.get_whoami_until_ok(&token, interval * 3).await;

    // Assert
    let took = took.expect("the rotated-in key was never accepted");
    assert!(
        took <= interval + Duration::from_millis(500),
        "took {took:?}"
    );
    assert_eq!(app.jwks.hits(), 2, "startup fetch plus exactly one refetch");
    // And the old key still works alongside it.
    assert_eq!(
        app.get_whoami(&valid_token()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_flood_of_unknown_kids_causes_at_most_one_refetch_per_interval() {
    let interval = Duration::from_secs(2);
    let app = spawn_app_with(|s| s.jwks_refetch_interval = interval).await;
    let flood = |round: usize| {
        let requests = (0..50).map(|i| {
            let token = STRANGER
                .with_kid(format!("bogus-{round}-{i}"))
                .sign(&claims());
            let app = &app;
            async move { app.get_whoami(&token).await.status() }
        });
        join_all(requests)
    };

    for round in 1..=2 {
        // Wait out the window of the previous fetch, then flood.
        tokio::time::sleep(interval + Duration::from_millis(100)).await;
        let before = app.jwks.hits();
        let statuses = flood(round).await;
        assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED));
        assert_eq!(
            app.jwks.hits() - before,
            1,
            "round {round}: one refetch for 50 bogus kids"
        );
    }
    // Valid tokens were never blocked by any of it.
    assert_eq!(
        app.get_whoami(&valid_token()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn cached_keys_keep_verifying_while_the_jwks_host_is_down() {
    let app = spawn_app_with(|s| s.jwks_refetch_interval = Duration::from_millis(100)).await;
    assert_eq!(
        app.get_whoami(&valid_token()).await.status(),
        StatusCode::OK
    );

    app.jwks.shut_down();
    tokio::time::sleep(Duration::from_millis(150)).await;
    // A miss now tries the dead host and fails; that must not empty the cache.
    let unknown = app.get_whoami(&STRANGER.sign(&claims())).await;
    assert_fit_rejected(unknown, "unknown kid during the outage").await;

    assert_eq!(
        app.get_whoami(&valid_token()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_failing_or_oversized_jwks_keeps_the_cached_keys() {
    let app = spawn_app_with(|s| s.jwks_refetch_interval = Duration::from_millis(100)).await;
    for mode in [JwksMode::Failing, JwksMode::Oversized] {
        app.jwks.set_mode(mode);
        tokio::time::sleep(Duration::from_millis(150)).await;
        let hits = app.jwks.hits();
        assert_fit_rejected(app.get_whoami(&STRANGER.sign(&claims())).await, "miss").await;
        assert_eq!(app.jwks.hits(), hits + 1, "{mode:?}: the miss refetched");
        assert_eq!(
            app.get_whoami(&valid_token()).await.status(),
            StatusCode::OK,
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn the_server_starts_without_the_jwks_and_fetches_it_lazily() {
    // Arrange: the JWKS host is failing while the server starts.
    let jwks = JwksServer::start(&[&KEY]).await;
    jwks.set_mode(JwksMode::Failing);
    let interval = Duration::from_millis(300);
    let app = spawn_app_against(jwks, |s| s.jwks_refetch_interval = interval).await;
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // Act: the host recovers.
    app.jwks.set_mode(JwksMode::Up);
    let took = app.get_whoami_until_ok(&valid_token(), interval * 4).await;

    // Assert
    assert!(
        took.is_some(),
        "keys were never fetched after the host recovered"
    );
}

#[tokio::test]
async fn a_jwks_key_for_another_algorithm_does_not_break_the_rest() {
    let jwks = JwksServer::start(&[&KEY]).await;
    jwks.publish_jwk(
        serde_json::json!({ "kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA" }),
    );
    jwks.publish_jwk(serde_json::json!({ "kty": "RSA", "kid": "weird", "alg": "RSA-OAEP-512" }));
    let app = spawn_app_against(jwks, |_| {}).await;
    assert_eq!(
        app.get_whoami(&valid_token()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_key_removed_from_the_jwks_stops_verifying_after_the_next_refetch() {
    let retiring = SigningKey::generate("forge/invocation-token/wf-retiring");
    let jwks = JwksServer::start(&[&retiring]).await;
    let app = spawn_app_against(jwks, |s| {
        s.jwks_refetch_interval = Duration::from_millis(100)
    })
    .await;
    let token = retiring.sign(&claims());
    assert_eq!(app.get_whoami(&token).await.status(), StatusCode::OK);

    // Forge rotates: the new key is published, the old one withdrawn.
    app.jwks.publish(&KEY);
    app.jwks.withdraw(retiring.kid());
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        app.get_whoami(&valid_token()).await.status(),
        StatusCode::OK
    );

    assert_fit_rejected(app.get_whoami(&token).await, "withdrawn key").await;
}

#[tokio::test]
async fn a_withdrawn_key_stops_verifying_within_the_max_age_for_fresh_and_cached_tokens() {
    // Arrange: a remote that has verified (and cached) a token of a key Atlassian then
    // withdraws. No token ever names an unknown kid, so only the max age can notice.
    let max_age = Duration::from_secs(1);
    let retiring = SigningKey::generate("forge/invocation-token/wf-withdrawn");
    let jwks = JwksServer::start(&[&retiring, &KEY]).await;
    let app = spawn_app_against(jwks, |s| {
        s.jwks_max_age = max_age;
        s.jwks_refetch_interval = Duration::from_secs(1);
    })
    .await;
    let cached = retiring.sign(&claims());
    assert_eq!(app.get_whoami(&cached).await.status(), StatusCode::OK);
    app.jwks.withdraw(retiring.kid());
    let hits = app.jwks.hits();

    // Act: wait out the max age; the next use starts a background refetch.
    tokio::time::sleep(max_age + Duration::from_millis(100)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while app.get_whoami(&cached).await.status() == StatusCode::OK {
        assert!(
            std::time::Instant::now() < deadline,
            "the withdrawn key still verifies"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Assert: refused from now on, the cached token and a fresh one alike; other keys work.
    assert_fit_rejected(
        app.get_whoami(&cached).await,
        "cached token of a withdrawn key",
    )
    .await;
    let fresh = retiring.sign(&claims());
    assert_fit_rejected(
        app.get_whoami(&fresh).await,
        "fresh token of a withdrawn key",
    )
    .await;
    assert_eq!(
        app.get_whoami(&valid_token()).await.status(),
        StatusCode::OK
    );
    assert!(app.jwks.hits() > hits, "the max age caused a refetch");
}

#[tokio::test]
async fn past_the_max_age_the_old_keys_keep_working_while_the_jwks_host_fails() {
    let app = spawn_app_with(|s| {
        s.jwks_max_age = Duration::from_secs(1);
        s.jwks_refetch_interval = Duration::from_secs(1);
    })
    .await;
    let token = valid_token();
    assert_eq!(app.get_whoami(&token).await.status(), StatusCode::OK);
    app.jwks.set_mode(JwksMode::Failing);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let hits = app.jwks.hits();
    for _ in 0..5 {
        assert_eq!(
            app.get_whoami(&valid_token()).await.status(),
            StatusCode::OK
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(app.jwks.hits() > hits, "a refetch was tried");
    assert!(
        app.jwks.hits() <= hits + 2,
        "and rate-limited while it fails"
    );
}

#[tokio::test]
async fn changed_key_material_under_a_known_kid_heals_without_a_restart() {
    // Arrange: the remote knows KEY's kid with KEY's material; then the JWKS publishes other
    // material under the same kid, and tokens come signed with it.
    let app = spawn_app_with(|s| s.jwks_refetch_interval = Duration::from_millis(500)).await;
    assert_eq!(
        app.get_whoami(&valid_token()).await.status(),
        StatusCode::OK
    );
    let replacement = STRANGER.with_kid(KEY.kid());
    app.jwks.withdraw(KEY.kid());
    app.jwks.publish(&replacement);
    tokio::time::sleep(Duration::from_millis(600)).await;

    // Act
    let response = app.get_whoami(&replacement.sign(&claims())).await;

    // Assert: the signature failure under the known kid refetched and verified with the new key.
    assert_eq!(response.status(), StatusCode::OK);
    assert_fit_rejected(
        app.get_whoami(&valid_token()).await,
        "the replaced material",
    )
    .await;
}

#[tokio::test]
async fn signature_failures_under_a_known_kid_refetch_at_most_once_per_interval() {
    let app = spawn_app_with(|s| s.jwks_refetch_interval = Duration::from_secs(30)).await;
    let before = app.jwks.hits();
    // Forged with another key under the known kid, again and again.
    let forged = STRANGER.with_kid(KEY.kid());
    for _ in 0..20 {
        assert_fit_rejected(app.get_whoami(&forged.sign(&claims())).await, "forged").await;
    }
    assert!(
        app.jwks.hits() <= before + 1,
        "hits {} -> {}",
        before,
        app.jwks.hits()
    );
}

#[tokio::test]
async fn a_redirecting_jwks_host_is_a_failed_fetch() {
    let jwks = JwksServer::start(&[&KEY]).await;
    jwks.set_mode(JwksMode::Redirect);
    let app = spawn_app_against(jwks, |_| {}).await;
    // The keys are one redirect away; a remote that followed it would accept this token.
    assert_fit_rejected(
        app.get_whoami(&valid_token()).await,
        "keys behind a redirect",
    )
    .await;
    assert!(app.jwks.hits() >= 1);
}
