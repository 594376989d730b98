//! Tokens already verified, by the SHA-256 of their exact bytes, until they expire.
//!
//! `requestRemote` caches one FIT client-side and sends it with every call until it is close to
//! expiry, so a remote sees the same token many times. Verifying it once and remembering the
//! result is safe because the cache only ever answers for the *same bytes*:
//!
//! - the key is the SHA-256 of the whole token (header, claims and signature), so a token that
//!   differs in a single byte (a tampered signature, the same claims signed by another key or
//!   under another `kid`) is a miss and goes through full verification;
//! - only successful verifications are stored; a failure is never remembered;
//! - a hit re-checks the time claims (`exp`, `nbf`, `iat`, with the same leeway) against the
//!   clock, so a cached token expires exactly when an uncached one would, and falls through to
//!   full verification, which names the failure;
//! - a hit also requires that the JWKS still holds the very key that verified the token, so a
//!   key Forge withdraws stops its cached tokens as soon as the JWKS cache drops it;
//! - it is bounded: at capacity, expired entries are purged (at most once a second), and if it
//!   is still full an arbitrary entry is evicted.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, PoisonError, RwLock,
    },
    time::{Duration, Instant},
};

use jsonwebtoken::DecodingKey;

use super::FitClaims;

/// The SHA-256 of a token's bytes.
pub(super) type TokenHash = [u8; 32];

/// Hashes a token for [`VerifiedCache`].
pub(super) fn token_hash(token: &str) -> TokenHash {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut hash = [0; 32];
    hash.copy_from_slice(digest.as_ref());
    hash
}

/// One verified token.
pub(super) struct Entry {
    pub claims: Arc<FitClaims>,
    /// The `kid` and the key that verified the signature.
    pub kid: String,
    pub key: Arc<DecodingKey>,
}

/// What the cache knows of a token.
pub(super) enum Lookup {
    /// Verified before, and still acceptable.
    Hit(Arc<FitClaims>),
    /// Verified before, but no longer acceptable as it stands (expired, or its key changed).
    Stale,
    Miss,
}

impl Lookup {
    #[cfg(test)]
    fn is_hit(&self) -> bool {
        matches!(self, Lookup::Hit(_))
    }
}

/// How the cache has been used, for tests and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Verifications answered from the cache.
    pub hits: u64,
    /// Verifications that went the full way (including every failure).
    pub misses: u64,
    /// Tokens cached now.
    pub entries: usize,
}

/// A bounded map from token hash to verified claims.
pub(super) struct VerifiedCache {
    capacity: usize,
    map: RwLock<Map>,
    hits: AtomicU64,
    misses: AtomicU64,
}

struct Map {
    entries: HashMap<TokenHash, Entry>,
    last_purge: Option<Instant>,
}

/// Least time between two purges of expired entries at capacity, so a full cache of live tokens
/// does not pay a full scan on every insert.
const PURGE_INTERVAL: Duration = Duration::from_secs(1);

impl VerifiedCache {
    /// A cache of at most `capacity` tokens; 0 caches nothing.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            map: RwLock::new(Map {
                entries: HashMap::new(),
                last_purge: None,
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.capacity > 0
    }

    /// The entry for `hash` if `accept` approves it; counts a hit or a miss.
    pub fn get(&self, hash: &TokenHash, accept: impl FnOnce(&Entry) -> bool) -> Lookup {
        let lookup = match self
            .map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .get(hash)
        {
            Some(entry) if accept(entry) => Lookup::Hit(Arc::clone(&entry.claims)),
            Some(_) => Lookup::Stale,
            None => Lookup::Miss,
        };
        let counter = match lookup {
            Lookup::Hit(_) => &self.hits,
            _ => &self.misses,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        lookup
    }

    /// Remembers a successfully verified token. `expired_at(entry)` says whether an entry has
    /// expired by now; it decides what a purge removes.
    pub fn insert(&self, hash: TokenHash, entry: Entry, expired: impl Fn(&Entry) -> bool) {
        if self.capacity == 0 {
            return;
        }
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if map.entries.len() >= self.capacity && !map.entries.contains_key(&hash) {
            if map
                .last_purge
                .is_none_or(|at| at.elapsed() >= PURGE_INTERVAL)
            {
                map.entries.retain(|_, entry| !expired(entry));
                map.last_purge = Some(Instant::now());
            }
            if map.entries.len() >= self.capacity {
                // Every entry is live: drop an arbitrary one (HashMap order is randomised).
                if let Some(victim) = map.entries.keys().next().copied() {
                    map.entries.remove(&victim);
                }
            }
        }
        map.entries.insert(hash, entry);
    }

    /// Forgets a token (an entry found stale on lookup).
    pub fn remove(&self, hash: &TokenHash) {
        self.map
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .remove(hash);
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self
                .map
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .entries
                .len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mint;

    fn entry(exp: u64) -> Entry {
        let mut claims = mint::issue_panel_claims("ari:cloud:ecosystem::app/x", 1_000);
        claims.exp = exp;
        Entry {
            claims: Arc::new(claims),
            kid: "k".into(),
            // Any key will do: these tests never verify a signature.
            key: Arc::new(DecodingKey::from_secret(b"unused")),
        }
    }

    fn expired_by(now: u64) -> impl Fn(&Entry) -> bool {
        move |entry: &Entry| entry.claims.exp < now
    }

    #[test]
    fn the_hash_covers_every_byte_of_the_token() {
        assert_eq!(token_hash("a.b.c"), token_hash("a.b.c"));
        assert_ne!(token_hash("a.b.c"), token_hash("a.b.d"));
        assert_ne!(token_hash("a.b.c"), token_hash("a.b.c "));
    }

    #[test]
    fn a_hit_needs_the_same_hash_and_the_callers_approval() {
        let cache = VerifiedCache::new(10);
        cache.insert(token_hash("one"), entry(2_000), expired_by(1_500));
        assert!(cache.get(&token_hash("one"), |_| true).is_hit());
        assert!(matches!(
            cache.get(&token_hash("two"), |_| true),
            Lookup::Miss
        ));
        assert!(matches!(
            cache.get(&token_hash("one"), |_| false),
            Lookup::Stale
        ));
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (1, 2, 1));
    }

    #[test]
    fn it_never_holds_more_than_its_capacity_and_purges_expired_entries_first() {
        let cache = VerifiedCache::new(3);
        cache.insert(token_hash("old"), entry(1_000), expired_by(0));
        cache.insert(token_hash("live-1"), entry(9_000), expired_by(0));
        cache.insert(token_hash("live-2"), entry(9_000), expired_by(0));
        // Full: by now "old" has expired, so it is the one to go.
        cache.insert(token_hash("live-3"), entry(9_000), expired_by(5_000));
        assert_eq!(cache.stats().entries, 3);
        assert!(matches!(
            cache.get(&token_hash("old"), |_| true),
            Lookup::Miss
        ));
        for live in ["live-1", "live-2", "live-3"] {
            assert!(cache.get(&token_hash(live), |_| true).is_hit(), "{live}");
        }
        // Full of live tokens: one of them makes room, the newcomer is kept.
        for i in 0..10 {
            cache.insert(
                token_hash(&format!("more-{i}")),
                entry(9_000),
                expired_by(5_000),
            );
            assert_eq!(cache.stats().entries, 3);
            assert!(cache
                .get(&token_hash(&format!("more-{i}")), |_| true)
                .is_hit());
        }
    }

    #[test]
    fn a_zero_capacity_caches_nothing() {
        let cache = VerifiedCache::new(0);
        assert!(!cache.is_enabled());
        cache.insert(token_hash("one"), entry(2_000), expired_by(0));
        assert!(matches!(
            cache.get(&token_hash("one"), |_| true),
            Lookup::Miss
        ));
        assert_eq!(cache.stats().entries, 0);
    }
}
