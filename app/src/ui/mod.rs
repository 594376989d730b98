//! The Leptos UI of the Forge resource.
//!
//! The view is chosen from the Forge context (`extension.type`), never from the URL: inside
//! Forge the resource is served from a nested CDN path that a router would not recognise.

mod board;
mod header;

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::ErrorBody,
    bridge::{ApiError, Bridge, GlobalBridge, RemoteClient},
};

use self::{board::TaskBoard, header::IssueHeader};

/// The `remotes[].key` in manifest.yml that `requestRemote` calls go to.
pub use crate::routes::REMOTE_KEY;

/// The remote, as every component reaches it.
pub type Client = RemoteClient<GlobalBridge>;

/// Root component, mounted to `<body>` by the `frontend` crate.
#[component]
pub fn App() -> impl IntoView {
    let bridge = Bridge::global();
    // Follow the product's light or dark theme with Atlassian's design tokens.
    spawn_local(async move {
        let _ = bridge.enable_theming().await;
    });
    provide_context(RemoteClient::new(bridge, REMOTE_KEY));
    let context = LocalResource::new(move || async move { bridge.get_context().await });

    view! {
        <main class="tt-app" data-testid="app-root">
            <h1 class="tt-title">"Team Tasks"</h1>
            <Suspense fallback=|| view! { <p class="tt-subtle" role="status">"Loading…"</p> }>
                {move || {
                    context
                        .get()
                        .map(|result| match result {
                            Ok(ctx) if ctx.extension.is_issue_panel() => {
                                let key = ctx.extension.issue.map(|i| i.key).unwrap_or_default();
                                view! {
                                    <IssueHeader issue_key=key />
                                    <TaskBoard label="Tasks for this issue".to_owned() />
                                }
                                    .into_any()
                            }
                            Ok(ctx) if ctx.extension.is_macro() => {
                                view! { <TaskBoard label="Team tasks".to_owned() /> }.into_any()
                            }
                            Ok(ctx) => {
                                view! {
                                    <p class="tt-error" role="alert">
                                        "Team Tasks cannot run in a " {ctx.extension.kind} " module."
                                    </p>
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! {
                                    <p class="tt-error" role="alert">
                                        "Cannot reach the Atlassian product: " {e.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </main>
    }
}

/// A sentence for the user about a failed call.
pub(crate) fn describe(error: &ApiError<ErrorBody>) -> String {
    match error {
        ApiError::Remote { error, .. } => error.message.clone(),
        ApiError::Bridge(e) => e.to_string(),
        ApiError::Contract { .. } => "The remote's answer was not understood.".to_owned(),
    }
}
