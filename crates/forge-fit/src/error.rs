//! Why a Forge Invocation Token was not accepted.
//!
//! The reasons are for logs only. Every variant but `NotVerified` is answered with one opaque
//! 401: telling a caller why its token failed only helps forgers. An application with its own
//! error type answers in its own format instead (`require_fit::<YourError>`, with
//! `YourError: From<FitError>`).

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

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

    /// A short, fixed name for the kind of failure: the `reason` label of
    /// `forge_fit_verifications_total`, so never anything from the token itself.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::AmbiguousToken => "ambiguous_token",
            Self::NotBearer => "not_bearer",
            Self::TooLarge { .. } => "too_large",
            Self::Malformed(_) => "malformed",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::CriticalHeader => "critical_header",
            Self::MissingKid => "missing_kid",
            Self::UnknownKid { .. } => "unknown_kid",
            Self::InvalidSignature => "invalid_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::AppMismatch => "app_mismatch",
            Self::EnvironmentNotAllowed { .. } => "environment_not_allowed",
            Self::InvalidClaims(_) => "invalid_claims",
            Self::NotVerified => "not_verified",
        }
    }

    /// Whether the caller is to blame (a 401), as opposed to our own wiring (a 500).
    pub fn is_unauthorized(&self) -> bool {
        !matches!(self, Self::NotVerified)
    }
}

/// The default answer, used by the extractors and by `require_fit::<FitError>`: a JSON body
/// (Forge's `invokeRemote` refuses any non-2xx answer that is not JSON) of the shape
/// `{"code": "invalid_token", "message": "…"}`, the same for every reason, with
/// `WWW-Authenticate: Bearer`; or a 500 `{"code": "internal", …}` for [`FitError::NotVerified`].
/// The reason is logged: at debug for a 401 (anyone can send junk), at error for a 500.
impl IntoResponse for FitError {
    fn into_response(self) -> Response {
        if !self.is_unauthorized() {
            tracing::error!(error = %self, "FIT extractor on an unverified route");
            let body = serde_json::json!({ "code": "internal", "message": "internal error" });
            return (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response();
        }
        tracing::debug!(reason = %self, "FIT rejected");
        let body = serde_json::json!({
            "code": "invalid_token",
            "message": "the request does not carry a valid Forge Invocation Token",
        });
        let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="forge-remote""#),
        );
        response
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(e: FitError) -> (StatusCode, Option<HeaderValue>, String) {
        let response = e.into_response();
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let status = response.status();
        let challenge = response.headers().get(header::WWW_AUTHENTICATE).cloned();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, challenge, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn every_refusal_is_the_same_json_401_and_a_missing_layer_is_a_500() {
        let expired = answer(FitError::Expired).await;
        assert_eq!(expired.0, StatusCode::UNAUTHORIZED);
        assert_eq!(expired.1.unwrap(), r#"Bearer realm="forge-remote""#);
        assert!(
            expired.2.contains(r#""code":"invalid_token""#),
            "{}",
            expired.2
        );
        let kid = answer(FitError::UnknownKid { kid: "k-1".into() }).await;
        assert_eq!(kid.2, expired.2, "the reason is never sent");

        let (status, challenge, body) = answer(FitError::NotVerified).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(challenge.is_none());
        assert!(body.contains(r#""code":"internal""#), "{body}");
    }
}
