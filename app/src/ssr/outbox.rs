//! The durable outbox of Jira writes: each issue's `tasks-progress` entity property.
//!
//! A change marks its issue due in its own transaction (`db::outbox`). The request then makes
//! one attempt itself ([`deliver_now`]), so in the usual case the property is written before
//! the answer; the user sees a notice only if that attempt fails. Whatever is still due is sent
//! by [`run_worker`], on every replica, with the installation's stored system token
//! (`tokens`): it retries with exponential backoff, waits as long as Jira's `Retry-After` says
//! on a 429, and gives up, with an error in the log, once a row has been failing for
//! [`OutboxSettings::give_up_after`].

use std::time::Duration;

use forge_fit::AppSystemToken;
use tokio::task::JoinSet;

use super::{
    atlassian::{AtlassianError, Jira},
    db::{installations::State, outbox::Leased, tasks::now_millis, tasks::ScopeKey},
    Services,
};
use crate::tasks::Progress;

/// How the outbox paces itself.
#[derive(Debug, Clone, Copy)]
pub struct OutboxSettings {
    /// How often the worker looks for due rows.
    pub poll: Duration,
    /// A write failing for longer than this (since its first unsent change) is given up.
    pub give_up_after: Duration,
    /// The first retry's delay; each further one doubles, up to [`MAX_BACKOFF`].
    pub first_backoff: Duration,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(500),
            give_up_after: Duration::from_secs(24 * 3600),
            first_backoff: Duration::from_secs(1),
        }
    }
}

/// Longest wait between two attempts, and longest `Retry-After` honoured.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A sender owns a row this long: well over one Jira call's time limit (5 s).
const LEASE: Duration = Duration::from_secs(30);

/// Rows one worker pass leases, and so at most sends at once.
const BATCH: i64 = 16;

/// How a send ended.
#[derive(Debug)]
pub enum Sent {
    /// Written; `progress` is what Jira now holds.
    Written { progress: Progress },
    /// Not written this time; it stays due (or was given up), and why. `progress` is the
    /// list's, as it was sent.
    Failed {
        error: AtlassianError,
        progress: Progress,
    },
    /// Another sender holds the row, or it is waiting out a backoff: nothing was sent now.
    NotNow,
}

/// Where and as whom a request's own attempt writes: its verified FIT's `apiBaseUrl` and cloud
/// id, and the system token it carries. Fresher than anything stored.
pub struct Via<'a> {
    pub api_base_url: &'a str,
    pub cloud_id: Option<&'a str>,
    pub token: Option<&'a AppSystemToken>,
}

/// The request's own attempt, right after its change committed.
pub async fn deliver_now(
    services: &Services,
    installation: &str,
    issue_id: &str,
    via: Via<'_>,
) -> Result<Sent, sqlx::Error> {
    let Some(row) = services
        .db
        .lease_outbox_row(installation, issue_id, LEASE.as_millis() as i64)
        .await?
    else {
        return Ok(Sent::NotNow);
    };
    deliver(services, &row, Some(via)).await
}

/// Sends a leased row: the issue's progress as it is now, through `via` or with what is stored
/// for the installation (its `apiBaseUrl` and its latest system token).
#[tracing::instrument(
    name = "Deliver task progress from the outbox",
    skip_all,
    fields(installation = %row.installation_id, issue = %row.issue_id, attempt = row.attempts)
)]
pub async fn deliver(
    services: &Services,
    row: &Leased,
    via: Option<Via<'_>>,
) -> Result<Sent, sqlx::Error> {
    let db = &services.db;
    let (installation, stored);
    let (base, cloud_id, token) = match via {
        // The request's own attempt: its installation was admitted as active just now.
        Some(via) => (jira_base_url(via.api_base_url), via.cloud_id, via.token),
        None => {
            // The worker: the installation must still be active (a row of one uninstalled or
            // purged meanwhile is dropped), and its stored URL and token serve.
            installation = match db.installation(&row.installation_id).await? {
                Some(found) if found.state == State::Active => found,
                _ => {
                    db.finish_outbox_row(row).await?;
                    return Ok(Sent::NotNow);
                }
            };
            stored = services.tokens.token(db, &row.installation_id).await?;
            let site = &installation.site;
            (
                jira_base_url(&site.api_base_url),
                Some(site.cloud_id.as_str()).filter(|id| !id.is_empty()),
                stored.as_ref().map(|s| &s.token),
            )
        }
    };
    let scope = ScopeKey::Issue(row.issue_id.clone());
    let progress = db.progress(&row.installation_id, &scope).await?;
    let jira = Jira::at(&services.http, &base, cloud_id, &services.api_hosts);
    match jira.set_progress(token, &row.issue_id, progress).await {
        Ok(()) => {
            db.finish_outbox_row(row).await?;
            Ok(Sent::Written { progress })
        }
        Err(error) => {
            reschedule(services, row, &error).await?;
            Ok(Sent::Failed { error, progress })
        }
    }
}

/// Jira's REST base for an installation known by either product's `apiBaseUrl`: one
/// installation can span Jira and Confluence (the FIT's `app.installation.contexts`), and both
/// sit on the same gateway as `/ex/<product>/<cloudId>`. The result is checked like any
/// forwarded URL before a token goes there.
fn jira_base_url(api_base_url: &str) -> String {
    api_base_url.replacen("/ex/confluence/", "/ex/jira/", 1)
}

/// After a failed send: when to try again, or give up.
async fn reschedule(
    services: &Services,
    row: &Leased,
    error: &AtlassianError,
) -> Result<(), sqlx::Error> {
    let settings = services.outbox;
    let hold = matches!(
        error,
        AtlassianError::RateLimited {
            retry_after: Some(_)
        }
    );
    let delay = match error {
        // The issue is gone (or never was): no later attempt can succeed.
        AtlassianError::Status(404 | 400) => {
            tracing::warn!(error = %error, "Jira refused the progress write for good; dropping it");
            return services.db.finish_outbox_row(row).await.map(drop);
        }
        AtlassianError::RateLimited {
            retry_after: Some(wait),
        } => (*wait).min(MAX_RETRY_AFTER),
        _ => backoff(settings.first_backoff, row.attempts),
    };
    let due_at = now_millis() + delay.as_millis() as i64;
    if due_at - row.first_due_at > settings.give_up_after.as_millis() as i64 {
        tracing::error!(
            installation = %row.installation_id,
            issue = %row.issue_id,
            attempts = row.attempts,
            error = %error,
            "giving up on writing task progress to Jira"
        );
        return services.db.finish_outbox_row(row).await.map(drop);
    }
    tracing::info!(error = %error, retry_in_ms = delay.as_millis() as u64, "task progress write will be retried");
    services
        .db
        .retry_outbox_row(row, due_at, Some(&error.to_string()), hold)
        .await
}

/// `first × 2^(attempts-1)`, at most [`MAX_BACKOFF`], minus up to a fifth at random so that
/// rows that failed together do not all come back together.
fn backoff(first: Duration, attempts: i64) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    let full = first.saturating_mul(1u32 << exp.min(16)).min(MAX_BACKOFF);
    let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as u32;
    full - full / 5 * jitter / 1000
}

/// Sends what is due, every [`OutboxSettings::poll`], until told to stop.
///
/// Returns once `stop` turns true, after the pass in flight: a send is never cut off between
/// Jira's answer and the row's update, which would make another replica send it again.
pub async fn run_worker(services: Services, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(services.outbox.poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !*stop.borrow() {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        if let Err(e) = drain_once(&services).await {
            tracing::warn!(error = %e, "the outbox worker could not read the outbox");
        }
    }
}

/// One pass: leases a batch of due rows and sends them side by side. The number sent.
pub async fn drain_once(services: &Services) -> Result<usize, sqlx::Error> {
    let rows = services
        .db
        .lease_due_outbox_rows(LEASE.as_millis() as i64, BATCH)
        .await?;
    let count = rows.len();
    let mut sends = JoinSet::new();
    for row in rows {
        let services = services.clone();
        sends.spawn(async move {
            if let Err(e) = deliver(&services, &row, None).await {
                tracing::warn!(error = %e, "an outbox send failed on the database");
            }
        });
    }
    while sends.join_next().await.is_some() {}
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_below() {
        let first = Duration::from_secs(1);
        for attempts in 1..=12 {
            let full = first.saturating_mul(1 << (attempts - 1)).min(MAX_BACKOFF);
            let got = backoff(first, attempts);
            assert!(got <= full && got >= full * 4 / 5, "{attempts}: {got:?}");
        }
        assert!(backoff(first, 40) <= MAX_BACKOFF);
    }
}
