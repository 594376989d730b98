//! The remote's half of the app (feature `ssr`): what the server functions' bodies use.
//!
//! The `server` crate builds a [`Services`] at start-up and provides it to every server
//! function as Leptos context; a function reads it with [`Services::current`], and the verified
//! token with `leptos_axum::extract::<forge_fit::Fit>()`.

use std::sync::Arc;

/// Jira REST calls with the forwarded OAuth tokens.
pub mod atlassian;
/// Storage: SQLite or PostgreSQL through sqlx, with embedded migrations (`app/migrations`).
pub mod db;
/// The one error type and its mapping to JSON responses.
pub mod error;
/// A tenant's life: which installations may call, lifecycle events, the retention job.
pub mod installations;
/// The durable outbox of Jira property writes, and its worker.
pub mod outbox;
/// The rules of the task functions: whose list, who writes, what follows a change.
pub mod tasks;
/// The app system token per installation, sealed at rest.
pub mod tokens;
/// The verified claims as `WhoAmI`.
pub mod whoami;

use error::ApiError;

/// What server functions work with, shared by all requests.
#[derive(Clone)]
pub struct Services {
    pub db: db::Database,
    /// For Jira/Confluence REST calls; one pool of connections for all tenants.
    pub http: reqwest::Client,
    /// The hosts the forwarded `apiBaseUrl` may name (`FORGE_API_HOSTS`).
    pub api_hosts: Arc<[String]>,
    /// `TASKS_PER_LIST_MAX`.
    pub tasks_per_list_max: u32,
    /// The stored system tokens (`TOKEN_ENCRYPTION_KEY`).
    pub tokens: tokens::TokenVault,
    /// What this replica last read of each installation's state.
    pub installations: installations::InstallationStates,
    /// The outbox worker's pacing.
    pub outbox: outbox::OutboxSettings,
}

impl Services {
    /// The services of the server function being run.
    pub fn current() -> Result<Self, ApiError> {
        leptos::prelude::use_context::<Self>().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "no Services in context: the server functions are not served by server::startup"
            ))
        })
    }
}
