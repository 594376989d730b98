//! The remote's API: one `#[server]` function per call, defined once for both ends.
//!
//! In the panel, calling a function sends it through the Forge bridge with the client its
//! attribute names: [`InvokeRemote`] for writes and anything that needs the OAuth tokens,
//! [`RequestRemote`] for reads that need only the verified identity. On the remote
//! (feature `ssr`), `server::startup` serves each at its path with leptos_axum, behind the FIT
//! layer; the body runs there, reading the verified token with `leptos_axum::extract` and the
//! database and Jira client from [`Services`](crate::ssr::Services).
//!
//! | function | request | answer |
//! |---|---|---|
//! | [`whoami`] | `GET /whoami` | 200 [`WhoAmI`] |
//! | [`list_tasks`] | `GET /tasks[?team=]` (also `/tasks/`) | 200 [`TaskList`] |
//! | [`create_task`] | `POST /tasks` `{"title", "team"?}` | 201 [`TaskChange`] |
//! | [`update_task`] | `PATCH /task` `{"id", "title"?, "done"?, "team"?}` | 200 [`TaskChange`] |
//! | [`delete_task`] | `DELETE /task?id=[&team=]` | 200 [`TaskRemoved`] |
//! | [`get_issue_header`] | `GET /issue` | 200 [`IssueHeader`] |
//!
//! Every failure is an [`ErrorBody`] `{code, message}` with its status; 401 means only that the
//! FIT was refused. `team` matters only in a Confluence macro (see `ssr::tasks`).

use forge_bridge::server_fn::{InvokeRemote, JsonAnswer, PatchJson, PostJson, Remote};
use leptos::server;
use server_fn::codec::{DeleteUrl, GetUrl};

#[cfg(feature = "ssr")]
use crate::ssr::{error::ApiError, tasks as rules, Services};
use crate::{
    api::{ErrorBody, WhoAmI},
    tasks::{IssueHeader, TaskChange, TaskList, TaskRemoved},
};

/// `remotes[].key` of the remote in manifest.yml: what `requestRemote` addresses.
/// (`invokeRemote` goes through the module's `resolver.endpoint` instead.)
pub const REMOTE_KEY: &str = "team-tasks-remote";

/// The manifest's remote, for [`RequestRemote`].
pub struct TeamTasksRemote;

impl Remote for TeamTasksRemote {
    const KEY: &'static str = REMOTE_KEY;
}

/// `requestRemote` to this app's remote.
pub type RequestRemote = forge_bridge::server_fn::RequestRemote<TeamTasksRemote>;

/// `GET /healthz`: liveness, the one call without a FIT. A plain axum route on the remote (load
/// balancers call it), not a server function.
pub const HEALTHZ: &str = "/healthz";
/// Readiness, for load balancers: 200 only when the database answers and the remote is not
/// shutting down.
pub const READYZ: &str = "/readyz";

/// Who the verified FIT says is calling.
#[server(prefix = "", endpoint = "whoami", input = GetUrl, output = JsonAnswer, client = RequestRemote)]
pub async fn whoami() -> Result<WhoAmI, ErrorBody> {
    let forge_fit::Fit(claims) = leptos_axum::extract().await?;
    Ok(crate::ssr::whoami::who_am_i(&claims))
}

/// A list's tasks and progress. A database read that needs no OAuth token.
#[server(prefix = "", endpoint = "tasks", input = GetUrl, output = JsonAnswer, client = RequestRemote)]
pub async fn list_tasks(team: Option<String>) -> Result<TaskList, ErrorBody> {
    let forge_fit::Fit(claims) = leptos_axum::extract().await?;
    let services = Services::current()?;
    let scope = rules::own_list(&services, &claims, team.as_deref()).await?;
    let tasks = services
        .db
        .list_tasks(
            rules::installation(&claims),
            &scope,
            services.tasks_per_list_max,
        )
        .await
        .map_err(ApiError::internal)?;
    Ok(TaskList::new(rules::wire_scope(&scope), tasks))
}

/// Adds a task: 201. It updates the issue's progress in Jira with the app's token.
#[server(prefix = "", endpoint = "tasks", input = PostJson, output = JsonAnswer, client = InvokeRemote)]
pub async fn create_task(title: String, team: Option<String>) -> Result<TaskChange, ErrorBody> {
    use crate::tasks::Title;
    let rules::Invocation {
        claims,
        oauth,
        services,
    } = rules::Invocation::current().await?;
    let author = rules::author(&claims)?;
    let title = Title::parse(&title).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let scope = rules::own_list(&services, &claims, team.as_deref()).await?;
    let max = services.tasks_per_list_max;
    let task = services
        .db
        .create_task(rules::installation(&claims), &scope, title, author, max)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "This list is full: it holds at most {max} tasks. Delete some to add more."
            ))
        })?;
    let (progress, notice) = rules::after_change(&services, &claims, &oauth, &scope).await;
    crate::ssr::error::answer_with(axum::http::StatusCode::CREATED);
    Ok(TaskChange {
        task,
        progress,
        notice,
    })
}

/// Changes a task's title or done flag (the fields given).
#[server(prefix = "", endpoint = "task", input = PatchJson, output = JsonAnswer, client = InvokeRemote)]
pub async fn update_task(
    id: String,
    title: Option<String>,
    done: Option<bool>,
    team: Option<String>,
) -> Result<TaskChange, ErrorBody> {
    use crate::tasks::Title;
    let (call, list) = rules::Invocation::on_task(&id, team.as_deref()).await?;
    let rules::Invocation {
        claims,
        oauth,
        services,
    } = call;
    if title.is_none() && done.is_none() {
        return Err(
            ApiError::Unprocessable("Nothing to change: send title or done.".into()).into(),
        );
    }
    let title = title
        .as_deref()
        .map(Title::parse)
        .transpose()
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let inst = rules::installation(&claims);
    rules::find_in(&services, inst, &id, &list).await?;
    let stored = services
        .db
        .update_task(inst, &id, title, done)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(rules::not_found)?;
    let (progress, notice) = rules::after_change(&services, &claims, &oauth, &stored.scope).await;
    Ok(TaskChange {
        task: stored.task,
        progress,
        notice,
    })
}

/// Deletes a task; the answer is the list's new progress.
#[server(prefix = "", endpoint = "task", input = DeleteUrl, output = JsonAnswer, client = InvokeRemote)]
pub async fn delete_task(id: String, team: Option<String>) -> Result<TaskRemoved, ErrorBody> {
    let (call, list) = rules::Invocation::on_task(&id, team.as_deref()).await?;
    let rules::Invocation {
        claims,
        oauth,
        services,
    } = call;
    let inst = rules::installation(&claims);
    let found = rules::find_in(&services, inst, &id, &list).await?;
    if !services
        .db
        .delete_task(inst, &id)
        .await
        .map_err(ApiError::internal)?
    {
        return Err(rules::not_found().into());
    }
    let (progress, notice) = rules::after_change(&services, &claims, &oauth, &found.scope).await;
    Ok(TaskRemoved { progress, notice })
}

/// The issue panel's header, read from Jira as the user: that token only comes with
/// `invokeRemote`.
#[server(prefix = "", endpoint = "issue", input = GetUrl, output = JsonAnswer, client = InvokeRemote)]
pub async fn get_issue_header() -> Result<IssueHeader, ErrorBody> {
    use crate::ssr::atlassian::Jira;
    let rules::Invocation {
        claims,
        oauth,
        services,
    } = rules::Invocation::current().await?;
    let rules::Caller::Issue { issue_id } = rules::caller(&claims)? else {
        return Err(ApiError::NotFound("Only the issue panel has an issue.".into()).into());
    };
    let jira = Jira::new(&services.http, &claims, &services.api_hosts);
    Ok(match jira.issue(oauth.user.as_ref(), &issue_id).await {
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
    })
}
