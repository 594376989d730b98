//! "Access to tokens anytime": the newest app system token per installation, kept so work that
//! runs with no request (the outbox, a retry after an outage) can call Jira as the app.
//!
//! Forge forwards the system token on every `invokeRemote` and on each hourly scheduled
//! trigger; Atlassian guarantees a delivered token stays valid for at least 2 hours and says a
//! remote "can safely cache and reuse a token until the expiry time". The token is a JWT whose
//! `exp` is its expiry; it is otherwise opaque (Atlassian: "treat as opaque"), so only `exp` is
//! read, and a token without one is assumed to live 55 minutes (Atlassian's older minimum).
//! Sources: developer.atlassian.com/platform/forge/remote/calling-product-apis/ and
//! .../remote/scheduled-triggers/.
//!
//! At rest each token is sealed with AES-256-GCM (`ring`, already the TLS stack's crypto), under
//! `TOKEN_ENCRYPTION_KEY`, with a random nonce and the installation id as associated data, so a
//! sealed token copied to another installation's row does not open.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use forge_fit::AppSystemToken;
use ring::{
    aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN},
    rand::{SecureRandom, SystemRandom},
};
use secrecy::ExposeSecret as _;
use sqlx::Row as _;

use super::db::{tasks::now_millis, Database};

/// A token that states no expiry is trusted for this long.
const ASSUMED_LIFETIME: Duration = Duration::from_secs(55 * 60);

/// A stored token is replaced only by one that outlives it by this much: Forge sends the
/// system token with every call, and a write per call would put the vault on the hot path.
const REFRESH_MARGIN: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("is not base64")]
    NotBase64,
    #[error("must be 32 bytes (base64 of 32 random bytes), got {0}")]
    Length(usize),
}

/// `TOKEN_ENCRYPTION_KEY`, parsed.
#[derive(Clone)]
pub struct TokenKey(Arc<LessSafeKey>);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey([REDACTED])")
    }
}

impl TokenKey {
    /// From base64 of exactly 32 bytes.
    pub fn from_base64(raw: &str) -> Result<Self, KeyError> {
        let bytes = STANDARD
            .decode(raw.trim())
            .map_err(|_| KeyError::NotBase64)?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let key =
            UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| KeyError::Length(bytes.len()))?;
        Ok(Self(Arc::new(LessSafeKey::new(key))))
    }

    /// A fresh random key, base64: what the local host uses, and what an operator can use.
    pub fn generate_base64() -> String {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system's random source works");
        STANDARD.encode(bytes)
    }

    fn seal(&self, installation: &str, token: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system's random source works");
        let mut data = token.as_bytes().to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(installation.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM sealing cannot fail for a token-sized input");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&data);
        STANDARD.encode(sealed)
    }

    fn open(&self, installation: &str, sealed: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed).ok()?;
        let (nonce, data) = bytes.split_at_checked(NONCE_LEN)?;
        let mut data = data.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(installation.as_bytes()), &mut data)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

/// A token taken out of the vault, with its expiry (ms since the epoch).
pub struct StoredToken {
    pub token: AppSystemToken,
    pub expires_at: i64,
}

/// The vault: the database table plus, per process, the expiry of what it last stored for each
/// installation, so that most calls cost a map lookup.
#[derive(Clone)]
pub struct TokenVault {
    key: TokenKey,
    stored: Arc<Mutex<HashMap<String, i64>>>,
}

impl TokenVault {
    pub fn new(key: TokenKey) -> Self {
        Self {
            key,
            stored: Arc::default(),
        }
    }

    /// Keeps `token` if it outlives the stored one by [`REFRESH_MARGIN`]. Never logs it.
    pub async fn offer(
        &self,
        db: &Database,
        installation: &str,
        token: &AppSystemToken,
    ) -> Result<bool, sqlx::Error> {
        let expires_at = expiry_millis(token.expose_secret())
            .unwrap_or_else(|| now_millis() + ASSUMED_LIFETIME.as_millis() as i64);
        let margin = REFRESH_MARGIN.as_millis() as i64;
        let known = self.known(installation);
        if known.is_some_and(|stored| expires_at < stored + margin) {
            return Ok(false);
        }
        let sealed = self.key.seal(installation, token.expose_secret());
        // Conditional on expiry, so of two replicas (or two requests) the longer-lived token wins.
        sqlx::query(
            "INSERT INTO installation_tokens (installation_id, sealed, expires_at, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (installation_id) DO UPDATE SET \
             sealed = excluded.sealed, expires_at = excluded.expires_at, updated_at = excluded.updated_at \
             WHERE installation_tokens.expires_at < excluded.expires_at",
        )
        .bind(installation)
        .bind(sealed)
        .bind(expires_at)
        .bind(now_millis())
        .execute(db.pool())
        .await?;
        self.remember(installation, expires_at);
        Ok(true)
    }

    /// The stored token of `installation`, if it is still valid for a minute.
    pub async fn token(
        &self,
        db: &Database,
        installation: &str,
    ) -> Result<Option<StoredToken>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT sealed, expires_at FROM installation_tokens WHERE installation_id = $1",
        )
        .bind(installation)
        .fetch_optional(db.pool())
        .await?;
        let Some(row) = row else {
            // Purged (perhaps by another replica): the next token offered must be kept.
            self.forget(installation);
            return Ok(None);
        };
        let expires_at: i64 = row.try_get("expires_at")?;
        if expires_at <= now_millis() + 60_000 {
            return Ok(None);
        }
        let sealed: String = row.try_get("sealed")?;
        match self.key.open(installation, &sealed) {
            Some(token) => Ok(Some(StoredToken {
                token: AppSystemToken::new(token),
                expires_at,
            })),
            None => {
                tracing::error!(
                    installation,
                    "a stored system token does not open with TOKEN_ENCRYPTION_KEY (was the key changed?)"
                );
                Ok(None)
            }
        }
    }

    /// Forgets what this process stored for `installation` (after a purge).
    pub fn forget(&self, installation: &str) {
        self.map().remove(installation);
    }

    fn known(&self, installation: &str) -> Option<i64> {
        self.map().get(installation).copied()
    }

    fn remember(&self, installation: &str, expires_at: i64) {
        let mut map = self.map();
        let entry = map.entry(installation.to_owned()).or_insert(expires_at);
        *entry = (*entry).max(expires_at);
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.stored.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The `exp` claim (seconds) of a JWT, in ms; read without verifying, as the token is not ours
/// to verify: Jira does that.
fn expiry_millis(token: &str) -> Option<i64> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = token.split('.').nth(1)?;
    let json = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let exp = serde_json::from_slice::<serde_json::Value>(&json)
        .ok()?
        .get("exp")?
        .as_i64()?;
    Some(exp.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::from_bytes(&[7u8; 32]).unwrap()
    }

    #[test]
    fn a_sealed_token_opens_only_for_its_installation_and_key() {
        let sealed = key().seal("inst-a", "secret-token");
        assert!(!sealed.contains("secret-token"));
        assert_eq!(
            key().open("inst-a", &sealed).as_deref(),
            Some("secret-token")
        );
        assert_eq!(key().open("inst-b", &sealed), None);
        let other = TokenKey::from_bytes(&[8u8; 32]).unwrap();
        assert_eq!(other.open("inst-a", &sealed), None);
        // A fresh nonce each time: the same token seals differently.
        assert_ne!(sealed, key().seal("inst-a", "secret-token"));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(TokenKey::from_base64(&TokenKey::generate_base64()).is_ok());
        assert!(matches!(
            TokenKey::from_base64("c2hvcnQ="),
            Err(KeyError::Length(5))
        ));
        assert!(matches!(
            TokenKey::from_base64("not base64!"),
            Err(KeyError::NotBase64)
        ));
    }

    #[test]
    fn expiry_is_read_from_a_jwt_only() {
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"exp":1700000000}"#);
        assert_eq!(
            expiry_millis(&format!("h.{payload}.s")),
            Some(1_700_000_000_000)
        );
        assert_eq!(expiry_millis("opaque-token"), None);
    }
}
