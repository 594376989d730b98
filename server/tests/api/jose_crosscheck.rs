//! Cross-check with an independent implementation: tokens minted here verify with `jose`
//! (npm), and tokens minted by `jose` verify here. Driven through
//! `end2end/forge/jose-crosscheck.mjs`; fails, never skips, when node or jose is missing.

use std::{
    io::Write,
    path::PathBuf,
    process::{Command, Stdio},
};

use app::api::WhoAmI;
use forge_fit::ISSUER;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{claims, claims_json, spawn_app_against, JwksServer, APP_ID, KEY};

const NODE: &str = "/usr/bin/node";

/// Runs the script with `command`, feeding `request` on stdin; returns its exit success and its
/// JSON answer.
fn jose(command: &str, request: &Value) -> (bool, Value) {
    let end2end = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end");
    let script = end2end.join("forge/jose-crosscheck.mjs");
    assert!(script.exists(), "missing {}", script.display());
    let mut child = Command::new(NODE)
        .arg(&script)
        .arg(command)
        .current_dir(&end2end)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("node is required at {NODE} for this test: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().expect("Failed to run node");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("ERR_MODULE_NOT_FOUND"),
        "jose is not installed; run `npm install` in end2end/:\n{stderr}"
    );
    let answer = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON answer from the script ({e}); stderr:\n{stderr}"));
    (output.status.success(), answer)
}

fn verify_with_jose(token: &str) -> (bool, Value) {
    jose(
        "verify",
        &json!({
            "jwks": { "keys": [KEY.jwk()] },
            "token": token,
            "audience": APP_ID,
            "issuer": ISSUER,
        }),
    )
}

#[test]
fn tokens_minted_here_verify_with_jose() {
    let claims = claims();

    let (ok, answer) = verify_with_jose(&KEY.sign(&claims));

    assert!(ok, "jose refused our token: {answer}");
    assert_eq!(
        answer["payload"]["app"]["installationId"],
        claims.app.installation_id
    );
    assert_eq!(answer["payload"]["aud"], APP_ID);
    assert_eq!(
        answer["protectedHeader"],
        json!({ "alg": "RS256", "kid": KEY.kid() })
    );
}

#[test]
fn jose_refuses_what_we_refuse() {
    // Shows the check above is not vacuous: the same harness does say no.
    let mut wrong_audience = claims();
    wrong_audience.aud = "3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4".into();
    let (ok, answer) = verify_with_jose(&KEY.sign(&wrong_audience));
    assert!(!ok, "jose accepted a bare-uuid audience: {answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("aud"),
        "{answer}"
    );
}

#[tokio::test]
async fn tokens_minted_by_jose_verify_here() {
    // Arrange: jose makes its own key and token; the JWKS publishes jose's public key.
    let kid = "forge/invocation-token/wf-jose";
    let (ok, minted) = jose("mint", &json!({ "claims": claims_json(), "kid": kid }));
    assert!(ok, "jose could not mint: {minted}");
    let jwks = JwksServer::start(&[&KEY]).await;
    jwks.publish_jwk(minted["jwk"].clone());
    let app = spawn_app_against(jwks, |_| {}).await;

    // Act
    let response = app.get_whoami(minted["token"].as_str().unwrap()).await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let me: WhoAmI = response.json().await.unwrap();
    assert_eq!(me.installation_id, claims().app.installation_id);
}

/// jose's verdict on `token` against `keys`, with the remote's 5 s leeway as clock tolerance.
fn jose_accepts(keys: &[Value], token: &str) -> bool {
    jose(
        "verify",
        &json!({
            "jwks": { "keys": keys },
            "token": token,
            "audience": APP_ID,
            "issuer": ISSUER,
            "clockTolerance": 5,
        }),
    )
    .0
}

/// The remote's verdict on `token` with a JWKS of exactly `keys`.
async fn remote_accepts(keys: &[Value], token: &str) -> bool {
    let jwks = JwksServer::start(&[]).await;
    for key in keys {
        jwks.publish_jwk(key.clone());
    }
    let app = spawn_app_against(jwks, |_| {}).await;
    app.get_whoami(token).await.status() == StatusCode::OK
}

#[tokio::test]
async fn rfc_8725_corners_the_remote_refuses_as_jose_does() {
    let header = |extra: Value| {
        let mut h = json!({ "alg": "RS256", "kid": KEY.kid() });
        h.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        h
    };
    let keys = [KEY.jwk()];
    // The harness says yes to a plain token, so each "no" below is about its corner.
    let plain = KEY.sign_with_header(&header(json!({})), &claims());
    assert!(jose_accepts(&keys, &plain) && remote_accepts(&keys, &plain).await);

    // `crit` in any form: an extension list, an empty one, null, a string.
    for crit in [json!(["b64"]), json!([]), json!(null), json!("exp")] {
        let token = KEY.sign_with_header(&header(json!({ "crit": crit })), &claims());
        assert!(!jose_accepts(&keys, &token), "jose accepted crit={crit}");
        assert!(
            !remote_accepts(&keys, &token).await,
            "we accepted crit={crit}"
        );
    }

    // `exp` exactly at now minus the leeway: expired for both (RFC 7519: now must be before it).
    let mut at_the_edge = claims();
    at_the_edge.exp = forge_fit::mint::now() - 5;
    let token = KEY.sign(&at_the_edge);
    assert!(
        !jose_accepts(&keys, &token),
        "jose accepted exp = now - leeway"
    );
    assert!(
        !remote_accepts(&keys, &token).await,
        "we accepted exp = now - leeway"
    );
    // One second later is still inside the leeway for both.
    let mut inside = claims();
    inside.exp = forge_fit::mint::now() - 3;
    let token = KEY.sign(&inside);
    assert!(jose_accepts(&keys, &token) && remote_accepts(&keys, &token).await);

    // A key published for encryption, or for another algorithm, never verifies a signature.
    for (member, value) in [("use", "enc"), ("alg", "RS512"), ("alg", "PS256")] {
        let mut jwk = KEY.jwk();
        jwk[member] = json!(value);
        let token = KEY.sign(&claims());
        assert!(
            !jose_accepts(&[jwk.clone()], &token),
            "jose used a key with {member}={value}"
        );
        assert!(
            !remote_accepts(&[jwk], &token).await,
            "we used a key with {member}={value}"
        );
    }
}

#[tokio::test]
async fn duplicate_kids_in_the_jwks_are_trusted_by_neither() {
    // Two different keys under one kid: which one a token means is ambiguous. jose 6 answers
    // ERR_JWKS_MULTIPLE_MATCHING_KEYS; the remote drops both keys.
    let twin = crate::helpers::STRANGER.with_kid(KEY.kid());
    let keys = [KEY.jwk(), twin.jwk()];
    for token in [KEY.sign(&claims()), twin.sign(&claims())] {
        assert!(
            !jose_accepts(&keys, &token),
            "jose accepted an ambiguous kid"
        );
        assert!(
            !remote_accepts(&keys, &token).await,
            "we accepted an ambiguous kid"
        );
    }
}
