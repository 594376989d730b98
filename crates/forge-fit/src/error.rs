//! Why a Forge Invocation Token was not accepted.
//!
//! The reasons are for our logs only. The embedding application maps every variant but
//! `NotVerified` to one opaque 401: telling a caller why its token failed only helps forgers.

/// Every way a request can fail FIT verification.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("no Authorization header")]
    MissingToken,
    #[error("more than one Authorization header")]
    AmbiguousToken,
    #[error("the Authorization header is not `Bearer <token>`")]
    NotBearer,
    #[error("the token is longer than {max} bytes")]
    TooLarge { max: usize },
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(String),
    /// Checked before any key lookup, so `none`, `HS256` and friends never reach a verifier.
    #[error("algorithm {0:?} is not accepted; only RS256 is")]
    UnsupportedAlgorithm(String),
    #[error("the token header has critical extensions we do not implement")]
    CriticalHeader,
    #[error("the token header has no `kid`")]
    MissingKid,
    /// Also what a JWKS outage looks like for a key we never cached.
    #[error("no signing key with kid {kid:?}")]
    UnknownKid { kid: String },
    #[error("the signature does not verify")]
    InvalidSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the token was issued in the future (iat)")]
    IssuedInFuture,
    #[error("the issuer is not forge/invocation-token")]
    WrongIssuer,
    #[error("the audience is not this app")]
    WrongAudience,
    #[error("`app.id` differs from the audience")]
    AppMismatch,
    /// Signed by Forge for this app, but for an environment this deployment does not serve.
    #[error("app environment {id:?} is not one of FORGE_ENVIRONMENT_IDS")]
    EnvironmentNotAllowed { id: String },
    #[error("the claims are missing or malformed: {0}")]
    InvalidClaims(String),
    /// A handler asked for verified claims on a route that is not behind `require_fit`.
    /// A bug in the router, not the caller's fault.
    #[error("the route is not behind the FIT verification layer")]
    NotVerified,
}

impl FitError {
    /// Header values are the caller's: keep what goes into logs short (and `{:?}` above escapes
    /// control characters, so a crafted `kid` cannot forge log lines).
    pub(super) fn truncated(value: &str) -> String {
        value.chars().take(64).collect()
    }

    /// Whether the caller is to blame (a 401), as opposed to our own wiring (a 500).
    pub fn is_unauthorized(&self) -> bool {
        !matches!(self, Self::NotVerified)
    }
}

impl From<jsonwebtoken::errors::Error> for FitError {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind as K;
        match e.kind() {
            K::InvalidSignature => Self::InvalidSignature,
            K::ExpiredSignature => Self::Expired,
            K::ImmatureSignature => Self::NotYetValid,
            K::InvalidIssuer => Self::WrongIssuer,
            K::InvalidAudience => Self::WrongAudience,
            K::InvalidAlgorithm => Self::UnsupportedAlgorithm("mismatch".into()),
            K::MissingRequiredClaim(_) | K::Json(_) => Self::InvalidClaims(e.to_string()),
            // An RSA key the JWKS published but ring refuses (e.g. shorter than 2048 bits)
            // fails the same way as a wrong signature.
            K::InvalidRsaKey(_) => Self::InvalidSignature,
            _ => Self::Malformed(e.to_string()),
        }
    }
}
