//! What verifying one Forge Invocation Token costs with a warm JWKS, next to the bare RSA
//! verification underneath it.
//!
//! ```not_rust
//! cargo bench -p server --bench fit_verify
//! ```
//!
//! - `fit_verify/verifier`: `FitVerifier::verify` with its cache off, the whole check a new
//!   token pays for (header, key lookup, signature, claims, typed deserialisation).
//! - `fit_verify/verifier_cached`: the same token again through a verifier that has it cached
//!   (SHA-256 of the token, lookup, time and key checks), what a reused token pays for.
//! - `fit_verify/jsonwebtoken_fresh_key`: the same token through `jsonwebtoken::decode`, but
//!   building the `DecodingKey` from the JWK on every call, i.e. what caching per `kid` saves.
//! - `fit_verify/ring_rsa2048_pkcs1_sha256`: ring's RSASSA-PKCS1-v1_5 SHA-256 verify of the same
//!   signature, the floor.

use std::{hint::black_box, time::Duration};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use criterion::{criterion_group, criterion_main, Criterion};
use forge_fit::{
    mint, FitClaims, FitConfig, FitVerifier, JwksConfig, DEFAULT_CACHE_ENTRIES, ISSUER,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};

const APP_ID: &str = "ari:cloud:ecosystem::app/3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4";

fn fit_verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = mint::SigningKey::generate("forge/invocation-token/wf-bench");
    // Long enough to outlive the whole run.
    let mut claims = mint::issue_panel_claims(APP_ID, mint::now());
    claims.exp += 3600;
    let token = key.sign(&claims);

    // Warm verifiers, uncached and cached: the JWKS fetched once over HTTP from a local host.
    let (verifier, cached) = runtime.block_on(async {
        let jwks = serde_json::to_string(&mint::SigningKey::jwks([&key])).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                let jwks = jwks.clone();
                async move { jwks }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let mut verifiers = Vec::new();
        for cache_entries in [0, DEFAULT_CACHE_ENTRIES] {
            let verifier = FitVerifier::new(FitConfig {
                leeway: Duration::from_secs(5),
                cache_entries,
                ..FitConfig::new(APP_ID, JwksConfig::new(url.clone()))
            })
            .unwrap();
            verifier
                .jwks()
                .refresh()
                .await
                .expect("Failed to warm the JWKS");
            verifiers.push(verifier);
        }
        let cached = verifiers.pop().unwrap();
        (verifiers.pop().unwrap(), cached)
    });
    assert!(runtime.block_on(verifier.verify(&token)).is_ok());
    assert!(runtime.block_on(cached.verify(&token)).is_ok());

    // The same verification by hand, for the two baselines.
    let jwk = key.jwk();
    let (n_b64, e_b64) = (jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap());
    let (n, e) = (
        URL_SAFE_NO_PAD.decode(n_b64).unwrap(),
        URL_SAFE_NO_PAD.decode(e_b64).unwrap(),
    );
    let (message, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[APP_ID]);

    let mut group = c.benchmark_group("fit_verify");
    group.bench_function("verifier", |b| {
        b.iter(|| {
            runtime
                .block_on(verifier.verify(black_box(&token)))
                .unwrap()
        })
    });
    group.bench_function("verifier_cached", |b| {
        b.iter(|| runtime.block_on(cached.verify(black_box(&token))).unwrap())
    });
    group.bench_function("jsonwebtoken_fresh_key", |b| {
        b.iter(|| {
            let key = DecodingKey::from_rsa_components(n_b64, e_b64).unwrap();
            jsonwebtoken::decode::<FitClaims>(black_box(&token), &key, &validation).unwrap()
        })
    });
    group.bench_function("ring_rsa2048_pkcs1_sha256", |b| {
        let public = RsaPublicKeyComponents { n: &n, e: &e };
        b.iter(|| {
            public
                .verify(
                    &RSA_PKCS1_2048_8192_SHA256,
                    black_box(message.as_bytes()),
                    &signature,
                )
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, fit_verify);
criterion_main!(benches);
