//! The remote's one error type, and the one place errors become HTTP responses.
//!
//! Forge's `invokeRemote` rejects any non-2xx answer that is not JSON, and reserves 401 for
//! "Remote could not verify the Forge Invocation Token". So every error here is JSON
//! ([`ErrorBody`]), and only a FIT failure is a 401.
//!
//! Handlers and middleware answer with `ApiError` itself ([`IntoResponse`]); server functions
//! return [`ErrorBody`], and `?` converts an `ApiError` into one, setting the answer's status
//! through leptos_axum's `ResponseOptions` on the way.

use crate::api::ErrorBody;
use axum::{
    body::Body,
    extract::{rejection::JsonRejection, Request},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use forge_fit::FitError;

/// The result type of handlers.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Every error a request can end in. Each variant's doc starts with its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: the Forge Invocation Token is missing or failed verification.
    #[error("the request does not carry a valid Forge Invocation Token")]
    Unauthorized(#[source] anyhow::Error),
    /// 403: verified, but this principal may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 403: the installation was uninstalled (`preUninstall`); only a new install revives it.
    #[error("{0}")]
    NotInstalled(String),
    /// 404: no such thing in this installation.
    #[error("{0}")]
    NotFound(String),
    /// 400: the request cannot be read (bad JSON, unknown fields, wrong types).
    #[error("{0}")]
    BadRequest(String),
    /// 409: the request is fine, but the list it adds to is full.
    #[error("{0}")]
    Conflict(String),
    /// 422: the request reads fine but its values are not acceptable.
    #[error("{0}")]
    Unprocessable(String),
    /// 429: this user is over the rate limit; `Retry-After` says when to try again.
    #[error("Too many requests: try again in {retry_after_secs} s.")]
    TooManyRequests { retry_after_secs: u64 },
    /// 500: our fault. The cause is logged, never sent.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 500 from any error (a database's, a client's): logged with its cause, never sent.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::NotInstalled(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "invalid_token",
            Self::Forbidden(_) => "forbidden",
            Self::NotInstalled(_) => "not_installed",
            Self::NotFound(_) => "not_found",
            Self::BadRequest(_) => "bad_request",
            Self::Conflict(_) => "list_full",
            Self::Unprocessable(_) => "unprocessable",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Internal(_) => "internal",
        }
    }
}

impl ApiError {
    /// Logs what must not be sent: a FIT failure's reason (at debug, summarised at warn), an
    /// internal error's cause.
    fn log(&self) {
        match self {
            // The reason stays in our logs: telling a caller why its token failed helps forgers.
            // At debug, since anyone can send junk; a warn summarises them (see below).
            Self::Unauthorized(cause) => {
                let reason = format!("{cause:#}");
                tracing::debug!(reason = ?reason, "FIT rejected");
                REJECTIONS.count(&reason);
            }
            Self::Internal(cause) => tracing::error!(error.cause_chain = ?cause, "internal error"),
            _ => {}
        }
    }
}

/// A server function's error: logged, and its status set on the answer.
impl From<ApiError> for ErrorBody {
    fn from(e: ApiError) -> Self {
        e.log();
        answer_with(e.status());
        ErrorBody {
            code: e.code().into(),
            message: e.to_string(),
        }
    }
}

/// Sets the status of the server function's answer being made. Outside a server function
/// (no `ResponseOptions`) it does nothing.
pub(crate) fn answer_with(status: StatusCode) {
    if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(status);
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = json_error(self.status(), self.code(), self.to_string());
        if matches!(self, Self::Unauthorized(_)) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="forge-remote""#),
            );
        }
        if let Self::TooManyRequests { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

/// Rejected tokens, summarised in one warn line at most once a minute, so a flood of junk
/// tokens cannot flood the logs and real trouble (an expired clock, a rotated key) still shows
/// at the default level.
static REJECTIONS: RejectionSummary = RejectionSummary::new();

/// At most one summary line per this period.
const SUMMARY_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

struct RejectionSummary {
    state: std::sync::Mutex<Option<(std::time::Instant, u64)>>,
}

impl RejectionSummary {
    const fn new() -> Self {
        Self {
            state: std::sync::Mutex::new(None),
        }
    }

    fn count(&self, reason: &str) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        match &mut *state {
            Some((since, count)) if now.duration_since(*since) < SUMMARY_EVERY => *count += 1,
            _ => {
                let before = state.map(|(_, count)| count).unwrap_or(0);
                *state = Some((now, 0));
                let last: String = reason.chars().take(200).collect();
                tracing::warn!(
                    rejected_since_last_summary = before + 1,
                    last_reason = ?last,
                    "FIT rejections (one summary per minute; each at debug)"
                );
            }
        }
    }
}

/// A FIT failure is a 401, except a route wired without the FIT layer, which is our bug (500).
impl From<FitError> for ApiError {
    fn from(e: FitError) -> Self {
        if e.is_unauthorized() {
            Self::Unauthorized(e.into())
        } else {
            Self::Internal(e.into())
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            // Well-formed JSON whose fields are wrong (unknown, missing, mistyped).
            JsonRejection::JsonDataError(e) => Self::Unprocessable(e.body_text()),
            other => Self::BadRequest(other.body_text()),
        }
    }
}

/// A JSON error response with the shared body shape.
pub fn json_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = ErrorBody {
        code: code.into(),
        message: message.into(),
    };
    (status, Json(body)).into_response()
}

/// Middleware: turns any non-2xx answer that is not already JSON into a JSON error.
///
/// Layers outside our handlers (body limits, timeouts, axum's own 404/405) answer with empty or
/// plain-text bodies, which `invokeRemote` would reject as "cannot parse body as JSON".
pub async fn ensure_json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.is_success() || status.is_informational() || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed".to_owned()),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "request body is larger than Forge's 500 KB limit".to_owned(),
        ),
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => {
            ("timeout", "the remote did not answer in time".to_owned())
        }
        s if s.is_redirection() => return response,
        s => ("error", s.canonical_reason().unwrap_or("error").to_owned()),
    };
    let (mut parts, _) = response.into_parts();
    let fresh = json_error(status, code, message);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let (_, body) = fresh.into_parts();
    Response::from_parts(parts, Body::new(body))
}
