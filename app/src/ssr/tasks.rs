//! The rules every task function follows, from the verified context only: whose list the
//! caller reaches, who may write, and what happens after a change.
//!
//! Who reaches which list: an issue panel its issue's; a macro the list of (its space, its
//! configured team). A `team` argument may choose the team only when the macro's config names
//! none; a different team is a 403. A task outside the caller's list is a 404, as another
//! tenant's is. Every write needs a user (`principal`).
//!
//! After every change on an issue, the progress is written to the issue's `tasks-progress`
//! entity property with the app's system token, through the outbox (`ssr::outbox`). If Jira
//! cannot be reached the change still stands, the answer carries a notice, and the outbox
//! writes the property once Jira answers again.

use super::{
    db::tasks::{ScopeKey, StoredTask},
    error::{ApiError, Result},
    outbox, Services,
};
use crate::{
    api::ErrorBody,
    tasks::{parse_team, MacroConfig, Progress, Scope},
};
use forge_fit::{ExtensionClaims, FitClaims, ForgeOAuth};
use serde::Deserialize as _;

/// Whose list the caller works on, from its verified context only.
pub(crate) enum Caller {
    /// A Jira issue panel: exactly one issue's tasks.
    Issue { issue_id: String },
    /// A Confluence macro: a team's list in the macro's space. When the macro's saved config
    /// names a team, that is the only list it reaches.
    Macro {
        space_id: String,
        config_team: Option<String>,
    },
}

pub(crate) fn caller(claims: &FitClaims) -> Result<Caller> {
    match claims.context.as_ref().and_then(|c| c.extension.as_ref()) {
        Some(ExtensionClaims::IssuePanel { issue, .. }) => Ok(Caller::Issue {
            issue_id: issue.id.clone(),
        }),
        Some(ExtensionClaims::Macro { config, space, .. }) => Ok(Caller::Macro {
            space_id: space
                .as_ref()
                .and_then(|s| s.id.clone())
                .filter(|id| !id.is_empty())
                .ok_or_else(|| {
                    ApiError::Forbidden("This macro's Confluence space is unknown.".into())
                })?,
            config_team: config
                .as_ref()
                .and_then(|c| MacroConfig::deserialize(c).ok())
                .and_then(|c| parse_team(&c.team)),
        }),
        _ => Err(ApiError::Forbidden(
            "Team Tasks runs in a Jira issue panel or a Confluence macro.".into(),
        )),
    }
}

impl Caller {
    /// The caller's own list, given the team the request names (`?team=` or a body's `team`;
    /// macro only). A macro whose config names a team may name no other: the config is what the
    /// page's editors chose, and the request is whatever the browser sends.
    fn own_list(&self, requested: Option<&str>) -> Result<ScopeKey> {
        match self {
            Caller::Issue { issue_id } => Ok(ScopeKey::Issue(issue_id.clone())),
            Caller::Macro {
                space_id,
                config_team,
            } => {
                let requested = requested
                    .map(|raw| {
                        parse_team(raw).ok_or_else(|| {
                            ApiError::Unprocessable(
                                "A team name is 1 to 100 characters, without control characters."
                                    .into(),
                            )
                        })
                    })
                    .transpose()?;
                let team = match (config_team, requested) {
                    (Some(configured), Some(other)) if *configured != other => {
                        return Err(ApiError::Forbidden(format!(
                            "This macro is set to team {configured}: it cannot reach another team's list."
                        )))
                    }
                    (Some(configured), _) => configured.clone(),
                    (None, Some(requested)) => requested,
                    (None, None) => {
                        return Err(ApiError::Unprocessable(
                            "Say which team: ?team=<name>, or set the macro's team.".into(),
                        ))
                    }
                };
                Ok(ScopeKey::team(space_id.clone(), team))
            }
        }
    }
}

/// The caller's own list, with any rows of that team from before lists had a space claimed
/// for it (see `Database::claim_unscoped_team`).
pub(crate) async fn own_list(
    state: &Services,
    claims: &FitClaims,
    requested: Option<&str>,
) -> Result<ScopeKey> {
    let scope = caller(claims)?.own_list(requested)?;
    if let ScopeKey::Team { space, team } = &scope {
        state
            .db
            .claim_unscoped_team(installation(claims), space, team)
            .await
            .map_err(anyhow::Error::from)?;
    }
    Ok(scope)
}

/// The `invokeRemote` call a server function is answering: the verified caller, the OAuth
/// tokens Forge forwarded, and the services. What every write (and the Jira read) starts from.
pub(crate) struct Invocation {
    pub claims: std::sync::Arc<FitClaims>,
    pub oauth: ForgeOAuth,
    pub services: Services,
}

impl Invocation {
    pub async fn current() -> std::result::Result<Self, ErrorBody> {
        let forge_fit::Fit(claims) = leptos_axum::extract().await?;
        let oauth = leptos_axum::extract().await?;
        Ok(Invocation {
            claims,
            oauth,
            services: Services::current()?,
        })
    }

    /// A change to the existing task `id`: the caller must be a user, `id` must look like one
    /// of ours, and the answer carries the caller's own list (the one `team` names, where it
    /// may), which the task must then be found in.
    pub async fn on_task(
        id: &str,
        team: Option<&str>,
    ) -> std::result::Result<(Self, ScopeKey), ErrorBody> {
        let call = Self::current().await?;
        author(&call.claims)?;
        task_id(id)?;
        let list = own_list(&call.services, &call.claims, team).await?;
        Ok((call, list))
    }
}

/// Every write is made by a user: the token's `principal`. Without one (a trigger, a backend
/// call) nothing is written, and nothing is written to Jira on anyone's behalf.
pub(crate) fn author(claims: &FitClaims) -> Result<&str> {
    claims
        .principal
        .as_deref()
        .ok_or_else(|| ApiError::Forbidden("Only a signed-in user can change tasks.".into()))
}

pub(crate) fn wire_scope(scope: &ScopeKey) -> Scope {
    match scope {
        ScopeKey::Issue(id) => Scope::Issue {
            issue_id: id.clone(),
        },
        ScopeKey::Team { team, .. } => Scope::Team { team: team.clone() },
    }
}

pub(crate) fn installation(claims: &FitClaims) -> &str {
    &claims.app.installation_id
}

pub(crate) fn not_found() -> ApiError {
    ApiError::NotFound("No such task.".into())
}

/// Task ids are the uuids the remote made; anything else (a NUL, a path of megabytes) is simply
/// not a task, and never reaches the database.
pub(crate) fn task_id(id: &str) -> Result<()> {
    uuid::Uuid::try_parse(id).map(drop).map_err(|_| not_found())
}

/// The task `id` of the caller's `list`. A task of another issue, space or team is as absent
/// as another tenant's: checked before any write.
pub(crate) async fn find_in(
    state: &Services,
    installation: &str,
    id: &str,
    list: &ScopeKey,
) -> Result<StoredTask> {
    match state
        .db
        .find_task(installation, id)
        .await
        .map_err(ApiError::internal)?
    {
        Some(found) if found.scope == *list => Ok(found),
        _ => Err(not_found()),
    }
}

/// The list's new progress, and for an issue's list the request's own attempt at writing it to
/// the issue's `tasks-progress` property (the change already marked it due in the outbox).
///
/// Runs after the write succeeded, so nothing here may fail the request: a failed read or Jira
/// call becomes a notice, and the change stands. Only a failed attempt gives a notice: when
/// another sender holds the row, or it waits out a backoff, the outbox has it in hand.
pub(crate) async fn after_change(
    state: &Services,
    claims: &FitClaims,
    oauth: &ForgeOAuth,
    scope: &ScopeKey,
) -> (Progress, Option<String>) {
    let unread = || {
        (
            Progress { done: 0, total: 0 },
            Some("Saved, but the progress could not be read: reload to see it.".into()),
        )
    };
    if let ScopeKey::Issue(issue_id) = scope {
        let via = outbox::Via {
            api_base_url: &claims.app.api_base_url,
            cloud_id: claims.context.as_ref().map(|c| c.cloud_id.as_str()),
            token: oauth.system.as_ref(),
        };
        let sent = outbox::deliver_now(state, installation(claims), issue_id, via).await;
        match sent {
            Ok(outbox::Sent::Written { progress }) => return (progress, None),
            Ok(outbox::Sent::Failed { error, progress }) => {
                tracing::warn!(error = %error, "could not write task progress to Jira; the outbox will retry");
                return (
                    progress,
                    Some(format!(
                        "Saved, but Jira's progress field was not updated yet: {error}. It will be retried."
                    )),
                );
            }
            Ok(outbox::Sent::NotNow) => {}
            Err(e) => tracing::error!(error = %e, "could not read the outbox after a change"),
        }
    }
    match state.db.progress(installation(claims), scope).await {
        Ok(progress) => (progress, None),
        Err(e) => {
            tracing::error!(error = %e, "could not read the progress after a change");
            unread()
        }
    }
}
