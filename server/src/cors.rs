//! CORS for `requestRemote`: the product page (e.g. `https://acme.atlassian.net`), not the
//! Forge iframe, sends those requests, so the remote must grant that origin (https://developer.atlassian.com/platform/forge/apis-reference/ui-api-bridge/requestRemote/).
//!
//! Allowed origins are exact (`https://tasks.example.com`) or have one leading wildcard label
//! (`https://*.atlassian.net`). The wildcard stands for exactly one DNS label: it matches
//! `https://acme.atlassian.net`, but neither `https://atlassian.net`, `https://a.b.atlassian.net`,
//! `https://atlassian.net.evil.com` nor `https://evil.com/x.atlassian.net`.

use std::time::Duration;

use axum::http::{header, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// A configured origin pattern is not usable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{pattern}` is not an origin (scheme://host[:port]) or a `scheme://*.domain` wildcard")]
pub struct InvalidOrigin {
    pub pattern: String,
}

/// One allowed origin.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// The whole serialised origin, lowercase.
    Exact(String),
    /// `scheme://*.suffix`: `prefix` is `scheme://`, `suffix` is `.domain[:port]`, lowercase.
    Wildcard { prefix: String, suffix: String },
}

/// The set of origins granted CORS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<Pattern>);

impl AllowedOrigins {
    /// Parses patterns such as `https://*.atlassian.net` or `https://tasks.example.com:8443`.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<Self, InvalidOrigin> {
        patterns
            .iter()
            .map(|p| parse_pattern(p.as_ref()))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether the `Origin` header value `origin` is granted.
    pub fn allows(&self, origin: &str) -> bool {
        let Some((scheme, host)) = split_origin(origin) else {
            return false;
        };
        let origin = format!("{scheme}://{host}").to_ascii_lowercase();
        self.0.iter().any(|pattern| match pattern {
            Pattern::Exact(exact) => origin == *exact,
            Pattern::Wildcard { prefix, suffix } => origin
                .strip_prefix(prefix.as_str())
                .and_then(|rest| rest.strip_suffix(suffix.as_str()))
                .is_some_and(is_dns_label),
        })
    }

    /// The layer: these origins may send GET, POST, PATCH, PUT and DELETE with `authorization`
    /// and `content-type`; every other origin gets no `access-control-allow-origin`.
    pub fn layer(self) -> CorsLayer {
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, _| {
                origin.to_str().is_ok_and(|origin| self.allows(origin))
            }))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PATCH,
                Method::PUT,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            // Every requestRemote call would otherwise cost a preflight round trip.
            .max_age(Duration::from_secs(600))
    }
}

fn parse_pattern(pattern: &str) -> Result<Pattern, InvalidOrigin> {
    let invalid = || InvalidOrigin {
        pattern: pattern.to_owned(),
    };
    let (scheme, host) = split_origin(pattern).ok_or_else(invalid)?;
    let lower = |s: &str| s.to_ascii_lowercase();
    match host.strip_prefix("*.") {
        Some(domain) if !domain.contains('*') && domain.contains('.') => Ok(Pattern::Wildcard {
            prefix: format!("{}://", lower(scheme)),
            suffix: lower(&format!(".{domain}")),
        }),
        Some(_) => Err(invalid()),
        None if host.contains('*') => Err(invalid()),
        None => Ok(Pattern::Exact(lower(&format!("{scheme}://{host}")))),
    }
}

/// Splits a serialised origin into scheme and `host[:port]`, refusing anything that is more
/// than an origin: a path, query, fragment, user info, or characters a host cannot contain.
fn split_origin(origin: &str) -> Option<(&str, &str)> {
    let (scheme, host) = origin.split_once("://")?;
    let scheme_ok = matches!(scheme.to_ascii_lowercase().as_str(), "https" | "http");
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*'));
    (scheme_ok && host_ok).then_some((scheme, host))
}

fn is_dns_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> AllowedOrigins {
        AllowedOrigins::parse(&["https://*.atlassian.net", "https://tasks.example.com:8443"])
            .unwrap()
    }

    #[test]
    fn a_site_under_the_wildcard_and_an_exact_origin_are_allowed() {
        for origin in [
            "https://acme.atlassian.net",
            "https://ACME.Atlassian.net",
            "https://my-site-2.atlassian.net",
            "https://tasks.example.com:8443",
        ] {
            assert!(allowed().allows(origin), "{origin} should be allowed");
        }
    }

    #[test]
    fn look_alike_origins_are_refused() {
        for origin in [
            "https://evil.com/x.atlassian.net",
            "https://atlassian.net.evil.com",
            "https://evilatlassian.net",
            "https://atlassian.net",
            "https://.atlassian.net",
            "https://a.b.atlassian.net",
            "https://-x.atlassian.net",
            "http://acme.atlassian.net",
            "https://acme.atlassian.net:444",
            "https://acme.atlassian.net.",
            "https://user@acme.atlassian.net",
            "https://evil.com?.atlassian.net",
            "https://evil.com#.atlassian.net",
            "https://*.atlassian.net",
            "https://tasks.example.com",
            "null",
            "",
        ] {
            assert!(!allowed().allows(origin), "{origin} should be refused");
        }
    }

    #[test]
    fn patterns_that_are_not_origins_are_refused() {
        for pattern in [
            "*",
            "https://*",
            "https://*.com.*",
            "https://a*.atlassian.net",
            "https://*.*.atlassian.net",
            "https://x.atlassian.net/path",
            "atlassian.net",
            "ftp://x.example.com",
        ] {
            assert!(
                AllowedOrigins::parse(&[pattern]).is_err(),
                "{pattern} should be refused"
            );
        }
    }
}
