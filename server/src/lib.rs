//! The Team Tasks Forge remote.
//!
//! `main.rs` only boots; everything here is a library so integration tests can spawn the real
//! application on a random port (see `tests/api/helpers.rs`).

/// Jira REST calls with the forwarded OAuth tokens (`app::ssr::atlassian`, used by the server
/// functions).
pub use app::ssr::atlassian;
/// Settings read from the environment.
pub mod configuration;
/// Which product origins may call the remote directly (`requestRemote`).
pub mod cors;
/// Storage: SQLite or PostgreSQL through sqlx, with embedded migrations (`app::ssr::db`).
pub use app::ssr::db;
/// `FORGE_DIAGNOSTICS`: logs the shape of the first request of each kind, for a first deploy.
pub mod diagnostics;
/// The one error type and its mapping to JSON responses (`app::ssr::error`).
pub use app::ssr::error;
/// Prometheus metrics on `METRICS_ADDR`.
pub mod metrics;
/// Per-user rate limits.
pub mod rate_limit;
/// HTTP handlers, one module per resource.
pub mod routes;
/// The accept loop and its limits on slow clients.
pub mod serve;
/// Readiness and graceful shutdown.
pub mod shutdown;
/// Builds the router and binds the listener.
pub mod startup;
/// `tracing` subscriber set-up.
pub mod telemetry;

pub use error::{ApiError, Result};
