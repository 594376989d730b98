//! The verified-token cache: a token that verified is answered from memory until it expires, and
//! only for the very same bytes.

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use forge_fit::{mint, CacheStats, FitConfig, FitError, FitVerifier, JwksConfig};

use crate::helpers::{claims, warm_verifier, JwksServer, APP_ID, KEY, STRANGER};

/// A warm verifier against `jwks`, with this leeway and cache size.
async fn verifier(jwks: &JwksServer, leeway: Duration, cache_entries: usize) -> FitVerifier {
    let mut keys = JwksConfig::new(jwks.url.clone());
    // Refetches are triggered explicitly here; keep unknown kids from triggering more.
    keys.refetch_interval = Duration::from_secs(3600);
    warm_verifier(FitConfig {
        leeway,
        cache_entries,
        ..FitConfig::new(APP_ID, keys)
    })
    .await
}

fn stats(hits: u64, misses: u64, entries: usize) -> CacheStats {
    CacheStats {
        hits,
        misses,
        entries,
    }
}

#[tokio::test]
async fn a_reused_token_is_verified_once_then_answered_from_the_cache() {
    let jwks = JwksServer::start(&[&KEY]).await;
    let verifier = verifier(&jwks, Duration::from_secs(5), 100).await;
    let claims = claims();
    let token = KEY.sign(&claims);

    let first = verifier.verify(&token).await.unwrap();
    let second = verifier.verify(&token).await.unwrap();

    assert_eq!(*first, claims);
    assert_eq!(*second, claims);
    assert_eq!(verifier.cache_stats(), stats(1, 1, 1));
}

#[tokio::test]
async fn a_cached_token_expires_exactly_when_an_uncached_one_does() {
    // Arrange: a token a second from expiry, and a one-second leeway that stretches it.
    let jwks = JwksServer::start(&[&KEY]).await;
    let leeway = Duration::from_secs(1);
    let cached = verifier(&jwks, leeway, 100).await;
    let uncached = verifier(&jwks, leeway, 0).await;
    let mut claims = claims();
    claims.exp = mint::now() + 1;
    let token = KEY.sign(&claims);
    assert!(cached.verify(&token).await.is_ok());

    // Act: ask both, every 50 ms, until well past `exp + leeway`. Readings that straddle a
    // second boundary are skipped: the two answers may rightly differ there.
    let mut rejected_at = None;
    while mint::now() <= claims.exp + leeway.as_secs() + 1 {
        let before = mint::now();
        let (a, b) = (cached.verify(&token).await, uncached.verify(&token).await);
        let now = mint::now();
        if now == before {
            assert_eq!(
                a.is_ok(),
                b.is_ok(),
                "at {now}: cached {a:?}, uncached {b:?}"
            );
            // RFC 7519: valid only *before* `exp` (plus the leeway), as jose has it.
            assert_eq!(a.is_ok(), now < claims.exp + leeway.as_secs(), "at {now}");
            if let Err(e) = a {
                assert!(matches!(e, FitError::Expired), "{e:?}");
                rejected_at.get_or_insert(now);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Assert: it was served from the cache while valid, then refused, and forgotten.
    let rejected_at = rejected_at.expect("the cached token never expired");
    assert_eq!(rejected_at, claims.exp + leeway.as_secs());
    let stats = cached.cache_stats();
    assert!(stats.hits > 0, "{stats:?}");
    assert_eq!(stats.entries, 0, "an expired token stays cached: {stats:?}");
}

#[tokio::test]
async fn a_different_token_with_the_same_claims_is_verified_separately() {
    // Arrange: the same claims under another published kid, from an unpublished key, and from
    // an unpublished key posing under the published kid.
    let jwks = JwksServer::start(&[&KEY]).await;
    let second_kid = KEY.with_kid("forge/invocation-token/wf-test-2");
    jwks.publish(&second_kid);
    let verifier = verifier(&jwks, Duration::from_secs(5), 100).await;
    let claims = claims();
    let token = KEY.sign(&claims);
    assert!(verifier.verify(&token).await.is_ok());

    // Act and assert
    let other_kid = second_kid.sign(&claims);
    assert_ne!(other_kid, token);
    assert_eq!(*verifier.verify(&other_kid).await.unwrap(), claims);
    assert_eq!(verifier.cache_stats(), stats(0, 2, 2), "verified in full");

    let unknown_key = STRANGER.sign(&claims);
    assert!(matches!(
        verifier.verify(&unknown_key).await,
        Err(FitError::UnknownKid { .. })
    ));
    let impostor = STRANGER.with_kid(KEY.kid()).sign(&claims);
    assert_eq!(
        impostor.rsplit_once('.').unwrap().0,
        token.rsplit_once('.').unwrap().0,
        "same header and claims as the cached token"
    );
    assert!(matches!(
        verifier.verify(&impostor).await,
        Err(FitError::InvalidSignature)
    ));
    assert_eq!(
        verifier.cache_stats(),
        stats(0, 4, 2),
        "failures are not cached"
    );
}

#[tokio::test]
async fn a_tampered_token_never_hits_the_cache() {
    let jwks = JwksServer::start(&[&KEY]).await;
    let verifier = verifier(&jwks, Duration::from_secs(5), 100).await;
    let token = KEY.sign(&claims());
    assert!(verifier.verify(&token).await.is_ok());
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let (header, payload) = signed.split_once('.').unwrap();

    // A changed signature byte, claims byte or header byte; a different signature; bytes added.
    let flip = |part: &str, at: usize| {
        let mut bytes = URL_SAFE_NO_PAD.decode(part).unwrap();
        bytes[at] ^= 1;
        URL_SAFE_NO_PAD.encode(bytes)
    };
    let other_signature = KEY.sign(&claims());
    let tampered = [
        format!("{signed}.{}", flip(signature, 10)),
        format!("{header}.{}.{signature}", flip(payload, 40)),
        format!("{}.{payload}.{signature}", flip(header, 3)),
        format!("{signed}.{}", other_signature.rsplit_once('.').unwrap().1),
        format!("{token}A"),
        format!("{token}."),
    ];

    for (i, forged) in tampered.iter().enumerate() {
        let result = verifier.verify(forged).await;
        assert!(result.is_err(), "tampered token {i} was accepted");
    }
    assert_eq!(
        verifier.cache_stats(),
        stats(0, 1 + tampered.len() as u64, 1)
    );
    // The genuine token is still a hit.
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(verifier.cache_stats().hits, 1);
}

#[tokio::test]
async fn failures_are_never_cached() {
    let jwks = JwksServer::start(&[&KEY]).await;
    let verifier = verifier(&jwks, Duration::from_secs(5), 100).await;
    let mut expired = claims();
    expired.exp = mint::now() - 60;
    let mut stranger_app = claims();
    stranger_app.aud = "ari:cloud:ecosystem::app/another-app".into();
    stranger_app.app.id = stranger_app.aud.clone();

    for claims in [&expired, &stranger_app] {
        let token = KEY.sign(claims);
        for _ in 0..2 {
            assert!(verifier.verify(&token).await.is_err());
        }
    }

    assert_eq!(verifier.cache_stats(), stats(0, 4, 0));
}

#[tokio::test]
async fn a_withdrawn_key_stops_its_cached_tokens_and_an_unchanged_one_does_not() {
    // Arrange: two keys, a cached token from each.
    let jwks = JwksServer::start(&[&KEY]).await;
    let retiring = KEY.with_kid("forge/invocation-token/wf-retiring");
    jwks.publish(&retiring);
    let verifier = verifier(&jwks, Duration::from_secs(5), 100).await;
    let kept = KEY.sign(&claims());
    let doomed = retiring.sign(&claims());
    assert!(verifier.verify(&kept).await.is_ok());
    assert!(verifier.verify(&doomed).await.is_ok());

    // Act: Forge withdraws one key, and the JWKS is fetched again.
    jwks.withdraw(retiring.kid());
    assert_eq!(verifier.jwks().refresh().await.unwrap(), 1);

    // Assert
    assert!(matches!(
        verifier.verify(&doomed).await,
        Err(FitError::UnknownKid { .. })
    ));
    assert!(verifier.verify(&kept).await.is_ok());
    assert_eq!(verifier.cache_stats(), stats(1, 3, 1));
}

#[tokio::test]
async fn a_cache_of_size_zero_verifies_every_request_in_full() {
    let jwks = JwksServer::start(&[&KEY]).await;
    let verifier = verifier(&jwks, Duration::from_secs(5), 0).await;
    let token = KEY.sign(&claims());
    for _ in 0..3 {
        assert!(verifier.verify(&token).await.is_ok());
    }
    assert_eq!(verifier.cache_stats(), stats(0, 0, 0));
}
