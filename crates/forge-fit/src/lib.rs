//! Forge Invocation Token (FIT) verification for an axum [Forge remote].
//!
//! Every request Forge sends to a remote (`invokeRemote`, `requestRemote`, remote events)
//! carries a FIT: an RS256 JWT signed with a key from Forge's JWKS. This crate verifies it, hands
//! the typed claims to the handlers, and takes the forwarded OAuth tokens out of the headers as
//! secrets. It knows nothing of any particular app: it depends on axum, `jsonwebtoken`,
//! `reqwest`, `ring`, `secrecy` and `tracing`.
//!
//! What is checked, in order (Atlassian's [Forge remote essentials]): one
//! `Authorization: Bearer` header, a size cap, `alg == RS256` from our own reading of the
//! header (never trusting it to pick a verifier), no `crit`, the key by `kid` from the cached
//! JWKS, the signature, `exp` (required) and `nbf` and `iat` with a leeway,
//! `iss == forge/invocation-token`, `aud ==` the full app ARI, `app.id == aud`, and optionally
//! the app environment. A token that passed is remembered by the SHA-256 of its bytes until it
//! expires, so the token `requestRemote` reuses across calls is verified once.
//!
//! # Wiring
//!
//! Put [`require_fit`] on the router of every route Forge calls, and read what was verified with
//! the [`Fit`] and [`ForgeOAuth`] extractors:
//!
//! ```no_run
//! use axum::{middleware, routing::get, Json, Router};
//! use forge_fit::{require_fit, Fit, FitConfig, FitError, FitVerifier, ForgeOAuth, JwksConfig};
//! use serde_json::{json, Value};
//!
//! /// The tenant and the user come from the verified token, never from the request body.
//! async fn whoami(Fit(claims): Fit, oauth: ForgeOAuth) -> Json<Value> {
//!     Json(json!({
//!         "installation": claims.app.installation_id,
//!         "principal": claims.principal,
//!         "can_call_atlassian_as_the_app": oauth.system.is_some(),
//!     }))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let jwks = JwksConfig::new("https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json");
//! let app_id = "ari:cloud:ecosystem::app/3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4";
//! let verifier = FitVerifier::new(FitConfig::new(app_id, jwks))?;
//! // Warm the key cache. A failure is not fatal: the first token fetches the keys again.
//! let _ = verifier.jwks().refresh().await;
//!
//! let app = Router::new()
//!     .route("/whoami", get(whoami))
//!     // Every route above is behind the layer. `FitError` answers a refusal with an opaque
//!     // JSON 401; pass your own error type (`From<FitError> + IntoResponse`) to answer in
//!     // your format.
//!     .route_layer(middleware::from_fn_with_state(verifier, require_fit::<FitError>));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Minting, for tests
//!
//! The `mint` feature adds `forge_fit::mint`: RSA keys that publish a JWKS and sign Forge-shaped tokens.
//! Enable it in `[dev-dependencies]` only, so the remote itself cannot mint tokens.
//!
//! [Forge remote]: https://developer.atlassian.com/platform/forge/remote/
//! [Forge remote essentials]: https://developer.atlassian.com/platform/forge/remote/essentials/

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
/// Token minting for tests and a local Forge host (feature `mint`).
#[cfg(feature = "mint")]
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
pub use jwks::{
    check_jwks_url, is_loopback_host, Jwks, JwksConfig, JwksError,
    DEFAULT_MAX_AGE as DEFAULT_JWKS_MAX_AGE,
};
pub use layer::{require_fit, Fit};
pub use oauth::{AppSystemToken, AppUserToken, ForgeOAuth, SYSTEM_TOKEN_HEADER, USER_TOKEN_HEADER};
/// What reads a forwarded token's text (`token.expose_secret()`), re-exported so a remote needs
/// no direct `secrecy` dependency.
pub use secrecy::ExposeSecret;
pub use verify::{FitConfig, FitVerifier, DEFAULT_CACHE_ENTRIES, ISSUER, MAX_TOKEN_BYTES};
