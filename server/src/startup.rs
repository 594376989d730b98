//! Builds the application: state, router, middleware, listener.

use std::{future::Future, net::SocketAddr, num::NonZeroU32, sync::Arc, time::Duration};

use app::ssr::Services;
use axum::{http::StatusCode, middleware, Router};
use forge_fit::{require_fit, FitConfig, FitVerifier, JwksConfig};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};
use tower_http::{
    classify::ServerErrorsFailureClass, limit::RequestBodyLimitLayer, timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{
    configuration::{ConfigError, Settings},
    cors::AllowedOrigins,
    db::Database,
    diagnostics::{self, Diagnostics},
    error::{self, ApiError},
    metrics,
    rate_limit::{self, UserRateLimit},
    routes, serve,
    shutdown::{self, Draining},
    telemetry,
};

/// Forge refuses front-end invocation requests over 500 KB; refuse them here too, before
/// reading them into memory.
pub const MAX_REQUEST_BODY: usize = 500 * 1024;

/// Shared by all handlers.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    /// Verifies Forge Invocation Tokens; holds the JWKS cache.
    pub fit: FitVerifier,
    /// What the server functions use: the database, the Jira client, their limits.
    pub services: Services,
    /// Set on SIGTERM: `/readyz` says no from then on (see [`crate::shutdown`]).
    pub draining: Draining,
}

impl AppState {
    /// The state for `settings`, with an empty JWKS cache (see [`Application::build`]).
    pub fn new(settings: Settings, db: Database) -> anyhow::Result<Self> {
        let mut jwks = JwksConfig::new(settings.jwks_url.clone());
        jwks.refetch_interval = settings.jwks_refetch_interval;
        jwks.max_age = settings.jwks_max_age;
        let fit = FitVerifier::new(FitConfig {
            app_id: settings.app_id.clone(),
            leeway: settings.fit_leeway,
            jwks,
            cache_entries: settings.fit_cache_entries,
            environments: settings.environment_ids.clone(),
        })?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("team-tasks-remote/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let services = Services {
            db,
            http,
            api_hosts: settings.api_hosts.clone().into(),
            tasks_per_list_max: settings.tasks_per_list_max,
            tokens: app::ssr::tokens::TokenVault::new(settings.token_key.clone()),
            installations: Default::default(),
            outbox: Default::default(),
        };
        Ok(Self {
            settings: Arc::new(settings),
            fit,
            services,
            draining: Draining::default(),
        })
    }
}

/// A bound, not yet serving, application. Binding first lets tests use port 0 and ask for
/// the real port.
pub struct Application {
    listener: TcpListener,
    router: Router,
    limits: serve::Limits,
    draining: Draining,
    shutdown_grace: Duration,
    shutdown_timeout: Duration,
    /// Tells the background jobs to stop after their current pass.
    stop_jobs: watch::Sender<bool>,
    jobs: Vec<JoinHandle<()>>,
    /// Where `/metrics` is served, when `METRICS_ADDR` is set.
    metrics_addr: Option<SocketAddr>,
}

impl Application {
    /// Connects and migrates the database, binds the listener and fetches the JWKS once. An
    /// unreachable JWKS host does not stop the start: it is logged, and the keys are fetched
    /// on the first token that needs them.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = Database::connect_with(&settings.database_url, settings.database_max_connections)
            .await?;
        tracing::info!(backend = ?db.backend(), "database ready");
        if settings.diagnostics {
            tracing::warn!("FORGE_DIAGNOSTICS is on: the first request of each kind is logged (names, never values)");
        }
        match &settings.environment_ids {
            Some(ids) => {
                tracing::info!(environments = ?ids, "accepting tokens of these app environments only")
            }
            None => tracing::warn!(
                "FORGE_ENVIRONMENT_IDS is not set: tokens from every environment of this app \
                 (development, staging, production) are accepted. Set it to this deployment's \
                 app.environment.id."
            ),
        }
        let listener = TcpListener::bind(settings.addr).await?;
        let metrics_listener = match settings.metrics_addr {
            Some(addr) => Some(metrics::bind(addr).await?),
            None => None,
        };
        let limits = serve::Limits::from_settings(&settings);
        let retention = settings.uninstall_retention;
        let (shutdown_grace, shutdown_timeout) =
            (settings.shutdown_grace, settings.shutdown_timeout);
        let state = AppState::new(settings, db)?;
        // Work with no request behind it. Every replica runs both: the outbox leases its rows
        // and each purge is one conditional transaction, so replicas never do the same work twice.
        let (stop_jobs, stop) = watch::channel(false);
        let jobs = vec![
            tokio::spawn(app::ssr::outbox::run_worker(
                state.services.clone(),
                stop.clone(),
            )),
            tokio::spawn(app::ssr::installations::run_retention(
                state.services.clone(),
                retention,
                stop,
            )),
        ];
        let metrics_addr = match metrics_listener {
            Some(listener) => {
                metrics::recorder();
                let addr = listener.local_addr()?;
                tracing::info!(%addr, "metrics at http://{addr}/metrics");
                tokio::spawn(metrics::serve(listener, state.clone()));
                Some(addr)
            }
            None => None,
        };
        if let Err(e) = state.fit.jwks().refresh().await {
            tracing::warn!(error = %e, "no signing keys at startup; will fetch on first use");
        }
        Ok(Self {
            listener,
            draining: state.draining.clone(),
            router: router(state),
            limits,
            shutdown_grace,
            shutdown_timeout,
            stop_jobs,
            jobs,
            metrics_addr,
        })
    }

    /// Where the listener is bound (the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// Where `/metrics` is served (the real port when asked for port 0), if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Serves until Ctrl-C or SIGTERM, then shuts down gracefully. Slow clients are cut off by
    /// the limits in [`serve`].
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `signal` completes, then drains as [`crate::shutdown`] describes: not
    /// ready at once, serving for the grace period, then finishing what is in flight, all
    /// within the shutdown timeout.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel();
        let (draining, grace, stop_jobs) = (self.draining, self.shutdown_grace, self.stop_jobs);
        let stop_accepting = async move {
            signal.await;
            let _ = signalled_tx.send(tokio::time::Instant::now());
            draining.start();
            let _ = stop_jobs.send(true);
            tracing::info!(
                grace_ms = grace.as_millis() as u64,
                "shutting down: not ready from now on; still serving for the grace period"
            );
            tokio::time::sleep(grace).await;
            tracing::info!("no longer accepting connections; finishing the requests in flight");
        };
        let serving = tokio::spawn(serve::serve(
            self.listener,
            self.router,
            self.limits,
            stop_accepting,
        ));
        let Ok(signalled_at) = signalled_rx.await else {
            // `serve` only returns after the signal; if its task died, say so.
            serving.await?;
            return Ok(());
        };
        let deadline = signalled_at + self.shutdown_timeout;
        if tokio::time::timeout_at(deadline, serving).await.is_err() {
            tracing::warn!(
                timeout_s = self.shutdown_timeout.as_secs(),
                "requests still in flight at SHUTDOWN_TIMEOUT_SECS: cutting them off"
            );
        }
        for job in self.jobs {
            if tokio::time::timeout_at(deadline, job).await.is_err() {
                tracing::warn!("a background job was still busy at SHUTDOWN_TIMEOUT_SECS: cut off");
            }
        }
        tracing::info!(
            took_ms = signalled_at.elapsed().as_millis() as u64,
            "stopped"
        );
        Ok(())
    }
}

/// What a binary does with its settings: on a bad configuration, prints exactly what is wrong
/// and exits with status 2 (refusing to start); otherwise builds the remote, logs its address
/// and serves until stopped. Both the production `server` and `forge-devhost` boot this way.
pub async fn serve_or_exit(settings: Result<Settings, ConfigError>) -> anyhow::Result<()> {
    let settings = settings.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    });
    let app = Application::build(settings).await?;
    tracing::info!(addr = %app.local_addr(), "Forge remote listening");
    app.run_until_stopped().await
}

/// The whole HTTP surface, with its middleware.
///
/// From the outside in: trace span, CORS (answers preflights, which carry no token), JSON
/// errors, timeout, body limit, then routing. Only the API routes sit behind the FIT layer;
/// `/healthz` does not. Any other path is a JSON 404, in debug and release builds alike.
pub fn router(state: AppState) -> Router {
    let timeout = state.settings.request_timeout;
    let cors = AllowedOrigins::parse(&state.settings.cors_origins)
        .expect("CORS origins are validated when the settings are read")
        .layer();

    // Inner to outer: the per-user limit needs the verified claims, so the FIT layer wraps it.
    let limit = UserRateLimit::new(
        NonZeroU32::new(state.settings.rate_limit_per_second).expect("validated as at least 1"),
        NonZeroU32::new(state.settings.rate_limit_burst).expect("validated as at least 1"),
    );
    limit.spawn_pruning();
    let api = routes::api_router(&state)
        .route_layer(middleware::from_fn_with_state(
            limit,
            rate_limit::limit_per_user,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.fit.clone(),
            // Refusals answered in our error format, and summarised in the logs (error.rs).
            require_fit::<ApiError>,
        ));
    // Outside the FIT layer, which takes the OAuth headers out of the request.
    let api = if state.settings.diagnostics {
        api.route_layer(middleware::from_fn_with_state(
            Diagnostics::default(),
            diagnostics::log_first_of_each_kind,
        ))
    } else {
        api
    };
    let draining = state.draining.clone();
    let measured = state.settings.metrics_addr.is_some();
    let app = Router::new().merge(routes::health::router()).merge(api);
    let app = if measured {
        app.route_layer(middleware::from_fn(metrics::remember_route))
    } else {
        app
    };
    let app = if telemetry::exporting() {
        app.route_layer(middleware::from_fn(telemetry::name_span_after_route))
    } else {
        app
    };

    let app = app
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(middleware::from_fn(error::ensure_json_errors))
        .layer(cors)
        .layer(middleware::from_fn_with_state(
            draining,
            shutdown::close_connections_while_draining,
        ));
    // Measures everything the layers above answer too (preflights, 413s, timeouts).
    let app = if measured {
        app.layer(middleware::from_fn(metrics::record_request))
    } else {
        app
    };
    let draining = state.draining.clone();
    let on_failure = move |class: ServerErrorsFailureClass,
                           latency: Duration,
                           _: &tracing::Span| {
        // While draining, the 503s are `/readyz` saying so to each health check: expected.
        if !draining.is_draining() {
            tracing::error!(classification = %class, latency_ms = latency.as_millis() as u64, "response failed");
        }
    };
    app.layer(
        TraceLayer::new_for_http()
            .make_span_with(telemetry::request_span)
            .on_response(telemetry::record_response)
            .on_failure(on_failure),
    )
    .with_state(state)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
