//! The Leptos UI of the Forge resource.
//!
//! The view is chosen from the Forge context (`extension.type`), never from the URL: inside
//! Forge the resource is served from a nested CDN path that a router would not recognise.

mod board;
mod header;

use leptos::{either::Either, prelude::*, task::spawn_local};

use crate::{
    api::ErrorBody,
    bridge::{ApiError, Bridge, GlobalBridge, RemoteClient},
};

use self::{
    board::{note_slot, TaskBoard},
    header::IssueHeader,
};

/// The `remotes[].key` in manifest.yml that `requestRemote` calls go to.
pub use crate::routes::REMOTE_KEY;

/// The remote, as every component reaches it.
pub type Client = RemoteClient<GlobalBridge>;

/// What the root shows, decided once from the Forge context.
#[derive(Clone)]
pub enum Mode {
    /// A Jira issue panel, with the issue's key.
    IssuePanel(String),
    Macro,
    /// Any other module type, by `extension.type`.
    Unsupported(String),
    /// `getContext` failed, with the reason.
    Unreachable(String),
}

impl Mode {
    /// Asks the host which module this is.
    pub async fn detect(bridge: Bridge<GlobalBridge>) -> Mode {
        match bridge.get_context().await {
            Ok(ctx) if ctx.extension.is_issue_panel() => {
                Mode::IssuePanel(ctx.extension.issue.map(|i| i.key).unwrap_or_default())
            }
            Ok(ctx) if ctx.extension.is_macro() => Mode::Macro,
            Ok(ctx) => Mode::Unsupported(ctx.extension.kind),
            Err(e) => Mode::Unreachable(e.to_string()),
        }
    }
}

/// Mounts the app to `<body>` once the host has said which module this is (one bridge round
/// trip). Deciding before mounting, rather than in a reactive branch, means the whole tree is
/// built once and never rebuilt, so the bundle carries no code to rebuild it.
pub fn mount() {
    wasm_bindgen_futures::spawn_local(async {
        let mode = Mode::detect(Bridge::global()).await;
        leptos::mount::mount_to_body(move || view! { <App mode=mode /> });
    });
}

/// Root component for one module.
#[component]
pub fn App(mode: Mode) -> impl IntoView {
    let bridge = Bridge::global();
    // Follow the product's light or dark theme with Atlassian's design tokens.
    spawn_local(async move {
        let _ = bridge.enable_theming().await;
    });
    provide_context(RemoteClient::new(bridge, REMOTE_KEY));

    // The board, under the issue's header in an issue panel.
    let board = |issue_key: Option<String>, label: &'static str| {
        Either::Left(view! {
            {issue_key.map(|key| view! { <IssueHeader issue_key=key /> })}
            <TaskBoard label=label />
        })
    };
    let alert = |text: String| Either::Right(note("tt-error", Some("alert"), None, text));
    let content = match mode {
        Mode::IssuePanel(key) => board(Some(key), "Tasks for this issue"),
        Mode::Macro => board(None, "Team tasks"),
        Mode::Unsupported(kind) => {
            alert("Team Tasks cannot run in a ".to_owned() + &kind + " module.")
        }
        Mode::Unreachable(reason) => {
            alert("Cannot reach the Atlassian product: ".to_owned() + &reason)
        }
    };
    view! {
        <main class="tt-app" data-testid="app-root">
            <h1 class="tt-title">"Team Tasks"</h1>
            {content}
        </main>
    }
}

/// A `<p>` message. Every message in the panel has this one shape, so they share their
/// rendering code in the bundle.
pub(crate) fn note(
    class: &'static str,
    role: Option<&'static str>,
    testid: Option<&'static str>,
    text: String,
) -> impl IntoView {
    view! { <p class=class role=role data-testid=testid>{text}</p> }
}

/// A sentence for the user about a failed call.
pub(crate) fn describe(error: &ApiError<ErrorBody>) -> String {
    match error {
        ApiError::Remote { error, .. } => error.message.clone(),
        ApiError::Bridge(e) => e.to_string(),
        ApiError::Contract { .. } => "The remote's answer was not understood.".to_owned(),
    }
}
