//! The cached JSON Web Key Set that Forge signs invocation tokens with.
//!
//! Keys are cached by `kid` as ready-to-use `DecodingKey`s, so a request never re-parses a JWK.
//! An unknown `kid` triggers a refetch (Forge rotates keys, see <https://developer.atlassian.com/platform/forge/remote/essentials/>), and that
//! refetch is
//!
//! - **single-flight**: misses queue on one async mutex; whoever gets it second finds the keys
//!   the first one fetched;
//! - **rate-limited**: at most one fetch per `refetch_interval`, counting every fetch (startup
//!   included), so a flood of made-up `kid`s costs the JWKS host one request per interval;
//! - **failure-tolerant**: a failed or empty fetch keeps the cached keys, so an outage of the
//!   JWKS host does not stop tokens signed by known keys from verifying;
//! - **bounded**: fetches have a timeout and a size cap;
//! - **aged**: a key set older than `max_age` is refetched in the background on its next use
//!   (as `jose`'s remote key set does every 10 minutes), so a key Atlassian withdraws stops
//!   verifying within `max_age` even if no token ever names an unknown `kid`; the old keys keep
//!   working while that fetch fails;
//! - **no redirects**: a redirect is a failed fetch, so an `https://` JWKS URL can never be
//!   bounced to plain HTTP or to another host.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use tokio::sync::Mutex;

/// How and where to fetch the JWKS.
#[derive(Debug, Clone)]
pub struct JwksConfig {
    /// The JWKS URL; Forge's is `https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json`.
    pub url: String,
    /// Least time between two fetches.
    pub refetch_interval: Duration,
    /// Deadline for one whole fetch, body included.
    pub fetch_timeout: Duration,
    /// Largest JWKS document accepted. Forge's holds a handful of keys, about 3 KB.
    pub max_bytes: usize,
    /// Age after which the key set is refetched, in the background, on its next use.
    pub max_age: Duration,
}

impl JwksConfig {
    /// A configuration for `url` with the defaults: refetch at most every 10 s, 5 s fetch
    /// timeout, 64 KiB size cap, key set refreshed when older than 10 minutes.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            refetch_interval: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(5),
            max_bytes: 64 * 1024,
            max_age: DEFAULT_MAX_AGE,
        }
    }
}

/// Counter of JWKS fetches, by `result` (`ok`, `error`).
pub const FETCHES: &str = "forge_jwks_fetches_total";

/// `jose`'s `createRemoteJWKSet` refreshes after 10 minutes too.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);

/// Whether keys may be fetched from `url`. The signing keys decide who can mint tokens, so they
/// must come over TLS: `https://`, or plain `http://` to a loopback host only (tests, a local
/// Forge host). [`Jwks::new`] refuses any other URL; the error says why, for a config message.
pub fn check_jwks_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed.host_str().ok_or("has no host")?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_host(host) => Ok(()),
        _ => Err("must be an https:// URL (http:// only to localhost)".into()),
    }
}

/// `localhost`, or a loopback IP (`[::1]` with or without brackets): the only hosts plain
/// `http://` may reach, for tests and a local Forge host.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Why a fetch brought no keys. Logged, never sent to a client.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("the JWKS URL {0}")]
    InsecureUrl(String),
    #[error("could not build the HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("could not fetch the JWKS")]
    Fetch(#[from] reqwest::Error),
    #[error("the JWKS is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the JWKS is not a JSON key set")]
    Json(#[from] serde_json::Error),
    #[error("the JWKS holds no usable RS256 signing key")]
    NoUsableKeys,
    #[error("the fetch task failed")]
    Task(#[from] tokio::task::JoinError),
    #[error("the JWKS host answered with a redirect ({0}), which is never followed")]
    Redirect(u16),
}

/// One cached key: the JWK components it was built from, to recognise it in a later fetch, and
/// the ready-to-use key.
struct CachedKey {
    n: String,
    e: String,
    key: Arc<DecodingKey>,
}

type KeySet = HashMap<String, CachedKey>;

/// A shared, self-refreshing cache of Forge's signing keys. Cheap to clone.
#[derive(Clone)]
pub struct Jwks {
    inner: Arc<Inner>,
}

struct Inner {
    config: JwksConfig,
    client: reqwest::Client,
    /// Swapped whole on a successful fetch; readers only clone an `Arc` out.
    keys: RwLock<Arc<KeySet>>,
    /// Held for the duration of a fetch (single flight); holds when the last one started.
    last_fetch: Arc<Mutex<Option<Instant>>>,
    /// When the key set in `keys` was fetched; `None` before the first successful fetch.
    fetched_at: RwLock<Option<Instant>>,
}

impl Jwks {
    /// An empty cache. Nothing is fetched until [`Jwks::refresh`] or the first lookup.
    pub fn new(config: JwksConfig) -> Result<Self, JwksError> {
        check_jwks_url(&config.url).map_err(JwksError::InsecureUrl)?;
        let client = reqwest::Client::builder()
            // A redirect is answered as a failed fetch (see `fetch`).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.fetch_timeout)
            .connect_timeout(config.fetch_timeout)
            .user_agent(concat!("forge-remote/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(JwksError::Client)?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                client,
                keys: RwLock::default(),
                last_fetch: Arc::default(),
                fetched_at: RwLock::default(),
            }),
        })
    }

    /// Starts a background refetch when the key set is older than `max_age` and no fetch is
    /// running or was started within the refetch interval. Never waits: requests keep using the
    /// keys they have. Call on every use of the keys; it is a clock read when nothing is due.
    pub fn refresh_if_stale(&self) {
        let inner = &self.inner;
        let stale = inner
            .fetched_at
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() >= inner.config.max_age);
        if !stale {
            return;
        }
        let Ok(last_fetch) = Arc::clone(&inner.last_fetch).try_lock_owned() else {
            return; // a fetch is running
        };
        if last_fetch.is_some_and(|at| at.elapsed() < inner.config.refetch_interval) {
            return; // one failed a moment ago; try again after the interval
        }
        tracing::debug!("JWKS older than its max age; refetching in the background");
        let inner = Arc::clone(inner);
        tokio::spawn(async move {
            let _ = Inner::fetch_holding(inner, last_fetch).await;
        });
    }

    /// After a signature failed under the cached key for `kid`: refetches (single-flight, at most
    /// once per refetch interval) and returns the key now published under `kid` if it differs
    /// from `failed`, so key material changed under a known `kid` heals without a restart.
    pub async fn changed_key(
        &self,
        kid: &str,
        failed: &Arc<DecodingKey>,
    ) -> Option<Arc<DecodingKey>> {
        let last_fetch = Arc::clone(&self.inner.last_fetch).lock_owned().await;
        let current = self.inner.cached(kid)?;
        if !Arc::ptr_eq(&current, failed) {
            return Some(current); // someone refetched while we waited
        }
        if last_fetch.is_some_and(|at| at.elapsed() < self.inner.config.refetch_interval) {
            return None;
        }
        tracing::info!(kid = %bounded(kid), "signature failed under a known kid; refetching the JWKS");
        let _ = Inner::fetch_holding(Arc::clone(&self.inner), last_fetch).await;
        self.inner
            .cached(kid)
            .filter(|key| !Arc::ptr_eq(key, failed))
    }

    /// The key for `kid`, refetching the JWKS once if it is unknown and the rate limit allows.
    pub async fn key(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        if let Some(key) = self.inner.cached(kid) {
            return Some(key);
        }
        let last_fetch = Arc::clone(&self.inner.last_fetch).lock_owned().await;
        // Whoever held the lock before us may just have fetched this very key.
        if let Some(key) = self.inner.cached(kid) {
            return Some(key);
        }
        if last_fetch.is_some_and(|at| at.elapsed() < self.inner.config.refetch_interval) {
            tracing::debug!(kid = %bounded(kid), "unknown kid; JWKS refetch is rate-limited");
            return None;
        }
        tracing::info!(kid = %bounded(kid), "unknown kid; refetching the JWKS");
        let _ = Inner::fetch_holding(Arc::clone(&self.inner), last_fetch).await;
        self.inner.cached(kid)
    }

    /// Fetches the JWKS now (subject to the single-flight lock, not to the rate limit) and
    /// returns how many keys are cached. On failure the cached keys stay.
    pub async fn refresh(&self) -> Result<usize, JwksError> {
        let last_fetch = Arc::clone(&self.inner.last_fetch).lock_owned().await;
        Inner::fetch_holding(Arc::clone(&self.inner), last_fetch).await
    }

    /// The cached key for `kid`, without fetching. A refetch keeps the same `Arc` for a key whose
    /// JWK did not change, so a pointer comparison tells whether a key is still the one cached.
    pub(super) fn cached(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.inner.cached(kid)
    }

    /// The number of cached keys.
    pub fn len(&self) -> usize {
        self.inner.snapshot().len()
    }

    /// Whether no key is cached (never fetched, or every fetch failed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inner {
    fn snapshot(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn cached(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(kid)
            .map(|cached| Arc::clone(&cached.key))
    }

    /// Runs one fetch on its own task, holding the single-flight lock until it is done.
    ///
    /// Detached so that a cancelled request (client gone, request timeout) cannot abort a fetch
    /// half-way: the keys still land in the cache, and whoever waits on the lock sees them.
    async fn fetch_holding(
        inner: Arc<Self>,
        mut last_fetch: tokio::sync::OwnedMutexGuard<Option<Instant>>,
    ) -> Result<usize, JwksError> {
        *last_fetch = Some(Instant::now());
        tokio::spawn(async move {
            let result = inner.fetch().await;
            let _lock_held_until_stored = last_fetch;
            match result {
                Ok(mut keys) => {
                    // Keep the very same key for an unchanged JWK (see `Jwks::cached`).
                    let old = inner.snapshot();
                    for (kid, new) in &mut keys {
                        if let Some(old) = old.get(kid).filter(|o| o.n == new.n && o.e == new.e) {
                            new.key = Arc::clone(&old.key);
                        }
                    }
                    let count = keys.len();
                    *inner.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
                    *inner
                        .fetched_at
                        .write()
                        .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
                    metrics::counter!(FETCHES, "result" => "ok").increment(1);
                    tracing::info!(keys = count, url = %inner.config.url, "JWKS fetched");
                    Ok(count)
                }
                Err(e) => {
                    metrics::counter!(FETCHES, "result" => "error").increment(1);
                    tracing::warn!(
                        error = %error_chain(&e),
                        url = %inner.config.url,
                        cached = inner.snapshot().len(),
                        "JWKS fetch failed; keeping the cached keys"
                    );
                    Err(e)
                }
            }
        })
        .await?
    }

    async fn fetch(&self) -> Result<KeySet, JwksError> {
        let max = self.config.max_bytes;
        let mut response = self
            .client
            .get(&self.config.url)
            .send()
            .await?
            .error_for_status()?;
        if response.status().is_redirection() {
            return Err(JwksError::Redirect(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > max as u64)
        {
            return Err(JwksError::TooLarge(max));
        }
        // Read chunk by chunk so a host that lies about (or omits) the length cannot make us
        // buffer more than the cap.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > max {
                return Err(JwksError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
        parse(&body)
    }
}

/// The part of a JWK we read. Other members (`x5c`, `x5t`, …) are ignored.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// Parses a JWKS document into RS256 verification keys by `kid`.
///
/// Each key is read on its own and skipped if it is not an RSA signing key usable for RS256,
/// so one odd key (an EC key, an encryption key, an algorithm `jsonwebtoken` does not know)
/// cannot make the whole set unusable.
fn parse(body: &[u8]) -> Result<KeySet, JwksError> {
    #[derive(Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document = serde_json::from_slice(body)?;
    let usable: Vec<(String, CachedKey)> = document
        .keys
        .into_iter()
        .filter_map(|value| {
            let jwk: Jwk = serde_json::from_value(value).ok()?;
            let usable = jwk.kty == "RSA"
                && jwk.alg.as_deref().is_none_or(|alg| alg == "RS256")
                && jwk.usage.as_deref().is_none_or(|usage| usage == "sig");
            if !usable {
                return None;
            }
            let (n, e) = (jwk.n?, jwk.e?);
            let key = DecodingKey::from_rsa_components(&n, &e).ok()?;
            Some((
                jwk.kid?,
                CachedKey {
                    n,
                    e,
                    key: Arc::new(key),
                },
            ))
        })
        .collect();
    // RFC 7517 §4.5: keys of a set should have distinct `kid`s. When two share one, which key a
    // token under it means is ambiguous: neither is trusted (`jose` would try both).
    let mut keys = KeySet::new();
    let mut ambiguous = std::collections::HashSet::new();
    for (kid, key) in usable {
        if ambiguous.contains(&kid) {
            continue;
        }
        if keys.insert(kid.clone(), key).is_some() {
            keys.remove(&kid);
            tracing::warn!(kid = %bounded(&kid), "the JWKS has several keys under one kid; using none of them");
            ambiguous.insert(kid);
        }
    }
    if keys.is_empty() {
        return Err(JwksError::NoUsableKeys);
    }
    Ok(keys)
}

/// A `kid` comes from the caller: logged escaped (`{:?}`) and at most 64 characters.
fn bounded(kid: &str) -> String {
    format!("{:?}", kid.chars().take(64).collect::<String>())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // A real 2048-bit modulus is not needed to parse: any base64url decodes.
    const N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

    #[test]
    fn only_rsa_signing_keys_for_rs256_are_kept() {
        let body = json!({ "keys": [
            { "kty": "RSA", "kid": "good", "alg": "RS256", "use": "sig", "n": N, "e": "AQAB" },
            { "kty": "RSA", "kid": "no-alg", "n": N, "e": "AQAB" },
            { "kty": "RSA", "kid": "enc", "use": "enc", "n": N, "e": "AQAB" },
            { "kty": "RSA", "kid": "ps256", "alg": "PS256", "n": N, "e": "AQAB" },
            { "kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA" },
            { "kty": "RSA", "alg": "RS256", "n": N, "e": "AQAB" },
            { "kty": "RSA", "kid": "no-modulus", "e": "AQAB" },
            { "kty": "RSA", "kid": "bad-base64", "n": "!!", "e": "AQAB" },
            "not even an object"
        ]});
        let keys = parse(body.to_string().as_bytes()).unwrap();
        let mut kids: Vec<_> = keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        assert_eq!(kids, ["good", "no-alg"]);
    }

    #[test]
    fn keys_sharing_a_kid_are_all_dropped() {
        let body = json!({ "keys": [
            { "kty": "RSA", "kid": "twice", "n": N, "e": "AQAB" },
            { "kty": "RSA", "kid": "once", "n": N, "e": "AQAB" },
            { "kty": "RSA", "kid": "twice", "n": N, "e": "AQAB" },
            { "kty": "RSA", "kid": "twice", "n": N, "e": "AQAB" },
        ]});
        let keys = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["once"]);
    }

    #[test]
    fn a_set_without_usable_keys_is_an_error_so_the_cache_is_kept() {
        let body = json!({ "keys": [{ "kty": "EC", "kid": "ec" }] }).to_string();
        assert!(matches!(
            parse(body.as_bytes()),
            Err(JwksError::NoUsableKeys)
        ));
        assert!(matches!(parse(b"<html>"), Err(JwksError::Json(_))));
    }

    #[test]
    fn keys_come_over_tls_or_from_loopback_only() {
        for (url, ok) in [
            ("https://keys.example.com/jwks.json", true),
            ("http://127.0.0.1:4000/jwks.json", true),
            ("http://localhost:4000/jwks.json", true),
            ("http://[::1]:4000/jwks.json", true),
            ("http://keys.example.com/jwks.json", false),
            ("http://127.0.0.1.evil.com/jwks.json", false),
            ("file:///etc/jwks.json", false),
            ("not a url", false),
        ] {
            assert_eq!(check_jwks_url(url).is_ok(), ok, "{url}");
            assert_eq!(Jwks::new(JwksConfig::new(url)).is_ok(), ok, "{url}");
        }
    }
}
