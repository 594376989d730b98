//! The issue panel's header: the issue's key, summary and status, read from Jira by the remote
//! with the user's token (so it goes through `invokeRemote`, which forwards that token).

use leptos::{either::Either, prelude::*, task::spawn_local};

use super::{describe, Client};
use crate::{routes::GetIssueHeader, tasks::IssueHeader as IssueHeaderBody};

#[component]
pub fn IssueHeader(issue_key: String) -> impl IntoView {
    let client = expect_context::<Client>();
    let header = RwSignal::new(None);
    spawn_local(async move {
        header.set(Some(client.call(&GetIssueHeader).await));
    });
    view! {
        <header class="tt-issue" aria-label="Issue">
            <span class="tt-issue-key" data-testid="panel-issue-key">{issue_key}</span>
            {move || {
                header.get().map(|result| match result {
                    Ok(IssueHeaderBody { issue: Some(issue), .. }) => {
                        Either::Left(view! {
                            <span class="tt-issue-summary" data-testid="panel-issue-summary">
                                {issue.summary}
                            </span>
                            <span class="tt-lozenge" data-testid="panel-issue-status">
                                {issue.status}
                            </span>
                        })
                    }
                    // Jira could not be reached: the remote says so, and the tasks still work.
                    other => {
                        let notice = match other {
                            Ok(h) => h.notice.unwrap_or_default(),
                            Err(e) => "Issue details are unavailable: ".to_owned() + &describe(&e),
                        };
                        Either::Right(view! { <span class="tt-notice" role="status">{notice}</span> })
                    }
                })
            }}
        </header>
    }
}
