//! The issue panel's header: the issue's key, summary and status, read from Jira by the remote
//! with the user's token (so it goes through `invokeRemote`, which forwards that token).

use leptos::{prelude::*, task::spawn_local};

use super::{describe, Client};
use crate::routes::GetIssueHeader;

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
                    header
                        .get()
                        .map(|result| match result {
                            Ok(h) => {
                                match h.issue {
                                    Some(issue) => {
                                        view! {
                                            <span class="tt-issue-summary" data-testid="panel-issue-summary">
                                                {issue.summary}
                                            </span>
                                            <span class="tt-lozenge" data-testid="panel-issue-status">
                                                {issue.status}
                                            </span>
                                        }
                                            .into_any()
                                    }
                                    None => {
                                        view! {
                                            <span class="tt-notice" role="status">
                                                {h.notice.unwrap_or_default()}
                                            </span>
                                        }
                                            .into_any()
                                    }
                                }
                            }
                            Err(e) => {
                                view! {
                                    <span class="tt-notice" role="status">
                                        "Issue details are unavailable: " {describe(&e)}
                                    </span>
                                }
                                    .into_any()
                            }
                        })
                }}
        </header>
    }
}
