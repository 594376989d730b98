//! Calls to Jira with the tokens Forge forwards, through the FIT's `app.apiBaseUrl`
//! (`https://api.atlassian.com/ex/jira/<cloudId>`; the site URL would answer 401).
//!
//! Failures here never fail a task operation: the caller turns them into a notice.
//!
//! The forwarded OAuth tokens act as the app and as the user on the whole site, so they go only
//! to Atlassian: before any call, `apiBaseUrl` must be `https://` on an allowed host
//! (`FORGE_API_HOSTS`, default `api.atlassian.com`) and name the token's own cloud id
//! (`/ex/<product>/<context.cloudId>`). A token's claims are signed by Forge, but a check here
//! costs nothing and keeps a mistake elsewhere (or a stolen signing key) from sending them away.

use std::time::Duration;

use crate::tasks::{IssueSummary, Progress};
use serde::Deserialize;
use serde_json::json;

use secrecy::ExposeSecret;

use forge_fit::{AppSystemToken, AppUserToken, FitClaims};

/// Entity property holding `{done, total}`, so progress can be searched in JQL
/// (`issue.property[tasks-progress].done = 0`).
pub const PROGRESS_PROPERTY: &str = "tasks-progress";

/// Keeps Jira calls well inside the remote's own request deadline.
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum AtlassianError {
    #[error("Forge did not forward the {0} token for this call")]
    MissingToken(&'static str),
    #[error("Jira answered {0}")]
    Status(u16),
    /// 429: Jira asks the app to slow down, for `Retry-After` when it says.
    #[error("Jira asked to slow down (429)")]
    RateLimited { retry_after: Option<Duration> },
    #[error("Jira could not be reached")]
    Network(#[source] reqwest::Error),
    #[error("Jira's answer was not understood")]
    Decode(#[source] reqwest::Error),
    /// The user sees what an outage shows; the reason is logged (at warn, when checked).
    #[error("Jira could not be reached")]
    UntrustedApiBaseUrl,
}

/// Jira REST, for one installation.
pub struct Jira<'a> {
    http: &'a reqwest::Client,
    /// The checked `apiBaseUrl`, without a trailing slash; `None` when it failed the check.
    api_base_url: Option<&'a str>,
}

impl<'a> Jira<'a> {
    /// Jira at `claims.app.apiBaseUrl`, if it passes [`check_api_base_url`] against
    /// `allowed_hosts`; otherwise every call fails with no request sent.
    pub fn new(http: &'a reqwest::Client, claims: &'a FitClaims, allowed_hosts: &[String]) -> Self {
        let cloud_id = claims.context.as_ref().map(|c| c.cloud_id.as_str());
        Self::at(http, &claims.app.api_base_url, cloud_id, allowed_hosts)
    }

    /// Jira at a stored `apiBaseUrl` (the outbox's, with no request at hand), checked the same
    /// way as [`Jira::new`].
    pub fn at(
        http: &'a reqwest::Client,
        url: &'a str,
        cloud_id: Option<&str>,
        allowed_hosts: &[String],
    ) -> Self {
        let api_base_url = match check_api_base_url(url, cloud_id, allowed_hosts) {
            Ok(()) => Some(url.trim_end_matches('/')),
            Err(reason) => {
                tracing::warn!(
                    api_base_url = ?truncated(url),
                    reason,
                    "refusing to send OAuth tokens: the FIT's apiBaseUrl is not Atlassian's"
                );
                None
            }
        };
        Self { http, api_base_url }
    }

    fn base(&self) -> Result<&'a str, AtlassianError> {
        self.api_base_url.ok_or(AtlassianError::UntrustedApiBaseUrl)
    }

    /// The issue's key, summary and status, read as the user (so Jira's permissions apply).
    #[tracing::instrument(name = "Read the issue from Jira", skip(self, token))]
    pub async fn issue(
        &self,
        token: Option<&AppUserToken>,
        issue_id: &str,
    ) -> Result<IssueSummary, AtlassianError> {
        #[derive(Deserialize)]
        struct Issue {
            key: String,
            fields: Fields,
        }
        #[derive(Deserialize)]
        struct Fields {
            summary: String,
            status: Status,
        }
        #[derive(Deserialize)]
        struct Status {
            name: String,
        }
        let token = token.ok_or(AtlassianError::MissingToken("user"))?;
        let url = format!("{}/rest/api/3/issue/{}", self.base()?, encode(issue_id));
        let request = self
            .http
            .get(url)
            .query(&[("fields", "summary,status")])
            .header("accept", "application/json");
        let response = send(request, token.expose_secret()).await?;
        let issue: Issue = response.json().await.map_err(AtlassianError::Decode)?;
        Ok(IssueSummary {
            key: issue.key,
            summary: issue.fields.summary,
            status: issue.fields.status.name,
        })
    }

    /// Writes `tasks-progress` on the issue as the app.
    #[tracing::instrument(name = "Write task progress to the issue", skip(self, token))]
    pub async fn set_progress(
        &self,
        token: Option<&AppSystemToken>,
        issue_id: &str,
        progress: Progress,
    ) -> Result<(), AtlassianError> {
        let token = token.ok_or(AtlassianError::MissingToken("system"))?;
        let url = format!(
            "{}/rest/api/3/issue/{}/properties/{PROGRESS_PROPERTY}",
            self.base()?,
            encode(issue_id)
        );
        let request = self
            .http
            .put(url)
            .json(&json!({ "done": progress.done, "total": progress.total }));
        send(request, token.expose_secret()).await.map(drop)
    }
}

/// Counter of requests sent to Jira, by `http_request_method` and `result` (`ok`,
/// `rate_limited`, `client_error`, `server_error`, `unreachable`).
pub const JIRA_REQUESTS: &str = "jira_requests_total";
/// Histogram of their durations in seconds, with the same labels.
pub const JIRA_REQUEST_DURATION: &str = "jira_request_duration_seconds";

/// Sends `request` with `token` and the time limit; anything but a 2xx is an error.
async fn send(
    request: reqwest::RequestBuilder,
    token: &str,
) -> Result<reqwest::Response, AtlassianError> {
    use tracing::Instrument as _;
    let (client, request) = request.bearer_auth(token).timeout(TIMEOUT).build_split();
    let mut request = request.map_err(AtlassianError::Network)?;
    let method = if request.method() == reqwest::Method::GET {
        "GET"
    } else {
        "PUT"
    };
    let span = client_span(method, request.url());
    // Jira sees this call's own span as the parent, as OpenTelemetry's HTTP client spans are.
    span.in_scope(|| propagate_trace(request.headers_mut()));
    let started = std::time::Instant::now();
    let response = client.execute(request).instrument(span.clone()).await;
    let result = match &response {
        Ok(r) if r.status().is_success() => "ok",
        Ok(r) if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        Ok(r) if r.status().is_client_error() => "client_error",
        Ok(_) => "server_error",
        Err(_) => "unreachable",
    };
    if let Ok(r) = &response {
        span.record("http.response.status_code", i64::from(r.status().as_u16()));
    }
    if result != "ok" {
        // OpenTelemetry's `error.type`: the status code when Jira answered, else the cause.
        match &response {
            Ok(r) => span.record("error.type", r.status().as_str()),
            Err(_) => span.record("error.type", result),
        };
        span.record("otel.status_code", "ERROR");
    }
    metrics::counter!(JIRA_REQUESTS, "http_request_method" => method, "result" => result)
        .increment(1);
    metrics::histogram!(JIRA_REQUEST_DURATION, "http_request_method" => method, "result" => result)
        .record(started.elapsed().as_secs_f64());
    let response = response.map_err(AtlassianError::Network)?;
    if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
        return Err(AtlassianError::RateLimited { retry_after });
    }
    if !response.status().is_success() {
        return Err(AtlassianError::Status(response.status().as_u16()));
    }
    Ok(response)
}

/// The span of one call to Jira, a client span as OpenTelemetry's HTTP conventions describe it
/// (`PUT`, with the method, host and URL). The URL holds ids only; the token is in a header,
/// which no span records.
fn client_span(method: &'static str, url: &reqwest::Url) -> tracing::Span {
    tracing::info_span!(
        "Jira request",
        "otel.name" = method,
        "otel.kind" = "client",
        "otel.status_code" = tracing::field::Empty,
        "http.request.method" = method,
        "server.address" = url.host_str().unwrap_or_default(),
        "url.full" = url.as_str(),
        "http.response.status_code" = tracing::field::Empty,
        "error.type" = tracing::field::Empty,
    )
}

/// The current span's trace context, for Jira and whatever traces Atlassian keeps: W3C
/// `traceparent`, and the B3 headers Forge itself sends. Only when spans are exported (the
/// context is otherwise empty), and never a token: ids and the sampled flag only.
fn propagate_trace(headers: &mut reqwest::header::HeaderMap) {
    use opentelemetry::trace::TraceContextExt as _;
    use reqwest::header::HeaderValue;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let context = tracing::Span::current().context();
    let span = context.span();
    let span = span.span_context();
    if !span.is_valid() {
        return;
    }
    let (trace, id) = (span.trace_id().to_string(), span.span_id().to_string());
    let sampled = if span.is_sampled() { "1" } else { "0" };
    let headers_to_set = [
        (
            "traceparent",
            format!("00-{trace}-{id}-{:02x}", span.trace_flags().to_u8()),
        ),
        ("x-b3-traceid", trace),
        ("x-b3-spanid", id),
        ("x-b3-sampled", sampled.to_owned()),
    ];
    for (name, value) in headers_to_set {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

/// `Retry-After` in either of its forms (RFC 9110 §10.2.3): delay-seconds, or an HTTP date,
/// which is read against `now` (a date in the past means "now").
fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether forwarded tokens may go to `api_base_url`: `https://` (plain `http://` only to a
/// loopback host, for the local Forge host and tests), a host[:port] in `allowed_hosts` (an entry
/// without a port allows any port), no credentials, query or fragment, and a path
/// `/ex/<product>/<cloud_id>` when the token has a cloud id.
pub fn check_api_base_url(
    api_base_url: &str,
    cloud_id: Option<&str>,
    allowed_hosts: &[String],
) -> Result<(), &'static str> {
    let url = reqwest::Url::parse(api_base_url).map_err(|_| "not a URL")?;
    let host = url.host_str().ok_or("no host")?.to_ascii_lowercase();
    match url.scheme() {
        "https" => {}
        "http" if forge_fit::is_loopback_host(&host) => {}
        _ => return Err("not https"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("has credentials");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("has a query or fragment");
    }
    let with_port = url.port().map(|p| format!("{host}:{p}"));
    let allowed = allowed_hosts.iter().any(|entry| {
        let entry = entry.to_ascii_lowercase();
        entry == host || with_port.as_deref() == Some(entry.as_str())
    });
    if !allowed {
        return Err("host is not in FORGE_API_HOSTS");
    }
    if let Some(cloud_id) = cloud_id {
        let segments: Vec<&str> = url.path().trim_end_matches('/').split('/').collect();
        match segments.as_slice() {
            ["", "ex", _product, id] if *id == cloud_id => {}
            _ => return Err("path is not /ex/<product>/<the token's cloudId>"),
        }
    }
    Ok(())
}

/// Claims are the caller's until checked: keep what goes into logs short.
fn truncated(value: &str) -> String {
    value.chars().take(120).collect()
}

/// Issue ids are numeric and keys alphanumeric; anything else is escaped, not trusted.
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{check_api_base_url, parse_retry_after};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        // Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example date.
        let date = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let before = date - Duration::from_secs(90);
        assert_eq!(
            parse_retry_after("120", before),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", before),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after(
                "Sun, 06 Nov 1994 08:49:37 GMT",
                date + Duration::from_secs(5)
            ),
            Some(Duration::ZERO),
            "a date past is now"
        );
        assert_eq!(parse_retry_after("soon", SystemTime::now()), None);
        assert_eq!(parse_retry_after("-1", SystemTime::now()), None);
    }

    const CLOUD: &str = "9d3e1c55-0b7a-4f2e-8c61-2a4b6d8f0e13";

    fn check(url: &str, hosts: &[&str]) -> Result<(), &'static str> {
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        check_api_base_url(url, Some(CLOUD), &hosts)
    }

    #[test]
    fn atlassians_api_host_with_the_tokens_cloud_id_is_allowed() {
        let atlassian = ["api.atlassian.com"];
        assert_eq!(
            check(
                &format!("https://api.atlassian.com/ex/jira/{CLOUD}"),
                &atlassian
            ),
            Ok(())
        );
        assert_eq!(
            check(
                &format!("https://API.atlassian.com/ex/confluence/{CLOUD}/"),
                &atlassian
            ),
            Ok(())
        );
        assert_eq!(
            check(
                &format!("http://127.0.0.1:3100/ex/jira/{CLOUD}"),
                &["127.0.0.1:3100"]
            ),
            Ok(())
        );
        assert_eq!(
            check(
                &format!("http://127.0.0.1:9/ex/jira/{CLOUD}"),
                &["127.0.0.1"]
            ),
            Ok(())
        );
    }

    #[test]
    fn anything_else_is_refused() {
        let atlassian = ["api.atlassian.com"];
        for url in [
            format!("http://api.atlassian.com/ex/jira/{CLOUD}"),
            format!("https://evil.example.com/ex/jira/{CLOUD}"),
            format!("https://api.atlassian.com.evil.example.com/ex/jira/{CLOUD}"),
            format!("https://user@api.atlassian.com/ex/jira/{CLOUD}"),
            format!("https://api.atlassian.com/ex/jira/{CLOUD}?x=1"),
            "https://api.atlassian.com/ex/jira/another-cloud".to_owned(),
            format!("https://api.atlassian.com/ex/jira/{CLOUD}/extra"),
            format!("https://api.atlassian.com/{CLOUD}"),
            "not a url".to_owned(),
        ] {
            assert!(check(&url, &atlassian).is_err(), "{url} was allowed");
        }
        // Plain http only to loopback, and a port-pinned entry pins the port.
        assert!(check(&format!("http://10.0.0.1/ex/jira/{CLOUD}"), &["10.0.0.1"]).is_err());
        assert!(check(
            &format!("http://127.0.0.1:9/ex/jira/{CLOUD}"),
            &["127.0.0.1:3100"]
        )
        .is_err());
    }
}
