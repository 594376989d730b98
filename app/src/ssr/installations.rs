//! A tenant's life: which installations may call, and the purge of uninstalled ones.
//!
//! Forge facts this relies on (Atlassian docs, checked December 2026):
//! - `avi:forge:installed:app` and `avi:forge:upgraded:app` (major upgrades only) reach a remote
//!   through a `trigger` whose endpoint has a `route` and may enable only `appSystemToken`
//!   (`@forge/manifest` 13.7.0 refuses `appUserToken` there);
//!   developer.atlassian.com/platform/forge/events-reference/life-cycle/.
//! - There is no uninstall event (FRGE-1246); the `preUninstall` module may name an endpoint,
//!   is best effort, runs without a user, and has 55 s;
//!   .../manifest-reference/modules/pre-uninstall-trigger/.
//! - Events and triggers are answered within 5 s and retried (up to 4 times), so every handler
//!   here is idempotent; .../remote/sending-product-events/.
//! - The tenant key is the FIT's `app.installationId`; the event body's `id` may be a bare
//!   uuid, so the body is never used to pick the tenant.
//!
//! Each replica remembers an installation's state for [`STATE_TTL`], so the check costs a map
//! lookup on the hot path; an uninstall seen by another replica takes effect here within it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use forge_fit::FitClaims;

use super::{
    db::{
        installations::{Change, Purged, Site, State},
        tasks::now_millis,
    },
    error::ApiError,
    Services,
};

/// How long a replica trusts what it last read of an installation's state.
pub const STATE_TTL: Duration = Duration::from_secs(5);

/// How often the retention job looks for installations to purge.
pub const PURGE_EVERY: Duration = Duration::from_secs(2);

/// How long after a purge the job sweeps an installation again: longer than a replica trusts
/// a stale "active" ([`STATE_TTL`]) plus the longest request (Forge's 25 s).
pub const PURGE_SWEEP: Duration = Duration::from_secs(60);

/// `UNINSTALL_RETENTION_HOURS`' default: 30 days.
pub const DEFAULT_RETENTION_HOURS: u64 = 720;

/// Per replica: the installations' states as last read.
#[derive(Clone, Default)]
pub struct InstallationStates {
    seen: Arc<Mutex<HashMap<String, (State, Instant)>>>,
}

impl InstallationStates {
    fn get(&self, id: &str) -> Option<State> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(id)
            .filter(|(_, at)| at.elapsed() < STATE_TTL)
            .map(|(state, _)| *state)
    }

    /// What this replica now knows; lifecycle handlers set it so their own answers agree.
    pub fn set(&self, id: &str, state: State) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            seen.retain(|_, (_, at)| at.elapsed() < STATE_TTL);
        }
        seen.insert(id.to_owned(), (state, Instant::now()));
    }
}

/// The message of the 403 an uninstalled installation gets; the panel shows it as is.
pub const NOT_INSTALLED: &str =
    "Team Tasks is not installed on this site any more. A site admin can install it again.";

/// Every UI call first: the caller's installation must be active. An installation the remote
/// has never heard of is recorded now (its install event may have been lost), and the system
/// token the call carries refreshes the stored one.
pub async fn admit(
    services: &Services,
    claims: &FitClaims,
    oauth: &forge_fit::ForgeOAuth,
) -> Result<(), ApiError> {
    let id = &claims.app.installation_id;
    let state = match services.installations.get(id) {
        Some(state) => state,
        None => {
            let state = match services
                .db
                .installation(id)
                .await
                .map_err(ApiError::internal)?
            {
                Some(found) => found.state,
                None => {
                    let site = Site::from_claims(claims);
                    let state = services
                        .db
                        .installation_on_sight(&site)
                        .await
                        .map_err(ApiError::internal)?;
                    tracing::info!(installation = %id, "first request of an installation without an install event: recorded");
                    state
                }
            };
            services.installations.set(id, state);
            state
        }
    };
    if state != State::Active {
        return Err(ApiError::NotInstalled(NOT_INSTALLED.into()));
    }
    keep_token(services, id, oauth).await.map(drop)
}

/// Offers the call's system token, if it carries one, to the vault; `true` when it was kept.
async fn keep_token(
    services: &Services,
    installation: &str,
    oauth: &forge_fit::ForgeOAuth,
) -> Result<bool, ApiError> {
    let Some(token) = &oauth.system else {
        return Ok(false);
    };
    services
        .tokens
        .offer(&services.db, installation, token)
        .await
        .map_err(ApiError::internal)
}

/// The lifecycle events this remote acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Installed,
    Upgraded,
    /// `preUninstall`.
    Uninstalling,
}

/// Applies a lifecycle event of the FIT's installation. Idempotent: a retry is `Unchanged`.
pub async fn record(
    services: &Services,
    claims: &FitClaims,
    oauth: &forge_fit::ForgeOAuth,
    event: Lifecycle,
) -> Result<Change, ApiError> {
    let site = Site::from_claims(claims);
    let db = &services.db;
    let change = match event {
        Lifecycle::Installed => db.record_installed(&site).await,
        Lifecycle::Upgraded => db.record_upgraded(&site).await,
        Lifecycle::Uninstalling => db.record_uninstalled(&site).await,
    }
    .map_err(ApiError::internal)?;
    // An install leaves the installation active and an uninstall uninstalled; only an upgrade
    // (which revives nothing) must ask.
    let state = match event {
        Lifecycle::Installed => State::Active,
        Lifecycle::Uninstalling => State::Uninstalled,
        Lifecycle::Upgraded => db
            .installation(&site.installation_id)
            .await
            .map_err(ApiError::internal)?
            .map_or(State::Active, |i| i.state),
    };
    services.installations.set(&site.installation_id, state);
    if matches!(change, Change::Created | Change::Revived) {
        // What this replica remembers of a token from before may have been purged elsewhere.
        services.tokens.forget(&site.installation_id);
    }
    if state == State::Active {
        keep_token(services, &site.installation_id, oauth).await?;
    }
    tracing::info!(installation = %site.installation_id, ?event, ?change, "lifecycle event");
    Ok(change)
}

/// The scheduled trigger: only refreshes the stored system token ("tokens anytime"). An
/// installation the remote does not know yet is recorded, as on any first request.
pub async fn scheduled(
    services: &Services,
    claims: &FitClaims,
    oauth: &forge_fit::ForgeOAuth,
) -> Result<bool, ApiError> {
    let site = Site::from_claims(claims);
    let state = services
        .db
        .installation_on_sight(&site)
        .await
        .map_err(ApiError::internal)?;
    if state != State::Active {
        return Ok(false);
    }
    keep_token(services, &site.installation_id, oauth).await
}

/// Purges, every [`PURGE_EVERY`], the installations uninstalled longer than `retention` ago.
pub async fn run_retention(
    services: Services,
    retention: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(PURGE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !*stop.borrow() {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        if let Err(e) = purge_once(&services, retention).await {
            tracing::warn!(error = %e, "the retention job could not purge");
        }
    }
}

/// One pass of the retention job; the number of installations purged.
pub async fn purge_once(services: &Services, retention: Duration) -> Result<usize, sqlx::Error> {
    let now = now_millis();
    let cutoff = now - retention.as_millis() as i64;
    let sweep_since = now - PURGE_SWEEP.as_millis() as i64;
    let mut purged = 0;
    for id in services
        .db
        .installations_to_purge(cutoff, sweep_since)
        .await?
    {
        if let Some(removed) = services.db.purge_installation(&id, cutoff).await? {
            services.tokens.forget(&id);
            services.installations.set(&id, State::Purged);
            if removed == Purged::default() {
                continue; // a sweep that found nothing left
            }
            tracing::info!(
                installation = %id,
                tasks = removed.tasks,
                tokens = removed.tokens,
                outbox = removed.outbox,
                "purged an uninstalled installation's data"
            );
            purged += 1;
        }
    }
    Ok(purged)
}
