//! Every way a Forge Invocation Token can be wrong ends in the same JSON 401.

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use forge_fit::{mint, MAX_TOKEN_BYTES};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;

use crate::helpers::{
    assert_fit_rejected, claims, claims_json, spawn_app, spawn_app_with, valid_token, KEY, STRANGER,
};

fn b64(json: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}

/// Replaces one dot-separated part of a token.
fn with_part(token: &str, index: usize, part: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[index] = part;
    parts.join(".")
}

#[tokio::test]
async fn a_request_without_an_authorization_header_is_rejected() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/whoami")).send().await.unwrap();
    assert_fit_rejected(response, "no header").await;
}

#[tokio::test]
async fn a_token_under_another_scheme_is_rejected() {
    let app = spawn_app().await;
    for authorization in [
        format!("Basic {}", valid_token()),
        format!("Token {}", valid_token()),
        valid_token(),
        "Bearer".to_owned(),
    ] {
        let response = app.get_whoami_with_authorization(&authorization).await;
        assert_fit_rejected(response, &authorization[..authorization.len().min(12)]).await;
    }
}

#[tokio::test]
async fn a_garbage_token_is_rejected() {
    let app = spawn_app().await;
    for garbage in ["garbage", "a.b.c", "....", "e30.e30.e30", "Zm9v.YmFy.YmF6"] {
        let response = app.get_whoami(garbage).await;
        assert_fit_rejected(response, garbage).await;
    }
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_rejected() {
    let app = spawn_app().await;
    let header = serde_json::json!({ "alg": "none", "kid": KEY.kid() });
    for signature in ["", "c2ln"] {
        let token = format!("{}.{}.{signature}", b64(&header), b64(&claims_json()));
        assert_fit_rejected(app.get_whoami(&token).await, "alg none").await;
    }
}

#[tokio::test]
async fn an_hs256_token_signed_with_the_public_key_as_secret_is_rejected() {
    let app = spawn_app().await;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KEY.kid().to_owned());
    for secret in [
        KEY.public_pem().into_bytes(),
        serde_json::to_vec(&KEY.jwk()).unwrap(),
    ] {
        let token =
            jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&secret)).unwrap();
        assert_fit_rejected(app.get_whoami(&token).await, "HS256 with the public key").await;
    }
}

#[tokio::test]
async fn an_rs256_token_from_a_key_not_in_the_jwks_is_rejected() {
    let app = spawn_app().await;
    // A forger who knows our kid but not our key.
    let token = STRANGER.with_kid(KEY.kid()).sign(&claims());
    assert_fit_rejected(app.get_whoami(&token).await, "foreign key, known kid").await;
}

#[tokio::test]
async fn a_token_with_an_unknown_kid_is_rejected_after_one_refetch() {
    let app = spawn_app_with(|s| s.jwks_refetch_interval = Duration::from_millis(300)).await;
    assert_eq!(app.jwks.hits(), 1, "the JWKS is fetched at startup");
    // Let the rate limit window of the startup fetch pass, so a miss may refetch.
    tokio::time::sleep(Duration::from_millis(350)).await;

    let response = app.get_whoami(&STRANGER.sign(&claims())).await;

    assert_fit_rejected(response, "unknown kid").await;
    assert_eq!(
        app.jwks.hits(),
        2,
        "an unknown kid triggers exactly one refetch"
    );
}

#[tokio::test]
async fn a_token_with_a_tampered_payload_is_rejected() {
    let app = spawn_app().await;
    let token = valid_token();
    let mut forged = claims_json();
    forged["principal"] = "557058:someone-else".into();
    let response = app.get_whoami(&with_part(&token, 1, &b64(&forged))).await;
    assert_fit_rejected(response, "tampered payload").await;
}

#[tokio::test]
async fn a_token_with_a_tampered_header_is_rejected() {
    let app = spawn_app().await;
    let token = valid_token();
    let header = serde_json::json!({ "alg": "RS256", "kid": KEY.kid(), "typ": "JWT" });
    let response = app.get_whoami(&with_part(&token, 0, &b64(&header))).await;
    assert_fit_rejected(response, "tampered header").await;
}

#[tokio::test]
async fn an_expired_token_is_rejected() {
    let app = spawn_app().await;
    let mut claims = claims();
    let now = mint::now();
    (claims.iat, claims.nbf, claims.exp) = (Some(now - 60), Some(now - 60), now - 35);
    assert_fit_rejected(app.get_whoami(&KEY.sign(&claims)).await, "expired").await;
}

#[tokio::test]
async fn a_token_expired_within_the_leeway_is_accepted() {
    let app = spawn_app().await;
    let mut claims = claims();
    let now = mint::now();
    (claims.iat, claims.nbf, claims.exp) = (Some(now - 27), Some(now - 27), now - 2);
    assert_eq!(
        app.get_whoami(&KEY.sign(&claims)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_token_not_valid_before_a_future_time_is_rejected() {
    let app = spawn_app().await;
    let mut claims = claims();
    claims.nbf = Some(mint::now() + 60);
    claims.exp = mint::now() + 85;
    assert_fit_rejected(
        app.get_whoami(&KEY.sign(&claims)).await,
        "nbf in the future",
    )
    .await;
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_rejected() {
    let app = spawn_app().await;
    let mut claims = claims();
    (claims.iat, claims.nbf, claims.exp) = (Some(mint::now() + 60), None, mint::now() + 85);
    assert_fit_rejected(
        app.get_whoami(&KEY.sign(&claims)).await,
        "iat in the future",
    )
    .await;
}

#[tokio::test]
async fn a_token_from_another_issuer_is_rejected() {
    let app = spawn_app().await;
    for iss in [
        "forge",
        "forge/invocation-token/",
        "https://forge/invocation-token",
        "",
    ] {
        let mut claims = claims();
        claims.iss = iss.into();
        assert_fit_rejected(app.get_whoami(&KEY.sign(&claims)).await, iss).await;
    }
    let mut claims = claims_json();
    claims["iss"] = serde_json::json!(["forge/invocation-token"]);
    assert_fit_rejected(app.get_whoami(&KEY.sign(&claims)).await, "iss as an array").await;
}

#[tokio::test]
async fn a_token_for_another_app_is_rejected() {
    let app = spawn_app().await;
    let other = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000";
    let mut claims = claims();
    (claims.aud, claims.app.id) = (other.into(), other.into());
    assert_fit_rejected(app.get_whoami(&KEY.sign(&claims)).await, "another app").await;
}

#[tokio::test]
async fn a_token_whose_audience_is_the_bare_uuid_is_rejected() {
    let app = spawn_app().await;
    let mut claims = claims();
    claims.aud = "3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4".into();
    assert_fit_rejected(app.get_whoami(&KEY.sign(&claims)).await, "bare uuid aud").await;
}

#[tokio::test]
async fn a_token_whose_app_id_differs_from_its_audience_is_rejected() {
    let app = spawn_app().await;
    let mut claims = claims();
    claims.app.id = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000".into();
    assert_fit_rejected(app.get_whoami(&KEY.sign(&claims)).await, "app.id != aud").await;
}

#[tokio::test]
async fn a_token_without_an_expiry_is_rejected() {
    let app = spawn_app().await;
    let mut claims = claims_json();
    claims.as_object_mut().unwrap().remove("exp");
    assert_fit_rejected(app.get_whoami(&KEY.sign(&claims)).await, "no exp").await;
}

#[tokio::test]
async fn a_token_without_the_claims_we_rely_on_is_rejected() {
    let app = spawn_app().await;
    for pointer in ["/app/installationId", "/app/module", "/context/cloudId"] {
        let mut claims = claims_json();
        let (parent, field) = pointer.rsplit_once('/').unwrap();
        claims
            .pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(field);
        assert_fit_rejected(app.get_whoami(&KEY.sign(&claims)).await, pointer).await;
    }
}

#[tokio::test]
async fn an_oversized_token_is_rejected() {
    let app = spawn_app().await;
    let mut claims = claims_json();
    claims["padding"] = "x".repeat(20 * 1024).into();
    let token = KEY.sign(&claims);
    assert!(token.len() > MAX_TOKEN_BYTES);
    assert_fit_rejected(app.get_whoami(&token).await, "20 KB token").await;
}
