//! Verifies one Forge Invocation Token: RS256 only, key by `kid` from the JWKS, `iss`, `aud`,
//! and the time claims with a small leeway.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::{FitClaims, FitError, Jwks, JwksConfig, JwksError};

/// The only issuer Forge uses.
pub const ISSUER: &str = "forge/invocation-token";

/// Longest token accepted. Real FITs are 1–3 KB; a macro's saved config makes them larger, but
/// nothing legitimate comes near this. Checked before any decoding.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What the verifier needs to know.
#[derive(Debug, Clone)]
pub struct FitConfig {
    /// The app's ARI, `ari:cloud:ecosystem::app/<uuid>`: the one accepted audience.
    pub app_id: String,
    /// Clock-skew tolerance for `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// Where the signing keys come from.
    pub jwks: JwksConfig,
}

/// Verifies FITs against a cached JWKS. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct FitVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    app_id: String,
    leeway: Duration,
    validation: Validation,
    jwks: Jwks,
}

/// The protected header, read by us before `jsonwebtoken` sees the token, so the algorithm is
/// pinned to RS256 before any key is looked up or fetched.
#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    crit: Option<serde_json::Value>,
}

impl FitVerifier {
    /// A verifier with an empty key cache; call [`Jwks::refresh`] to warm it.
    pub fn new(config: FitConfig) -> Result<Self, JwksError> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[&config.app_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = config.leeway.as_secs();
        Ok(Self {
            inner: Arc::new(Inner {
                jwks: Jwks::new(config.jwks)?,
                app_id: config.app_id,
                leeway: config.leeway,
                validation,
            }),
        })
    }

    /// The key cache, e.g. to warm it at startup.
    pub fn jwks(&self) -> &Jwks {
        &self.inner.jwks
    }

    /// Verifies `token` (without the `Bearer ` prefix) and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<FitClaims, FitError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(FitError::TooLarge {
                max: MAX_TOKEN_BYTES,
            });
        }
        let header = read_header(token)?;
        if header.alg != "RS256" {
            return Err(FitError::UnsupportedAlgorithm(FitError::truncated(
                &header.alg,
            )));
        }
        // RFC 7515 §4.1.11: a recipient must reject extensions it does not understand.
        if header.crit.is_some() {
            return Err(FitError::CriticalHeader);
        }
        let kid = header.kid.ok_or(FitError::MissingKid)?;
        let key = self
            .inner
            .jwks
            .key(&kid)
            .await
            .ok_or_else(|| FitError::UnknownKid {
                kid: FitError::truncated(&kid),
            })?;

        let claims = jsonwebtoken::decode::<FitClaims>(token, &key, &self.inner.validation)?.claims;
        self.check(&claims)?;
        Ok(claims)
    }

    /// What `jsonwebtoken` does not check, plus the audience and issuer once more on the typed
    /// claims (cheap, and it keeps us right even if the library's rules change).
    fn check(&self, claims: &FitClaims) -> Result<(), FitError> {
        if claims.iss != ISSUER {
            return Err(FitError::WrongIssuer);
        }
        if claims.aud != self.inner.app_id {
            return Err(FitError::WrongAudience);
        }
        if claims.app.id != claims.aud {
            return Err(FitError::AppMismatch);
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        if claims
            .iat
            .is_some_and(|iat| iat > now + self.inner.leeway.as_secs())
        {
            return Err(FitError::IssuedInFuture);
        }
        Ok(())
    }
}

fn read_header(token: &str) -> Result<Header, FitError> {
    let (encoded, rest) = token
        .split_once('.')
        .ok_or_else(|| FitError::Malformed("not three dot-separated parts".into()))?;
    if rest.split('.').count() != 2 {
        return Err(FitError::Malformed("not three dot-separated parts".into()));
    }
    let json = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|e| FitError::Malformed(format!("header: {e}")))?;
    serde_json::from_slice(&json).map_err(|e| FitError::Malformed(format!("header: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier() -> FitVerifier {
        FitVerifier::new(FitConfig {
            app_id: "ari:cloud:ecosystem::app/3f1c9b52".into(),
            leeway: Duration::from_secs(5),
            // Nothing listens there: these tests must fail before any key lookup.
            jwks: JwksConfig::new("http://127.0.0.1:9/jwks.json"),
        })
        .unwrap()
    }

    fn token(header: &str) -> String {
        format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(header))
    }

    #[tokio::test]
    async fn algorithms_other_than_rs256_are_refused_before_any_key_lookup() {
        for alg in ["none", "HS256", "HS512", "RS512", "PS256", "ES256", "rs256"] {
            let header = format!(r#"{{"alg":"{alg}","kid":"k"}}"#);
            let err = verifier().verify(&token(&header)).await.unwrap_err();
            assert!(
                matches!(err, FitError::UnsupportedAlgorithm(_)),
                "{alg}: {err:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_critical_header_or_a_missing_kid_is_refused() {
        let err = verifier()
            .verify(&token(r#"{"alg":"RS256","kid":"k","crit":["b64"]}"#))
            .await;
        assert!(matches!(err, Err(FitError::CriticalHeader)));
        let err = verifier().verify(&token(r#"{"alg":"RS256"}"#)).await;
        assert!(matches!(err, Err(FitError::MissingKid)));
    }

    #[tokio::test]
    async fn shapes_that_are_not_a_jws_are_malformed() {
        for bad in ["", "abc", "a.b", "a.b.c.d", "!!!.e30.c2ln", "e30.e30.c2ln"] {
            let err = verifier().verify(bad).await.unwrap_err();
            assert!(matches!(err, FitError::Malformed(_)), "{bad:?}: {err:?}");
        }
    }

    #[tokio::test]
    async fn an_oversized_token_is_refused_without_decoding() {
        let err = verifier()
            .verify(&"a".repeat(MAX_TOKEN_BYTES + 1))
            .await
            .unwrap_err();
        assert!(matches!(err, FitError::TooLarge { .. }));
    }
}
