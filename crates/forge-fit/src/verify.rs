//! Verifies one Forge Invocation Token: RS256 only, key by `kid` from the JWKS, `iss`, `aud`,
//! and the time claims with a small leeway. Tokens that verified are remembered until they
//! expire (see `cache.rs`), so the one `requestRemote` reuses is checked once.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::{
    cache::{token_hash, CacheStats, Entry, Lookup, VerifiedCache},
    FitClaims, FitError, Jwks, JwksConfig, JwksError,
};

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
    /// How many verified tokens to remember until they expire; 0 verifies every request in
    /// full. [`DEFAULT_CACHE_ENTRIES`] is plenty: a token lives 25 s.
    pub cache_entries: usize,
    /// The app environments whose tokens are accepted, by `app.environment.id`; `None` accepts
    /// all. Every environment of an app (development, staging, production) shares its app id
    /// and Forge's one JWKS, so only this tells a production remote's tokens from a test install's.
    pub environments: Option<Vec<String>>,
}

/// The default bound of the verified-token cache.
pub const DEFAULT_CACHE_ENTRIES: usize = 10_000;

impl FitConfig {
    /// A configuration for `app_id` with keys from `jwks`, a 5 s leeway and the default cache.
    pub fn new(app_id: impl Into<String>, jwks: JwksConfig) -> Self {
        Self {
            app_id: app_id.into(),
            leeway: Duration::from_secs(5),
            jwks,
            cache_entries: DEFAULT_CACHE_ENTRIES,
            environments: None,
        }
    }
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
    cache: VerifiedCache,
    environments: Option<Vec<String>>,
}

/// The protected header, read by us before `jsonwebtoken` sees the token, so the algorithm is
/// pinned to RS256 before any key is looked up or fetched.
#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    /// Present at all, even as `null` or `[]`, is refused (RFC 7515 §4.1.11 allows no form of it
    /// that we could honour); `Some` means the member was there.
    #[serde(default, deserialize_with = "present")]
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
                cache: VerifiedCache::new(config.cache_entries),
                environments: config.environments,
            }),
        })
    }

    /// The key cache, e.g. to warm it at startup.
    pub fn jwks(&self) -> &Jwks {
        &self.inner.jwks
    }

    /// How the verified-token cache has been used.
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.stats()
    }

    /// Verifies `token` (without the `Bearer ` prefix) and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Arc<FitClaims>, FitError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(FitError::TooLarge {
                max: MAX_TOKEN_BYTES,
            });
        }
        // A key set past its max age is refetched in the background; this request goes on
        // with the keys there are.
        self.inner.jwks.refresh_if_stale();
        if !self.inner.cache.is_enabled() {
            return Ok(Arc::new(self.verify_in_full(token).await?.0));
        }
        let hash = token_hash(token);
        let now = now();
        // These exact bytes verified before: only what can have changed since is checked again,
        // the clock and whether the JWKS still holds the key that verified them.
        let lookup = self.inner.cache.get(&hash, |entry| {
            self.times_valid(&entry.claims, now)
                && self
                    .inner
                    .jwks
                    .cached(&entry.kid)
                    .is_some_and(|key| Arc::ptr_eq(&key, &entry.key))
        });
        let stale = match lookup {
            Lookup::Hit(claims) => return Ok(claims),
            Lookup::Stale => true,
            Lookup::Miss => false,
        };
        match self.verify_in_full(token).await {
            Ok((claims, kid, key)) => {
                let claims = Arc::new(claims);
                let entry = Entry {
                    claims: Arc::clone(&claims),
                    kid,
                    key,
                };
                self.inner.cache.insert(hash, entry, |entry| {
                    entry.claims.exp < now.saturating_sub(self.inner.leeway.as_secs())
                });
                Ok(claims)
            }
            // A stale entry (expired, or its key withdrawn) has no further use.
            Err(e) => {
                if stale {
                    self.inner.cache.remove(&hash);
                }
                Err(e)
            }
        }
    }

    /// Every check, and the `kid` and key that verified the signature.
    async fn verify_in_full(
        &self,
        token: &str,
    ) -> Result<(FitClaims, String, Arc<DecodingKey>), FitError> {
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

        let (claims, key) =
            match jsonwebtoken::decode::<FitClaims>(token, &key, &self.inner.validation) {
                Ok(data) => (data.claims, key),
                // The key under this kid may have been replaced: refetch (rate-limited) and try the
                // new one once, so changed key material heals without a restart.
                Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) => {
                    let Some(changed) = self.inner.jwks.changed_key(&kid, &key).await else {
                        return Err(e.into());
                    };
                    let claims =
                        jsonwebtoken::decode::<FitClaims>(token, &changed, &self.inner.validation)?
                            .claims;
                    (claims, changed)
                }
                Err(e) => return Err(e.into()),
            };
        self.check(&claims)?;
        Ok((claims, kid, key))
    }

    /// The time checks of a full verification, for a token that passed them before:
    /// `jsonwebtoken`'s `exp` and `nbf` rules and our `iat` rule, with the same leeway.
    fn times_valid(&self, claims: &FitClaims, now: u64) -> bool {
        let leeway = self.inner.leeway.as_secs();
        claims.exp + leeway > now
            && claims.nbf.is_none_or(|nbf| nbf <= now + leeway)
            && claims.iat.is_none_or(|iat| iat <= now + leeway)
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
        if let Some(allowed) = &self.inner.environments {
            if !allowed.contains(&claims.app.environment.id) {
                return Err(FitError::EnvironmentNotAllowed {
                    id: FitError::truncated(&claims.app.environment.id),
                });
            }
        }
        let now = now();
        // RFC 7519 §4.1.4: now must be *before* `exp`. `jsonwebtoken` also accepts `exp` exactly
        // at now minus the leeway; `jose` does not, and neither do we.
        if claims.exp + self.inner.leeway.as_secs() <= now {
            return Err(FitError::Expired);
        }
        if claims
            .iat
            .is_some_and(|iat| iat > now + self.inner.leeway.as_secs())
        {
            return Err(FitError::IssuedInFuture);
        }
        Ok(())
    }
}

/// `Some` whenever the member exists, `null` included (plain `Option` would read `null` as absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// Seconds since the epoch, the clock `jsonwebtoken` checks `exp` and `nbf` against.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
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
        FitVerifier::new(FitConfig::new(
            "ari:cloud:ecosystem::app/3f1c9b52",
            // Nothing listens there: these tests must fail before any key lookup.
            JwksConfig::new("http://127.0.0.1:9/jwks.json"),
        ))
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
