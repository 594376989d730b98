//! Team Tasks' REST API. Every route runs behind the FIT layer; the tenant (installation), the
//! user and the issue come only from the verified token.
//!
//! - `GET /tasks[?team=]` — a list's tasks and progress (also `/tasks/`)
//! - `POST /tasks` `{title, team?}` → 201
//! - `PATCH /tasks/{id}[?team=]` `{title?, done?}` → 200
//! - `DELETE /tasks/{id}[?team=]` → 204
//!
//! Who reaches which list: an issue panel its issue's; a macro the list of (its space, its
//! configured team). `team` may choose the team only when the macro's config names none; a
//! different team is a 403. A task outside the caller's list is a 404, as another tenant's is.
//! Every write needs a user (`principal`).
//! - `GET /issue` — the panel header, read from Jira as the user
//!
//! After every change on an issue, the progress is written to the issue's `tasks-progress`
//! entity property with the app's system token. If Jira cannot be reached the change still
//! stands, and the answer carries a notice.

use super::extract::{AppJson, AppQuery};
use crate::{
    atlassian::Jira,
    db::tasks::ScopeKey,
    error::{ApiError, Result},
    startup::AppState,
};
use app::{
    routes::{GetIssueHeader, ListTasks, Operation, UpdateTask},
    tasks::{
        parse_team, IssueHeader, MacroConfig, NewTask, Progress, Scope, TaskChange, TaskList,
        TaskPatch, TaskQuery, Title,
    },
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get},
    Json, Router,
};
use forge_fit::{ExtensionClaims, Fit, FitClaims, ForgeOAuth};
use serde::Deserialize as _;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(ListTasks::PATH, get(list).post(create))
        .route("/tasks/", get(list))
        .route(UpdateTask::PATH, delete(remove).patch(update))
        .route(GetIssueHeader::PATH, get(issue_header))
}

/// Whose list the caller works on, from its verified context only.
enum Caller {
    /// A Jira issue panel: exactly one issue's tasks.
    Issue { issue_id: String },
    /// A Confluence macro: a team's list in the macro's space. When the macro's saved config
    /// names a team, that is the only list it reaches.
    Macro {
        space_id: String,
        config_team: Option<String>,
    },
}

fn caller(claims: &FitClaims) -> Result<Caller> {
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
async fn own_list(
    state: &AppState,
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

/// Every write is made by a user: the token's `principal`. Without one (a trigger, a backend
/// call) nothing is written, and nothing is written to Jira on anyone's behalf.
fn author(claims: &FitClaims) -> Result<&str> {
    claims
        .principal
        .as_deref()
        .ok_or_else(|| ApiError::Forbidden("Only a signed-in user can change tasks.".into()))
}

fn wire_scope(scope: &ScopeKey) -> Scope {
    match scope {
        ScopeKey::Issue(id) => Scope::Issue {
            issue_id: id.clone(),
        },
        ScopeKey::Team { team, .. } => Scope::Team { team: team.clone() },
    }
}

fn installation(claims: &FitClaims) -> &str {
    &claims.app.installation_id
}

#[tracing::instrument(name = "List tasks", skip_all)]
async fn list(
    State(state): State<AppState>,
    Fit(claims): Fit,
    AppQuery(query): AppQuery<TaskQuery>,
) -> Result<Json<TaskList>> {
    let scope = own_list(&state, &claims, query.team.as_deref()).await?;
    let tasks = state
        .db
        .list_tasks(
            installation(&claims),
            &scope,
            state.settings.tasks_per_list_max,
        )
        .await
        .map_err(anyhow::Error::from)?;
    let done = tasks.iter().filter(|t| t.done).count() as u32;
    let progress = Progress {
        done,
        total: tasks.len() as u32,
    };
    Ok(Json(TaskList {
        scope: wire_scope(&scope),
        tasks,
        progress,
    }))
}

#[tracing::instrument(name = "Create a task", skip_all)]
async fn create(
    State(state): State<AppState>,
    Fit(claims): Fit,
    oauth: ForgeOAuth,
    AppJson(new): AppJson<NewTask>,
) -> Result<(StatusCode, Json<TaskChange>)> {
    let author = author(&claims)?;
    let title = Title::parse(&new.title).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let scope = own_list(&state, &claims, new.team.as_deref()).await?;
    let max = state.settings.tasks_per_list_max;
    let task = state
        .db
        .create_task(installation(&claims), &scope, title, author, max)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "This list is full: it holds at most {max} tasks. Delete some to add more."
            ))
        })?;
    let (progress, notice) = after_change(&state, &claims, &oauth, &scope).await;
    Ok((
        StatusCode::CREATED,
        Json(TaskChange {
            task,
            progress,
            notice,
        }),
    ))
}

#[tracing::instrument(name = "Update a task", skip_all, fields(task = ?short(&id)))]
async fn update(
    State(state): State<AppState>,
    Fit(claims): Fit,
    oauth: ForgeOAuth,
    Path(id): Path<String>,
    AppQuery(query): AppQuery<TaskQuery>,
    AppJson(patch): AppJson<TaskPatch>,
) -> Result<Json<TaskChange>> {
    author(&claims)?;
    task_id(&id)?;
    let list = own_list(&state, &claims, query.team.as_deref()).await?;
    if patch.title.is_none() && patch.done.is_none() {
        return Err(ApiError::Unprocessable(
            "Nothing to change: send title or done.".into(),
        ));
    }
    let title = patch
        .title
        .as_deref()
        .map(Title::parse)
        .transpose()
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let inst = installation(&claims);
    // Check the list before writing: a task of another issue, space or team is as absent as
    // another tenant's.
    match state
        .db
        .find_task(inst, &id)
        .await
        .map_err(anyhow::Error::from)?
    {
        Some(found) if found.scope == list => {}
        _ => return Err(not_found()),
    }
    let stored = state
        .db
        .update_task(inst, &id, title, patch.done)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or_else(not_found)?;
    let (progress, notice) = after_change(&state, &claims, &oauth, &stored.scope).await;
    Ok(Json(TaskChange {
        task: stored.task,
        progress,
        notice,
    }))
}

#[tracing::instrument(name = "Delete a task", skip_all, fields(task = ?short(&id)))]
async fn remove(
    State(state): State<AppState>,
    Fit(claims): Fit,
    oauth: ForgeOAuth,
    Path(id): Path<String>,
    AppQuery(query): AppQuery<TaskQuery>,
) -> Result<StatusCode> {
    author(&claims)?;
    task_id(&id)?;
    let list = own_list(&state, &claims, query.team.as_deref()).await?;
    let inst = installation(&claims);
    let found = match state
        .db
        .find_task(inst, &id)
        .await
        .map_err(anyhow::Error::from)?
    {
        Some(found) if found.scope == list => found,
        _ => return Err(not_found()),
    };
    if !state
        .db
        .delete_task(inst, &id)
        .await
        .map_err(anyhow::Error::from)?
    {
        return Err(not_found());
    }
    // The notice cannot travel on a 204; the failure is logged and the next change retries.
    let _ = after_change(&state, &claims, &oauth, &found.scope).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /issue`: the issue panel's header, from Jira as the user.
#[tracing::instrument(name = "Read the issue header", skip_all)]
async fn issue_header(
    State(state): State<AppState>,
    Fit(claims): Fit,
    oauth: ForgeOAuth,
) -> Result<Json<IssueHeader>> {
    let Caller::Issue { issue_id } = caller(&claims)? else {
        return Err(ApiError::NotFound(
            "Only the issue panel has an issue.".into(),
        ));
    };
    let jira = Jira::new(&state.http, &claims, &state.settings.api_hosts);
    Ok(Json(
        match jira.issue(oauth.user.as_ref(), &issue_id).await {
            Ok(issue) => IssueHeader {
                issue: Some(issue),
                notice: None,
            },
            Err(e) => {
                tracing::warn!(error = %e, "could not read the issue from Jira");
                IssueHeader {
                    issue: None,
                    notice: Some(format!("Issue details are unavailable: {e}.")),
                }
            }
        },
    ))
}

/// A path segment for a log field: the caller's, so cut short (and logged with `?`, escaped).
fn short(value: &str) -> String {
    value.chars().take(64).collect()
}

fn not_found() -> ApiError {
    ApiError::NotFound("No such task.".into())
}

/// Task ids are the uuids the remote made; anything else (a NUL, a path of megabytes) is simply
/// not a task, and never reaches the database.
fn task_id(id: &str) -> Result<()> {
    uuid::Uuid::try_parse(id).map(drop).map_err(|_| not_found())
}

/// The list's new progress, written to the issue's entity property when the list is an issue's.
///
/// Runs after the write succeeded, so nothing here may fail the request: a failed read or Jira
/// call becomes a notice, and the change stands.
async fn after_change(
    state: &AppState,
    claims: &FitClaims,
    oauth: &ForgeOAuth,
    scope: &ScopeKey,
) -> (Progress, Option<String>) {
    let progress = match state.db.progress(installation(claims), scope).await {
        Ok(progress) => progress,
        Err(e) => {
            tracing::error!(error = %e, "could not read the progress after a change");
            return (
                Progress { done: 0, total: 0 },
                Some("Saved, but the progress could not be read: reload to see it.".into()),
            );
        }
    };
    let ScopeKey::Issue(issue_id) = scope else {
        return (progress, None);
    };
    let jira = Jira::new(&state.http, claims, &state.settings.api_hosts);
    let notice = match jira
        .set_progress(oauth.system.as_ref(), issue_id, progress)
        .await
    {
        Ok(()) => None,
        Err(e) => {
            tracing::warn!(error = %e, "could not write task progress to Jira");
            Some(format!(
                "Saved, but Jira's progress field was not updated: {e}."
            ))
        }
    };
    (progress, notice)
}
