//! The host's signing side: an RS256 key that stands in for Forge's, the JWKS that publishes
//! it, and the opaque OAuth tokens the REST stand-in accepts. Token minting itself is
//! `forge_fit::mint`, shared with the tests.

use std::{
    collections::HashMap,
    path::Path,
    sync::Mutex,
    time::{Duration, SystemTime},
};

use rsa::{
    pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey},
    rand_core::{OsRng, RngCore},
    RsaPrivateKey,
};
use serde_json::Value;

use forge_fit::mint::SigningKey;

/// Forge's tokens live 25 s (`exp - iat` in real tokens).
pub const FIT_LIFETIME: Duration = Duration::from_secs(forge_fit::mint::FORGE_TOKEN_LIFETIME_SECS);
/// Forge guarantees forwarded OAuth tokens stay valid for at least two hours.
pub const OAUTH_LIFETIME: Duration = Duration::from_secs(2 * 3600);

pub struct Signer {
    key: SigningKey,
    jwks: Value,
    tokens: Mutex<HashMap<String, OAuthGrant>>,
}

/// What a forwarded OAuth token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthGrant {
    pub installation_id: String,
    /// `None` for the app's system token.
    pub account_id: Option<String>,
    pub expires_at: SystemTime,
}

/// Creates `path` with mode 0600 from the start (no window in which it is readable by others).
fn write_owner_only(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)?;
    restrict_to_owner(path)
}

fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The development `TOKEN_ENCRYPTION_KEY` (base64 of 32 random bytes) from `path`, or a new one
/// kept there, owner-only: the remote's stored tokens stay readable across restarts.
pub fn load_or_create_token_key(path: &Path) -> anyhow::Result<String> {
    use base64::{engine::general_purpose::STANDARD, Engine as _};
    if let Ok(text) = std::fs::read_to_string(path) {
        restrict_to_owner(path)?;
        return Ok(text.trim().to_owned());
    }
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let key = STANDARD.encode(bytes);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_owner_only(path, key.as_bytes())?;
    Ok(key)
}

impl Signer {
    /// Loads the key from `key_file`, or generates and keeps one there. Keeping it under
    /// `target/` lets the remote's cached JWKS stay valid across `cargo leptos watch` restarts.
    pub fn load_or_create(key_file: &Path) -> anyhow::Result<Self> {
        let private = match std::fs::read(key_file) {
            Ok(der) => {
                // Whoever reads it can mint tokens the local remote trusts: owner only, also
                // for a key file an older version wrote world-readable.
                restrict_to_owner(key_file)?;
                RsaPrivateKey::from_pkcs1_der(&der)?
            }
            Err(_) => {
                let key = RsaPrivateKey::new(&mut OsRng, 2048)?;
                if let Some(dir) = key_file.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                write_owner_only(key_file, key.to_pkcs1_der()?.as_bytes())?;
                key
            }
        };
        // Forge's key ids look like `forge/invocation-token/wf-<uuid>`.
        let fingerprint =
            ring::digest::digest(&ring::digest::SHA256, private.to_pkcs1_der()?.as_bytes());
        let kid = format!(
            "forge/invocation-token/dev-{}",
            hex(&fingerprint.as_ref()[..8])
        );
        let key = SigningKey::from_private(kid, private);
        Ok(Self {
            jwks: SigningKey::jwks([&key]),
            key,
            tokens: Mutex::default(),
        })
    }

    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// Signs `claims` with RS256 under the host's `kid`.
    pub fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        Ok(self.key.sign(claims))
    }

    /// Issues an opaque OAuth token for the REST stand-in.
    pub fn issue_oauth_token(&self, installation_id: &str, account_id: Option<&str>) -> String {
        let token = format!("devhost-oauth-{}", random_hex(24));
        let grant = OAuthGrant {
            installation_id: installation_id.to_owned(),
            account_id: account_id.map(str::to_owned),
            expires_at: SystemTime::now() + OAUTH_LIFETIME,
        };
        let mut tokens = self.tokens.lock().expect("token table");
        tokens.retain(|_, g| g.expires_at > SystemTime::now());
        tokens.insert(token.clone(), grant);
        token
    }

    /// The grant behind a token this host issued, if it is still valid.
    pub fn grant(&self, token: &str) -> Option<OAuthGrant> {
        let tokens = self.tokens.lock().expect("token table");
        tokens
            .get(token)
            .filter(|g| g.expires_at > SystemTime::now())
            .cloned()
    }
}

pub fn now_secs() -> u64 {
    forge_fit::mint::now()
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex(&buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_signing_key_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys/fit-signing-key.der");
        let first = Signer::load_or_create(&file).unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");

        // A key file left world-readable by an older version is tightened when loaded.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let again = Signer::load_or_create(&file).unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
        assert_eq!(first.key.kid(), again.key.kid(), "the same key, loaded");
    }
}
