//! Forge Invocation Token (FIT) verification for a Forge Remote.
//!
//! Self-contained on purpose, so another Forge remote can lift it out: it depends on axum,
//! `jsonwebtoken`, `reqwest`, `ring`, `secrecy` and `tracing`, and on nothing else in this crate. The
//! embedding app supplies one thing, `impl IntoResponse for FitError` (here in `error.rs`).
//!
//! What is checked, in order (Atlassian's "Forge remote essentials", https://developer.atlassian.com/platform/forge/remote/essentials/): one `Authorization: Bearer` header, a size
//! cap, `alg == RS256` from our own reading of the header (never trusting it to pick a verifier),
//! no `crit`, the key by `kid` from the cached JWKS, the signature, `exp` (required) and `nbf`
//! and `iat` with a leeway, `iss == forge/invocation-token`, `aud ==` the full app ARI, and
//! `app.id == aud`. A token that passed is remembered by the SHA-256 of its bytes until it
//! expires, so the token `requestRemote` reuses across calls is verified once (`cache.rs`).
//!
//! Wiring:
//!
//! ```ignore
//! let verifier = FitVerifier::new(FitConfig::new(app_id, JwksConfig::new(url)))?;
//! let _ = verifier.jwks().refresh().await; // warm the cache; failure is logged, not fatal
//! let api = Router::new()
//!     .route("/whoami", get(whoami))
//!     .route_layer(axum::middleware::from_fn_with_state(verifier, require_fit));
//! async fn whoami(Fit(claims): Fit, oauth: ForgeOAuth) -> … { … }
//! ```

/// Verified tokens, remembered until they expire.
mod cache;
/// The typed claims.
mod claims;
/// Why a token was refused.
mod error;
/// The cached, rate-limited JWKS.
mod jwks;
/// The axum middleware and extractors.
mod layer;
/// Test and development token minting; never in a release server binary.
#[cfg(any(debug_assertions, feature = "mint"))]
pub mod mint;
/// The forwarded OAuth tokens as secrets.
mod oauth;
/// Verification of one token.
mod verify;

pub use cache::CacheStats;
pub use claims::{
    AppClaims, ContentClaims, ContextClaims, EnvironmentClaims, EnvironmentType, ExtensionClaims,
    FitClaims, IssueClaims, LicenseClaims, ModuleClaims, ProjectClaims, SpaceClaims,
};
pub use error::FitError;
pub use jwks::{Jwks, JwksConfig, JwksError, DEFAULT_MAX_AGE as DEFAULT_JWKS_MAX_AGE};
pub use layer::{require_fit, Fit};
pub use oauth::{AppSystemToken, AppUserToken, ForgeOAuth, SYSTEM_TOKEN_HEADER, USER_TOKEN_HEADER};
pub use verify::{FitConfig, FitVerifier, DEFAULT_CACHE_ENTRIES, ISSUER, MAX_TOKEN_BYTES};
