//! Settings, read once from environment variables at start.
//!
//! Every variable is documented in README.md ("Configuration"). Missing required values stop
//! the server with a message naming the variable, rather than failing on the first request.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use crate::cors::AllowedOrigins;

/// Atlassian's production JWKS. Every Forge app environment (development, staging,
/// production) signs invocation tokens with these keys.
pub const DEFAULT_JWKS_URL: &str = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json";

/// Product origins allowed to call the remote directly (`requestRemote` is sent by the
/// product page, not by the iframe).
pub const DEFAULT_CORS_ORIGINS: &str = "https://*.atlassian.net";

/// Where forwarded OAuth tokens may be sent: the host of every `app.apiBaseUrl` on Atlassian
/// Cloud (`https://api.atlassian.com/ex/<product>/<cloudId>`).
pub const DEFAULT_API_HOSTS: &str = "api.atlassian.com";

/// A bigger leeway would stretch Forge's 25 s tokens too far.
pub const MAX_FIT_LEEWAY: Duration = Duration::from_secs(60);

/// Everything the remote is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on (`LEPTOS_SITE_ADDR`, as set by cargo-leptos).
    pub addr: SocketAddr,
    /// The app's ARI, `ari:cloud:ecosystem::app/<uuid>`; the only accepted FIT audience.
    pub app_id: String,
    /// Where the FIT signing keys are published.
    pub jwks_url: String,
    /// Clock-skew tolerance for `exp`, `nbf` and `iat`.
    pub fit_leeway: Duration,
    /// Least time between two JWKS refetches triggered by unknown `kid`s.
    pub jwks_refetch_interval: Duration,
    /// How many verified FITs to remember until they expire (`FORGE_FIT_CACHE_ENTRIES`,
    /// default 10,000); 0 verifies every request in full.
    pub fit_cache_entries: usize,
    /// Origins granted CORS, each exact or with one leading `*.` wildcard label.
    pub cors_origins: Vec<String>,
    /// Database URL: `sqlite://…` (default) or `postgres://…`.
    pub database_url: String,
    /// Pool size (`DATABASE_MAX_CONNECTIONS`); `None` for the backend's default.
    pub database_max_connections: Option<u32>,
    /// The resource directory (`LEPTOS_SITE_ROOT`), served by development builds only.
    pub site_root: PathBuf,
    /// Per-request deadline, kept below Forge's 25 s limit so the remote answers first.
    pub request_timeout: Duration,
    /// The app environments (`app.environment.id` ARIs) whose tokens are accepted
    /// (`FORGE_ENVIRONMENT_IDS`); `None` accepts every environment of the app.
    pub environment_ids: Option<Vec<String>>,
    /// Hosts a FIT's `apiBaseUrl` may name before a forwarded token is sent there
    /// (`FORGE_API_HOSTS`), each `host` or `host:port`.
    pub api_hosts: Vec<String>,
    /// `FORGE_DIAGNOSTICS=1`: log, once per module and transport, what the platform sends
    /// (header names, `Origin`, FIT size and claim paths; never values of tokens).
    pub diagnostics: bool,
}

/// A setting is missing or unusable; the message names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "{0} is not set. Set it to your app's id from manifest.yml, \
         e.g. FORGE_APP_ID=ari:cloud:ecosystem::app/<uuid>"
    )]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let app_id = get("FORGE_APP_ID").ok_or(ConfigError::Missing("FORGE_APP_ID"))?;
        validate_app_id(&app_id)?;

        let addr = parse(&get, "LEPTOS_SITE_ADDR", "127.0.0.1:3000")?;
        let fit_leeway = Duration::from_secs(parse(&get, "FORGE_FIT_LEEWAY_SECS", "5")?);
        if fit_leeway > MAX_FIT_LEEWAY {
            return Err(ConfigError::Invalid {
                name: "FORGE_FIT_LEEWAY_SECS",
                reason: format!(
                    "at most {} s: Forge tokens live 25 s, and the leeway extends that",
                    MAX_FIT_LEEWAY.as_secs()
                ),
            });
        }
        let jwks_refetch_interval =
            Duration::from_secs(parse(&get, "FORGE_JWKS_REFETCH_INTERVAL_SECS", "10")?);
        if jwks_refetch_interval.is_zero() {
            return Err(ConfigError::Invalid {
                name: "FORGE_JWKS_REFETCH_INTERVAL_SECS",
                reason: "must be at least 1: it is what stops bogus key ids from hammering \
                         the JWKS host"
                    .into(),
            });
        }
        let fit_cache_entries = parse(
            &get,
            "FORGE_FIT_CACHE_ENTRIES",
            &crate::fit::DEFAULT_CACHE_ENTRIES.to_string(),
        )?;
        let database_max_connections = match get("DATABASE_MAX_CONNECTIONS") {
            None => None,
            Some(_) => match parse::<u32>(&get, "DATABASE_MAX_CONNECTIONS", "")? {
                0 => {
                    return Err(ConfigError::Invalid {
                        name: "DATABASE_MAX_CONNECTIONS",
                        reason: "must be at least 1".into(),
                    })
                }
                n => Some(n),
            },
        };
        let jwks_url = get("FORGE_JWKS_URL").unwrap_or_else(|| DEFAULT_JWKS_URL.into());
        validate_jwks_url(&jwks_url)?;
        let request_timeout = Duration::from_millis(parse(&get, "REQUEST_TIMEOUT_MS", "20000")?);
        if request_timeout >= Duration::from_secs(25) {
            return Err(ConfigError::Invalid {
                name: "REQUEST_TIMEOUT_MS",
                reason: "must be below Forge's 25 s invocation limit".into(),
            });
        }

        let cors_origins = get("FORGE_CORS_ORIGINS")
            .unwrap_or_else(|| DEFAULT_CORS_ORIGINS.into())
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect::<Vec<_>>();
        AllowedOrigins::parse(&cors_origins).map_err(|e| ConfigError::Invalid {
            name: "FORGE_CORS_ORIGINS",
            reason: e.to_string(),
        })?;

        let environment_ids = match get("FORGE_ENVIRONMENT_IDS") {
            None => None,
            Some(raw) => {
                let ids = comma_list(&raw);
                if let Some(bad) = ids
                    .iter()
                    .find(|id| !id.starts_with("ari:cloud:ecosystem::environment/"))
                {
                    return Err(ConfigError::Invalid {
                        name: "FORGE_ENVIRONMENT_IDS",
                        reason: format!(
                            "expected app environment ARIs `ari:cloud:ecosystem::environment/<app>/<env>`, got `{bad}`"
                        ),
                    });
                }
                if ids.is_empty() {
                    return Err(ConfigError::Invalid {
                        name: "FORGE_ENVIRONMENT_IDS",
                        reason: "names no environment".into(),
                    });
                }
                Some(ids)
            }
        };
        let api_hosts =
            comma_list(&get("FORGE_API_HOSTS").unwrap_or_else(|| DEFAULT_API_HOSTS.into()));
        let bare_host = |h: &str| {
            !h.contains(['/', '@', '*', '?', '#'])
                && reqwest::Url::parse(&format!("https://{h}/"))
                    .is_ok_and(|u| u.host_str().is_some())
        };
        if let Some(bad) = api_hosts.iter().find(|h| !bare_host(h)) {
            return Err(ConfigError::Invalid {
                name: "FORGE_API_HOSTS",
                reason: format!("expected `host` or `host:port`, got `{bad}`"),
            });
        }
        if api_hosts.is_empty() {
            return Err(ConfigError::Invalid {
                name: "FORGE_API_HOSTS",
                reason: "names no host".into(),
            });
        }
        let diagnostics = match get("FORGE_DIAGNOSTICS").as_deref().map(str::trim) {
            None | Some("0") | Some("false") | Some("off") => false,
            Some("1") | Some("true") | Some("on") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "FORGE_DIAGNOSTICS",
                    reason: format!("expected 1 or 0, got `{other}`"),
                })
            }
        };

        Ok(Self {
            environment_ids,
            api_hosts,
            diagnostics,
            addr,
            app_id,
            jwks_url,
            fit_leeway,
            jwks_refetch_interval,
            fit_cache_entries,
            cors_origins,
            database_url: get("DATABASE_URL")
                .unwrap_or_else(|| "sqlite://data/team-tasks.db".into()),
            database_max_connections,
            site_root: get("LEPTOS_SITE_ROOT")
                .unwrap_or_else(|| "target/site".into())
                .into(),
            request_timeout,
        })
    }
}

/// `a, b,,c` → `[a, b, c]`.
fn comma_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    get(name)
        .unwrap_or_else(|| default.into())
        .trim()
        .parse()
        .map_err(|e: T::Err| ConfigError::Invalid {
            name,
            reason: e.to_string(),
        })
}

/// The signing keys decide who can mint tokens, so they must come over TLS. Plain HTTP is
/// allowed to loopback only, for tests and the local Forge host.
fn validate_jwks_url(url: &str) -> Result<(), ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name: "FORGE_JWKS_URL",
        reason: reason.into(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
    let host = parsed.host_str().ok_or_else(|| invalid("has no host"))?;
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(invalid(
            "must be an https:// URL (http:// only to localhost)",
        )),
    }
}

/// The audience must be the full ARI: a bare uuid never matches a real token's `aud`.
fn validate_app_id(app_id: &str) -> Result<(), ConfigError> {
    const PREFIX: &str = "ari:cloud:ecosystem::app/";
    match app_id.strip_prefix(PREFIX) {
        Some(rest) if !rest.is_empty() && !rest.contains(char::is_whitespace) => Ok(()),
        _ => Err(ConfigError::Invalid {
            name: "FORGE_APP_ID",
            reason: format!("expected the full app ARI `{PREFIX}<uuid>`, got `{app_id}`"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    const APP: &str = "ari:cloud:ecosystem::app/3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4";

    #[test]
    fn a_missing_app_id_is_refused_by_name() {
        let err = settings(&[]).unwrap_err();
        assert_eq!(err, ConfigError::Missing("FORGE_APP_ID"));
        assert!(err.to_string().contains("FORGE_APP_ID"));
    }

    #[test]
    fn a_bare_uuid_app_id_is_refused() {
        let err = settings(&[("FORGE_APP_ID", "3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4")]);
        assert!(matches!(
            err,
            Err(ConfigError::Invalid {
                name: "FORGE_APP_ID",
                ..
            })
        ));
    }

    #[test]
    fn defaults_point_at_atlassian_production() {
        let s = settings(&[("FORGE_APP_ID", APP)]).unwrap();
        assert_eq!(s.jwks_url, DEFAULT_JWKS_URL);
        assert_eq!(s.cors_origins, vec!["https://*.atlassian.net".to_string()]);
        assert_eq!(s.fit_leeway, Duration::from_secs(5));
        assert_eq!(s.jwks_refetch_interval, Duration::from_secs(10));
        assert_eq!(s.fit_cache_entries, 10_000);
        assert!(s.request_timeout < Duration::from_secs(25));
    }

    #[test]
    fn a_timeout_at_or_above_forges_limit_is_refused() {
        let err = settings(&[("FORGE_APP_ID", APP), ("REQUEST_TIMEOUT_MS", "25000")]);
        assert!(matches!(
            err,
            Err(ConfigError::Invalid {
                name: "REQUEST_TIMEOUT_MS",
                ..
            })
        ));
    }

    #[test]
    fn a_jwks_url_without_tls_is_refused_unless_it_is_loopback() {
        for (url, ok) in [
            ("https://keys.example.com/jwks.json", true),
            ("http://127.0.0.1:4000/jwks.json", true),
            ("http://localhost:4000/jwks.json", true),
            ("http://[::1]:4000/jwks.json", true),
            ("http://keys.example.com/jwks.json", false),
            ("http://127.0.0.1.evil.com/jwks.json", false),
            ("file:///etc/jwks.json", false),
            ("not a url", false),
        ] {
            let result = settings(&[("FORGE_APP_ID", APP), ("FORGE_JWKS_URL", url)]);
            assert_eq!(result.is_ok(), ok, "{url}: {result:?}");
        }
    }

    #[test]
    fn a_zero_refetch_interval_and_a_large_leeway_are_refused() {
        let err = settings(&[
            ("FORGE_APP_ID", APP),
            ("FORGE_JWKS_REFETCH_INTERVAL_SECS", "0"),
        ]);
        assert!(matches!(
            err,
            Err(ConfigError::Invalid {
                name: "FORGE_JWKS_REFETCH_INTERVAL_SECS",
                ..
            })
        ));
        let err = settings(&[("FORGE_APP_ID", APP), ("FORGE_FIT_LEEWAY_SECS", "61")]);
        assert!(matches!(
            err,
            Err(ConfigError::Invalid {
                name: "FORGE_FIT_LEEWAY_SECS",
                ..
            })
        ));
    }

    #[test]
    fn a_cors_origin_that_is_not_an_origin_is_refused() {
        for origins in [
            "*",
            "https://x.atlassian.net/path",
            "https://*.*.atlassian.net",
        ] {
            let err = settings(&[("FORGE_APP_ID", APP), ("FORGE_CORS_ORIGINS", origins)]);
            assert!(
                matches!(
                    err,
                    Err(ConfigError::Invalid {
                        name: "FORGE_CORS_ORIGINS",
                        ..
                    })
                ),
                "{origins}: {err:?}"
            );
        }
    }

    #[test]
    fn the_fit_cache_can_be_sized_or_turned_off() {
        let s = settings(&[("FORGE_APP_ID", APP), ("FORGE_FIT_CACHE_ENTRIES", "0")]).unwrap();
        assert_eq!(s.fit_cache_entries, 0);
        let err = settings(&[("FORGE_APP_ID", APP), ("FORGE_FIT_CACHE_ENTRIES", "-1")]);
        assert!(matches!(
            err,
            Err(ConfigError::Invalid {
                name: "FORGE_FIT_CACHE_ENTRIES",
                ..
            })
        ));
    }

    #[test]
    fn the_pool_size_defaults_per_backend_and_must_be_positive() {
        let s = settings(&[("FORGE_APP_ID", APP)]).unwrap();
        assert_eq!(s.database_max_connections, None);
        let s = settings(&[("FORGE_APP_ID", APP), ("DATABASE_MAX_CONNECTIONS", "2")]).unwrap();
        assert_eq!(s.database_max_connections, Some(2));
        for bad in ["0", "-1", "many"] {
            let err = settings(&[("FORGE_APP_ID", APP), ("DATABASE_MAX_CONNECTIONS", bad)]);
            assert!(
                matches!(
                    err,
                    Err(ConfigError::Invalid {
                        name: "DATABASE_MAX_CONNECTIONS",
                        ..
                    })
                ),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn environments_are_pinned_by_their_aris_or_all_accepted() {
        let s = settings(&[("FORGE_APP_ID", APP)]).unwrap();
        assert_eq!(s.environment_ids, None);
        let s = settings(&[
            ("FORGE_APP_ID", APP),
            (
                "FORGE_ENVIRONMENT_IDS",
                " ari:cloud:ecosystem::environment/a/prod , ari:cloud:ecosystem::environment/a/stg,",
            ),
        ])
        .unwrap();
        assert_eq!(
            s.environment_ids.unwrap(),
            [
                "ari:cloud:ecosystem::environment/a/prod",
                "ari:cloud:ecosystem::environment/a/stg"
            ]
        );
        for bad in ["production", "ari:cloud:ecosystem::app/x", ","] {
            let err = settings(&[("FORGE_APP_ID", APP), ("FORGE_ENVIRONMENT_IDS", bad)]);
            assert!(
                matches!(
                    err,
                    Err(ConfigError::Invalid {
                        name: "FORGE_ENVIRONMENT_IDS",
                        ..
                    })
                ),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn api_hosts_default_to_atlassian_and_must_be_bare_hosts() {
        let s = settings(&[("FORGE_APP_ID", APP)]).unwrap();
        assert_eq!(s.api_hosts, ["api.atlassian.com"]);
        let s = settings(&[
            ("FORGE_APP_ID", APP),
            ("FORGE_API_HOSTS", "api.atlassian.com, 127.0.0.1:3100"),
        ])
        .unwrap();
        assert_eq!(s.api_hosts, ["api.atlassian.com", "127.0.0.1:3100"]);
        for bad in [
            "https://api.atlassian.com",
            "api.atlassian.com/ex",
            "*.atlassian.com",
            "a@b",
            ",",
        ] {
            let err = settings(&[("FORGE_APP_ID", APP), ("FORGE_API_HOSTS", bad)]);
            assert!(
                matches!(
                    err,
                    Err(ConfigError::Invalid {
                        name: "FORGE_API_HOSTS",
                        ..
                    })
                ),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn diagnostics_are_off_unless_asked_for() {
        assert!(!settings(&[("FORGE_APP_ID", APP)]).unwrap().diagnostics);
        assert!(
            settings(&[("FORGE_APP_ID", APP), ("FORGE_DIAGNOSTICS", "1")])
                .unwrap()
                .diagnostics
        );
        assert!(settings(&[("FORGE_APP_ID", APP), ("FORGE_DIAGNOSTICS", "yes please")]).is_err());
    }

    #[test]
    fn a_request_timeout_below_forges_limit_is_accepted() {
        let s = settings(&[("FORGE_APP_ID", APP), ("REQUEST_TIMEOUT_MS", "24999")]).unwrap();
        assert_eq!(s.request_timeout, Duration::from_millis(24_999));
    }

    #[test]
    fn cors_origins_are_a_trimmed_comma_list() {
        let s = settings(&[
            ("FORGE_APP_ID", APP),
            (
                "FORGE_CORS_ORIGINS",
                " https://a.example.com/ , https://*.atlassian.net,",
            ),
        ])
        .unwrap();
        assert_eq!(
            s.cors_origins,
            vec!["https://a.example.com", "https://*.atlassian.net"]
        );
    }
}
