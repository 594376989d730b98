//! The issue panel's header: the issue's key, summary and status, read from Jira by the remote
//! with the user's token (so it goes through `invokeRemote`, which forwards that token).

use leptos::{prelude::*, task::spawn_local};

use super::{describe, note_slot};
use crate::{
    functions::get_issue_header,
    tasks::{IssueHeader as IssueHeaderBody, IssueSummary},
};

#[component]
pub fn IssueHeader(issue_key: String) -> impl IntoView {
    let issue = RwSignal::new(None);
    // Jira could not be reached: the remote says so, and the tasks still work.
    let notice = RwSignal::new(None);
    spawn_local(async move {
        match get_issue_header().await {
            Ok(IssueHeaderBody {
                issue: Some(summary),
                ..
            }) => issue.set(Some(summary)),
            Ok(header) => notice.set(header.notice),
            Err(e) => notice.set(Some(
                "Issue details are unavailable: ".to_owned() + &describe(&e),
            )),
        }
    });
    view! {
        <header class="tt-issue" aria-label="Issue">
            <span class="tt-issue-key" data-testid="panel-issue-key">{issue_key}</span>
            {move || {
                issue.get().map(|issue: IssueSummary| view! {
                    <span class="tt-issue-summary" data-testid="panel-issue-summary">
                        {issue.summary}
                    </span>
                    <span class="tt-lozenge" data-testid="panel-issue-status">
                        {issue.status}
                    </span>
                })
            }}
            {note_slot(notice, "tt-notice", Some("status"), None)}
        </header>
    }
}
