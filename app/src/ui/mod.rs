//! The Leptos UI of the Forge resource.
//!
//! The view is chosen from the Forge context (`extension.type`), never from the URL: inside
//! Forge the resource is served from a nested CDN path that a router would not recognise.

mod board;
pub mod config;
mod header;
mod keyed_rows;

use leptos::{either::Either, prelude::*, task::spawn_local};

use crate::{
    api::ErrorBody,
    bridge::{Bridge, BridgeError, GlobalBridge, Json, ISSUE_PANEL, MACRO},
    json,
    tasks::MacroConfig,
};

use self::{
    board::{note_slot, TaskBoard},
    header::IssueHeader,
};

/// What the root shows, decided once from the Forge context.
#[derive(Clone)]
pub enum Mode {
    /// A Jira issue panel, with the issue's key.
    IssuePanel(String),
    /// A Confluence macro whose config names a valid team.
    Macro,
    /// A Confluence macro with no (valid) team configured yet: nothing to list.
    ChooseTeam,
    /// Any other module type, by `extension.type`.
    Unsupported(String),
    /// `getContext` failed, with the reason.
    Unreachable(String),
}

/// What the panel reads of `getContext()`: which module it is, the issue, the macro's config.
/// Decoding the bridge's full [`crate::bridge::Context`] instead would add every other member's
/// reader to a bundle that every Jira issue view downloads.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct PanelContext {
    pub extension: PanelExtension,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct PanelExtension {
    /// `jira:issuePanel`, `macro`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub issue: Option<IssueKey>,
    /// Kept as JSON: a config this version cannot read must not fail the whole context.
    pub config: Option<Json>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct IssueKey {
    pub key: String,
}

impl PanelExtension {
    /// The saved macro config, if it is one this version reads.
    pub fn macro_config(&self) -> Option<MacroConfig> {
        json::from_value(self.config.clone()?).ok()
    }
}

impl Mode {
    /// Asks the host which module this is.
    pub async fn detect(bridge: Bridge<GlobalBridge>) -> Mode {
        Mode::of(bridge.get_context_as().await)
    }

    /// The module `getContext` describes. Not inlined into [`Mode::detect`]: a smaller future
    /// there keeps the bundle smaller.
    #[inline(never)]
    fn of(context: Result<PanelContext, BridgeError>) -> Mode {
        match context {
            Ok(ctx) if ctx.extension.kind == ISSUE_PANEL => {
                Mode::IssuePanel(ctx.extension.issue.map(|i| i.key).unwrap_or_default())
            }
            Ok(ctx) if ctx.extension.kind == MACRO => match ctx.extension.macro_config() {
                // A team that is not blank; the remote checks the rest of `parse_team`'s rule.
                Some(config) if !config.team.trim().is_empty() => Mode::Macro,
                _ => Mode::ChooseTeam,
            },
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
    // Follow the product's light or dark theme with Atlassian's design tokens:
    // `Bridge::enable_theming`'s call, sent raw like the "Choose a team" button's `open`, so
    // both await one future type and the bundle carries one copy of it (−117 B gzip).
    spawn_local(async move {
        let _ = bridge.call_raw("enableTheming", None).await;
    });

    // The board, under the issue's header in an issue panel.
    let board = |issue_key: Option<String>, label: &'static str| {
        Either::Left(view! {
            {issue_key.map(|key| view! { <IssueHeader issue_key=key /> })}
            <TaskBoard label=label />
        })
    };
    // Every state without a board is one message (one view type, so one copy in the bundle);
    // an unconfigured macro adds the button that opens its config.
    let message = |class, role, text: String| Either::Right(note(class, role, None, text));
    let alert = |text: String| message("tt-error", Some("alert"), text);
    let choose = matches!(mode, Mode::ChooseTeam).then(|| open_config(bridge));
    let content = match mode {
        Mode::IssuePanel(key) => board(Some(key), "Tasks for this issue"),
        Mode::Macro => board(None, "Team tasks"),
        Mode::ChooseTeam => message("tt-subtle", None, "No team chosen yet.".to_owned()),
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
            {choose}
        </main>
    }
}

/// `view.open()`: opens the macro's config view, where its team is chosen. Where the host cannot
/// open it, says where else it is.
fn open_config(bridge: Bridge<GlobalBridge>) -> impl IntoView {
    let failed = RwSignal::new(None);
    view! {
        <button
            class="tt-button tt-primary"
            on:click=move |_| {
                spawn_local(async move {
                    // `Bridge::open_view`'s rule (any failure, or `false`) on the raw answer: the
                    // bundle then carries no error value for it (−97 B gzip).
                    if bridge.call_raw("open", None).await.map_or(true, |r| r == "false") {
                        failed.set(Some(
                            "Cannot open the settings here: edit the page, select the macro, choose Edit.".to_owned(),
                        ));
                    }
                })
            }
        >
            "Choose a team"
        </button>
        {note_slot(failed, "tt-error", Some("alert"), Some("open-error"))}
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
pub(crate) fn describe(error: &ErrorBody) -> String {
    error.message.clone()
}
