//! The axum side: a middleware that verifies the FIT on every request of a router, and the
//! extractors through which handlers read what was verified.
//!
//! Install the middleware on the whole API router, so a new route is protected by default:
//!
//! ```no_run
//! # use axum::Router;
//! # use forge_fit::{require_fit, FitError, FitVerifier};
//! # fn protect(api: Router, verifier: FitVerifier) -> Router {
//! api.route_layer(axum::middleware::from_fn_with_state(verifier, require_fit::<FitError>))
//! # }
//! ```
//!
//! The type parameter is the error refusals are answered with: [`FitError`] itself (an opaque
//! JSON 401), or the application's own error type, converted with `From<FitError>`.

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{header::AUTHORIZATION, request::Parts, HeaderMap},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{FitClaims, FitError, FitVerifier, ForgeOAuth};

/// Counter of tokens checked by [`require_fit`], by `result` (`accepted`, `rejected`) and
/// `reason` ([`FitError::reason`], `none` when accepted).
pub const VERIFICATIONS: &str = "forge_fit_verifications_total";

/// Middleware: verifies the FIT from `Authorization: Bearer`, then hands the claims and the
/// forwarded OAuth tokens to the handlers (see [`Fit`] and [`ForgeOAuth`]).
///
/// A refusal is answered with `E`, converted from the [`FitError`]: `require_fit::<FitError>`
/// for this crate's default answer, or the application's own error type.
///
/// Records `installation` and `principal` on the current span, which the embedding app is
/// expected to declare (as `tracing::field::Empty`) on its request span.
pub async fn require_fit<E>(
    State(verifier): State<FitVerifier>,
    mut request: Request,
    next: Next,
) -> Result<Response, E>
where
    E: From<FitError> + IntoResponse,
{
    let verified = match bearer_token(request.headers()) {
        Ok(token) => verifier.verify(token).await,
        Err(e) => Err(e),
    };
    let claims = match verified {
        Ok(claims) => {
            metrics::counter!(VERIFICATIONS, "result" => "accepted", "reason" => "none")
                .increment(1);
            claims
        }
        Err(e) => {
            metrics::counter!(VERIFICATIONS, "result" => "rejected", "reason" => e.reason())
                .increment(1);
            return Err(E::from(e));
        }
    };

    let span = tracing::Span::current();
    span.record(
        "installation",
        tracing::field::display(&claims.app.installation_id),
    );
    if let Some(principal) = &claims.principal {
        span.record("principal", tracing::field::display(principal));
    }
    // One line per verified invocation, naming where it came from: with Forge's own remote
    // logs gone (CHANGE-2979), this is what support asks for next to the trace id.
    let context = claims.context.as_ref();
    tracing::info!(
        module = claims.app.module.key.as_str(),
        environment = claims.app.environment.kind.as_str(),
        environment_id = claims.app.environment.id.as_str(),
        cloud_id = context.map(|c| c.cloud_id.as_str()).unwrap_or(""),
        extension = context
            .and_then(|c| c.extension.as_ref())
            .map(extension_summary)
            .unwrap_or_default(),
        "FIT verified"
    );

    let oauth = ForgeOAuth::take_from(request.headers_mut());
    request.extensions_mut().insert(oauth);
    request.extensions_mut().insert(Fit(claims));
    Ok(next.run(request).await)
}

/// `jira:issuePanel issue=10001 (TT-1)`, `macro content=65537`: enough to recognise the
/// invocation in a log line, nothing secret.
fn extension_summary(extension: &super::ExtensionClaims) -> String {
    use super::ExtensionClaims::*;
    match extension {
        IssuePanel { issue, .. } => format!("jira:issuePanel issue={} ({})", issue.id, issue.key),
        Macro { content, .. } => format!(
            "macro content={}",
            content.as_ref().map(|c| c.id.as_str()).unwrap_or("-")
        ),
        Other => "other".to_owned(),
    }
}

/// The token from the one `Authorization: Bearer <token>` header. The scheme is
/// case-insensitive (RFC 7235).
fn bearer_token(headers: &HeaderMap) -> Result<&str, FitError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(FitError::MissingToken)?;
    if values.next().is_some() {
        return Err(FitError::AmbiguousToken);
    }
    let value = value.to_str().map_err(|_| FitError::NotBearer)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(FitError::NotBearer),
    }
}

/// Extractor: the verified claims of this request. Handlers take the tenant
/// (`app.installation_id`), the user (`principal`) and the context from here, and from nowhere
/// else (never from the body or query).
///
/// Fails with [`FitError::NotVerified`] on a route that is not behind [`require_fit`].
#[derive(Debug, Clone)]
pub struct Fit(pub Arc<FitClaims>);

impl std::ops::Deref for Fit {
    type Target = FitClaims;

    fn deref(&self) -> &FitClaims {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Fit {
    type Rejection = FitError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, FitError> {
        parts
            .extensions
            .get::<Fit>()
            .cloned()
            .ok_or(FitError::NotVerified)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ForgeOAuth {
    type Rejection = FitError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, FitError> {
        parts
            .extensions
            .get::<ForgeOAuth>()
            .cloned()
            .ok_or(FitError::NotVerified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_the_token_trimmed() {
        for value in ["Bearer abc", "bearer abc", "BEARER  abc "] {
            assert_eq!(bearer_token(&headers(&[value])).unwrap(), "abc", "{value}");
        }
    }

    #[test]
    fn other_schemes_empty_tokens_and_duplicates_are_refused() {
        assert!(matches!(
            bearer_token(&headers(&[])),
            Err(FitError::MissingToken)
        ));
        for value in ["Basic abc", "Bearer", "Bearer ", "Bearerabc", "Token abc"] {
            let err = bearer_token(&headers(&[value])).unwrap_err();
            assert!(matches!(err, FitError::NotBearer), "{value}: {err:?}");
        }
        let err = bearer_token(&headers(&["Bearer a", "Bearer b"])).unwrap_err();
        assert!(matches!(err, FitError::AmbiguousToken));
    }
}
