//! Settings, read once from environment variables at start.
//!
//! Every variable is documented in README.md ("Configuration"). Missing required values stop
//! the server with a message naming the variable, rather than failing on the first request.

use std::{net::SocketAddr, time::Duration};

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

/// `TASKS_PER_LIST_MAX`'s default: far more than a person keeps in one list, few enough that the
/// whole list is one small answer (about 230 KB at the longest titles).
pub const DEFAULT_TASKS_PER_LIST_MAX: u64 = 1000;

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
    /// Age after which the JWKS is refetched in the background on its next use
    /// (`FORGE_JWKS_MAX_AGE_SECS`, default 600).
    pub jwks_max_age: Duration,
    /// Most tasks one list may hold (`TASKS_PER_LIST_MAX`, default 1,000).
    pub tasks_per_list_max: u32,
    /// Sustained requests per second per user, i.e. installation and principal
    /// (`RATE_LIMIT_PER_SECOND`, default 20).
    pub rate_limit_per_second: u32,
    /// Requests a user may make at once above the sustained rate (`RATE_LIMIT_BURST`, default 60).
    pub rate_limit_burst: u32,
    /// How many verified FITs to remember until they expire (`FORGE_FIT_CACHE_ENTRIES`,
    /// default 10,000); 0 verifies every request in full.
    pub fit_cache_entries: usize,
    /// Origins granted CORS, each exact or with one leading `*.` wildcard label.
    pub cors_origins: Vec<String>,
    /// Database URL: `sqlite://…` (default) or `postgres://…`.
    pub database_url: String,
    /// Pool size (`DATABASE_MAX_CONNECTIONS`); `None` for the backend's default.
    pub database_max_connections: Option<u32>,
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
    /// A client that has not sent a whole request head within this is disconnected
    /// (`HTTP_HEADER_TIMEOUT_SECS`, default 10). See [`crate::serve`].
    pub http_header_timeout: Duration,
    /// A connection on which no byte has moved and no request has been handled for this long
    /// is closed (`HTTP_IDLE_TIMEOUT_SECS`, default 60).
    pub http_idle_timeout: Duration,
    /// Connections served at once; further ones wait, unaccepted, in the listen backlog
    /// (`HTTP_MAX_CONNECTIONS`, default 1024).
    pub http_max_connections: usize,
    /// Seals the stored system tokens (`TOKEN_ENCRYPTION_KEY`: base64 of 32 random bytes).
    /// Required: the remote refuses to start without it.
    pub token_key: app::ssr::tokens::TokenKey,
    /// How long an uninstalled installation's data is kept before the retention job deletes it
    /// (`UNINSTALL_RETENTION_HOURS`, default 720; 0 deletes it at once).
    pub uninstall_retention: Duration,
    /// After SIGTERM, how long the remote keeps serving while it reports not ready, so load
    /// balancers take it out of rotation before it stops accepting (`SHUTDOWN_GRACE_SECS`,
    /// default 5). See [`crate::shutdown`].
    pub shutdown_grace: Duration,
    /// The most time from SIGTERM to exit, grace period included: what is still running then
    /// is cut off (`SHUTDOWN_TIMEOUT_SECS`, default 20, below the 30 s after which Kubernetes
    /// and ECS kill a process by default; systemd waits 90 s).
    pub shutdown_timeout: Duration,
    /// Where Prometheus scrapes `/metrics` (`METRICS_ADDR`); no metrics listener when unset.
    /// Never the public port. See [`crate::metrics`].
    pub metrics_addr: Option<SocketAddr>,
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
    #[error(
        "TOKEN_ENCRYPTION_KEY is not set. It seals the app system tokens the remote keeps; \
         generate one with `openssl rand -base64 32` and keep it secret (changing it loses the \
         stored tokens until Forge sends new ones)"
    )]
    MissingTokenKey,
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

        let addr: SocketAddr = parse(&get, "LEPTOS_SITE_ADDR", "127.0.0.1:3000")?;
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
        // At least 1 s: it is what stops bogus key ids from hammering the JWKS host; at most an
        // hour, or a rotated-in key would wait that long.
        let jwks_refetch_interval = Duration::from_secs(ranged(
            &get,
            "FORGE_JWKS_REFETCH_INTERVAL_SECS",
            10,
            1..=3600,
        )?);
        // How long a withdrawn key can keep verifying: at most a day.
        let jwks_max_age = Duration::from_secs(ranged(
            &get,
            "FORGE_JWKS_MAX_AGE_SECS",
            forge_fit::DEFAULT_JWKS_MAX_AGE.as_secs(),
            1..=86_400,
        )?);
        let fit_cache_entries = ranged(
            &get,
            "FORGE_FIT_CACHE_ENTRIES",
            forge_fit::DEFAULT_CACHE_ENTRIES as u64,
            0..=1_000_000,
        )? as usize;
        let database_max_connections = match get("DATABASE_MAX_CONNECTIONS") {
            None => None,
            Some(_) => Some(ranged(&get, "DATABASE_MAX_CONNECTIONS", 0, 1..=1000)? as u32),
        };
        let tasks_per_list_max = ranged(
            &get,
            "TASKS_PER_LIST_MAX",
            DEFAULT_TASKS_PER_LIST_MAX,
            1..=100_000,
        )? as u32;
        let rate_limit_per_second =
            ranged(&get, "RATE_LIMIT_PER_SECOND", 20, 1..=1_000_000)? as u32;
        let rate_limit_burst = ranged(&get, "RATE_LIMIT_BURST", 60, 1..=1_000_000)? as u32;
        let jwks_url = get("FORGE_JWKS_URL").unwrap_or_else(|| DEFAULT_JWKS_URL.into());
        validate_jwks_url(&jwks_url)?;
        // Below Forge's 25 s invocation limit, so the remote answers first; 0 would answer every
        // request with a 503.
        let request_timeout =
            Duration::from_millis(ranged(&get, "REQUEST_TIMEOUT_MS", 20_000, 1..=24_999)?);

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
        // Slow-client protection (see `crate::serve`).
        let http_header_timeout =
            Duration::from_secs(ranged(&get, "HTTP_HEADER_TIMEOUT_SECS", 10, 1..=60)?);
        let http_idle_timeout =
            Duration::from_secs(ranged(&get, "HTTP_IDLE_TIMEOUT_SECS", 60, 1..=600)?);
        let http_max_connections = ranged(&get, "HTTP_MAX_CONNECTIONS", 1024, 1..=65_536)? as usize;
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

        let token_key = match get("TOKEN_ENCRYPTION_KEY") {
            None => return Err(ConfigError::MissingTokenKey),
            Some(raw) => {
                app::ssr::tokens::TokenKey::from_base64(&raw).map_err(|e| ConfigError::Invalid {
                    name: "TOKEN_ENCRYPTION_KEY",
                    reason: e.to_string(),
                })?
            }
        };
        let uninstall_retention = Duration::from_secs(
            3600 * ranged(
                &get,
                "UNINSTALL_RETENTION_HOURS",
                app::ssr::installations::DEFAULT_RETENTION_HOURS,
                0..=87_600,
            )?,
        );

        let shutdown_grace = Duration::from_secs(ranged(&get, "SHUTDOWN_GRACE_SECS", 5, 0..=60)?);
        let shutdown_timeout =
            Duration::from_secs(ranged(&get, "SHUTDOWN_TIMEOUT_SECS", 20, 1..=300)?);
        if shutdown_grace >= shutdown_timeout {
            return Err(ConfigError::Invalid {
                name: "SHUTDOWN_GRACE_SECS",
                reason: format!(
                    "must be below SHUTDOWN_TIMEOUT_SECS ({} s), which includes it",
                    shutdown_timeout.as_secs()
                ),
            });
        }
        let metrics_addr = match get("METRICS_ADDR") {
            None => None,
            Some(_) => Some(parse::<SocketAddr>(&get, "METRICS_ADDR", "")?),
        };
        if metrics_addr.is_some_and(|m| m.port() == addr.port() && m.port() != 0) {
            return Err(ConfigError::Invalid {
                name: "METRICS_ADDR",
                reason: format!(
                    "must not be the public port ({addr}): metrics are for the operator only"
                ),
            });
        }

        Ok(Self {
            shutdown_grace,
            shutdown_timeout,
            metrics_addr,
            token_key,
            uninstall_retention,
            environment_ids,
            api_hosts,
            diagnostics,
            http_header_timeout,
            http_idle_timeout,
            http_max_connections,
            addr,
            app_id,
            jwks_url,
            fit_leeway,
            jwks_refetch_interval,
            jwks_max_age,
            fit_cache_entries,
            tasks_per_list_max,
            rate_limit_per_second,
            rate_limit_burst,
            cors_origins,
            database_url: get("DATABASE_URL")
                .unwrap_or_else(|| "sqlite://data/team-tasks.db".into()),
            database_max_connections,
            request_timeout,
        })
    }
}

/// An integer setting within `range`, else an error naming the variable and the range.
fn ranged(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let value: u64 = parse(get, name, &default.to_string())?;
    if !range.contains(&value) {
        return Err(ConfigError::Invalid {
            name,
            reason: format!(
                "{value} is out of range: must be {} to {}",
                range.start(),
                range.end()
            ),
        });
    }
    Ok(value)
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
/// allowed to loopback only, for tests and the local Forge host. The rule is forge-fit's, which
/// enforces it too; checked here for a message at startup.
fn validate_jwks_url(url: &str) -> Result<(), ConfigError> {
    forge_fit::check_jwks_url(url).map_err(|reason| ConfigError::Invalid {
        name: "FORGE_JWKS_URL",
        reason,
    })
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

    /// A token key is added unless `vars` names one: only its own tests are about it.
    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        vars.entry("TOKEN_ENCRYPTION_KEY".into())
            .or_insert_with(app::ssr::tokens::TokenKey::generate_base64);
        vars.retain(|_, v| v != "<unset>");
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
    fn the_token_key_is_required_and_must_be_32_bytes() {
        let err = settings(&[("FORGE_APP_ID", APP), ("TOKEN_ENCRYPTION_KEY", "<unset>")]);
        let err = err.unwrap_err();
        assert_eq!(err, ConfigError::MissingTokenKey);
        assert!(err.to_string().contains("TOKEN_ENCRYPTION_KEY"));
        let err = settings(&[("FORGE_APP_ID", APP), ("TOKEN_ENCRYPTION_KEY", "c2hvcnQ=")]);
        assert!(matches!(
            err,
            Err(ConfigError::Invalid {
                name: "TOKEN_ENCRYPTION_KEY",
                ..
            })
        ));
    }

    #[test]
    fn uninstalled_data_is_kept_30_days_unless_configured() {
        let s = settings(&[("FORGE_APP_ID", APP)]).unwrap();
        assert_eq!(s.uninstall_retention, Duration::from_secs(720 * 3600));
        let s = settings(&[("FORGE_APP_ID", APP), ("UNINSTALL_RETENTION_HOURS", "0")]).unwrap();
        assert_eq!(s.uninstall_retention, Duration::ZERO);
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
    fn a_jwks_url_without_tls_is_refused_at_startup_by_name() {
        // The rule (TLS, or plain HTTP to loopback) is forge-fit's, and tested there case by
        // case; this checks that startup applies it and names the variable.
        let url = |url: &str| settings(&[("FORGE_APP_ID", APP), ("FORGE_JWKS_URL", url)]);
        assert!(url("https://keys.example.com/jwks.json").is_ok());
        assert!(url("http://127.0.0.1:4000/jwks.json").is_ok());
        let err = url("http://keys.example.com/jwks.json").unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: "FORGE_JWKS_URL",
                    ..
                }
            ),
            "{err:?}"
        );
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
    fn every_number_has_a_sane_range() {
        for (name, bad, good) in [
            ("REQUEST_TIMEOUT_MS", "0", "1"),
            ("REQUEST_TIMEOUT_MS", "25000", "24999"),
            ("FORGE_JWKS_REFETCH_INTERVAL_SECS", "0", "1"),
            ("FORGE_JWKS_REFETCH_INTERVAL_SECS", "3601", "3600"),
            ("FORGE_JWKS_MAX_AGE_SECS", "0", "1"),
            ("FORGE_JWKS_MAX_AGE_SECS", "86401", "86400"),
            ("FORGE_FIT_CACHE_ENTRIES", "1000001", "1000000"),
            ("DATABASE_MAX_CONNECTIONS", "1001", "1000"),
            ("TASKS_PER_LIST_MAX", "0", "1"),
            ("TASKS_PER_LIST_MAX", "100001", "100000"),
            ("RATE_LIMIT_PER_SECOND", "0", "1"),
            ("RATE_LIMIT_BURST", "0", "1"),
            ("RATE_LIMIT_BURST", "-5", "1000000"),
            ("RATE_LIMIT_PER_SECOND", "1000001", "1000000"),
        ] {
            let err = settings(&[("FORGE_APP_ID", APP), (name, bad)]).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { name: n, .. } if *n == name),
                "{name}={bad}: {err:?}"
            );
            assert!(err.to_string().contains(name), "{err}");
            assert!(
                settings(&[("FORGE_APP_ID", APP), (name, good)]).is_ok(),
                "{name}={good}"
            );
        }
        let s = settings(&[("FORGE_APP_ID", APP)]).unwrap();
        assert_eq!(s.jwks_max_age, Duration::from_secs(600));
        assert_eq!(s.tasks_per_list_max, 1000);
        assert_eq!((s.rate_limit_per_second, s.rate_limit_burst), (20, 60));
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

    #[test]
    fn shutdown_defaults_to_5_s_of_grace_within_20_s_and_the_grace_must_fit() {
        let s = settings(&[("FORGE_APP_ID", APP)]).unwrap();
        assert_eq!(s.shutdown_grace, Duration::from_secs(5));
        assert_eq!(s.shutdown_timeout, Duration::from_secs(20));
        let s = settings(&[
            ("FORGE_APP_ID", APP),
            ("SHUTDOWN_GRACE_SECS", "0"),
            ("SHUTDOWN_TIMEOUT_SECS", "3"),
        ])
        .unwrap();
        assert_eq!(s.shutdown_grace, Duration::ZERO);
        assert_eq!(s.shutdown_timeout, Duration::from_secs(3));
        let e = settings(&[
            ("FORGE_APP_ID", APP),
            ("SHUTDOWN_GRACE_SECS", "10"),
            ("SHUTDOWN_TIMEOUT_SECS", "10"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("SHUTDOWN_GRACE_SECS"), "{e}");
        let e = settings(&[("FORGE_APP_ID", APP), ("SHUTDOWN_TIMEOUT_SECS", "0")]).unwrap_err();
        assert!(e.to_string().contains("SHUTDOWN_TIMEOUT_SECS"), "{e}");
    }

    #[test]
    fn metrics_are_off_unless_given_an_address_other_than_the_public_one() {
        let s = settings(&[("FORGE_APP_ID", APP)]).unwrap();
        assert_eq!(s.metrics_addr, None);
        let s = settings(&[("FORGE_APP_ID", APP), ("METRICS_ADDR", "127.0.0.1:9464")]).unwrap();
        assert_eq!(s.metrics_addr, Some("127.0.0.1:9464".parse().unwrap()));
        let e = settings(&[
            ("FORGE_APP_ID", APP),
            ("LEPTOS_SITE_ADDR", "0.0.0.0:3000"),
            ("METRICS_ADDR", "127.0.0.1:3000"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("METRICS_ADDR"), "{e}");
        let e = settings(&[("FORGE_APP_ID", APP), ("METRICS_ADDR", "9464")]).unwrap_err();
        assert!(e.to_string().contains("METRICS_ADDR"), "{e}");
    }

    #[test]
    fn slow_client_limits_default_to_10_s_60_s_and_1024_connections() {
        let s = settings(&[("FORGE_APP_ID", APP)]).unwrap();
        assert_eq!(s.http_header_timeout, Duration::from_secs(10));
        assert_eq!(s.http_idle_timeout, Duration::from_secs(60));
        assert_eq!(s.http_max_connections, 1024);
        let s = settings(&[
            ("FORGE_APP_ID", APP),
            ("HTTP_HEADER_TIMEOUT_SECS", "3"),
            ("HTTP_IDLE_TIMEOUT_SECS", "7"),
            ("HTTP_MAX_CONNECTIONS", "12"),
        ])
        .unwrap();
        assert_eq!(s.http_header_timeout, Duration::from_secs(3));
        assert_eq!(s.http_idle_timeout, Duration::from_secs(7));
        assert_eq!(s.http_max_connections, 12);
    }

    #[test]
    fn slow_client_limits_outside_their_range_are_refused_by_name() {
        for (name, bad, good) in [
            (
                "HTTP_HEADER_TIMEOUT_SECS",
                &["0", "61", "-1", "ten"][..],
                &["1", "60"][..],
            ),
            (
                "HTTP_IDLE_TIMEOUT_SECS",
                &["0", "601", "1.5"],
                &["1", "600"],
            ),
            (
                "HTTP_MAX_CONNECTIONS",
                &["0", "65537", "lots"],
                &["1", "65536"],
            ),
        ] {
            for value in bad {
                let err = settings(&[("FORGE_APP_ID", APP), (name, value)]).unwrap_err();
                assert!(
                    matches!(&err, ConfigError::Invalid { name: n, .. } if *n == name),
                    "{name}={value}: {err:?}"
                );
                assert!(err.to_string().contains(name), "{err}");
            }
            for value in good {
                assert!(
                    settings(&[("FORGE_APP_ID", APP), (name, value)]).is_ok(),
                    "{name}={value}"
                );
            }
        }
    }

    /// Query strings, and the `PgSslMode` each must parse to.
    const PG_TLS_URLS: [(&str, &str); 2] = [
        ("sslmode=require", "Require"),
        (
            "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            "VerifyFull",
        ),
    ];

    #[test]
    fn postgres_urls_that_require_tls_are_accepted() {
        use std::str::FromStr;
        for (query, mode) in PG_TLS_URLS {
            let url = format!("postgres://tasks:secret@db.example.com:5432/tasks?{query}");
            let s = settings(&[("FORGE_APP_ID", APP), ("DATABASE_URL", &url)]).unwrap();
            assert_eq!(s.database_url, url);
            let options = sqlx::postgres::PgConnectOptions::from_str(&url).unwrap();
            assert_eq!(format!("{:?}", options.get_ssl_mode()), mode, "{url}");
            assert_eq!(options.get_host(), "db.example.com");
        }
    }

    /// A PostgreSQL that declines TLS: `Database` must ask for it (an SSLRequest) and give up,
    /// never fall back to plain text.
    #[tokio::test]
    async fn a_postgres_url_requiring_tls_refuses_a_server_without_it() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        for (query, _) in PG_TLS_URLS {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let fake = tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 8];
                socket.read_exact(&mut request).await.unwrap();
                socket.write_all(b"N").await.unwrap();
                request
            });
            let url = format!("postgres://tasks:secret@127.0.0.1:{port}/tasks?{query}");
            let err =
                tokio::time::timeout(Duration::from_secs(10), crate::db::Database::connect(&url))
                    .await
                    .expect("gave up in time")
                    .unwrap_err();
            let message = format!("{err:#}");
            assert!(
                message.contains("does not support TLS"),
                "{query}: {message}"
            );
            // PostgreSQL's SSLRequest: length 8, code 80877103.
            assert_eq!(
                fake.await.unwrap(),
                [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f],
                "{query}"
            );
        }
    }
}
