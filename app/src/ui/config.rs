//! The macro's config view: the second resource (`config`, `target/site-config`) that
//! Confluence opens in a dialog when the macro is inserted or edited (manifest
//! `macro[].config.resource`). It picks the team whose list the macro shows and saves it with
//! `view.submit({config: {team}})`.
//!
//! Built from the same crate as the main resource, with the `frontend` feature `config-view`
//! making `start()` call [`mount_config`] instead of [`super::mount`]; LTO then leaves the board
//! out of this bundle and this view out of the main one, which every Jira issue view downloads.

use leptos::{ev, prelude::*, task::spawn_local};

use super::note;
use crate::{
    bridge::Bridge,
    tasks::{parse_team, MacroConfig},
};

/// Mounts the config view to `<body>` once `getContext` has said what the macro has saved.
pub fn mount_config() {
    wasm_bindgen_futures::spawn_local(async {
        let bridge = Bridge::global();
        let current = match bridge.get_context_as::<super::PanelContext>().await {
            Ok(ctx) => Ok(ctx
                .extension
                .macro_config()
                .map(|c| c.team)
                .unwrap_or_default()),
            Err(e) => Err(e.to_string()),
        };
        leptos::mount::mount_to_body(move || view! { <ConfigView current=current /> });
    });
}

/// Why a team name cannot be saved, in the words the field shows.
fn team_problem(raw: &str) -> Option<String> {
    if parse_team(raw).is_some() {
        return None;
    }
    let chars = raw.trim().chars().count();
    Some(if chars == 0 {
        "Enter a team name.".to_owned()
    } else {
        format!("The team name is {chars} characters long; the limit is 100.")
    })
}

/// The form: one field, validated as the remote validates it (`parse_team`), submitted with
/// Enter or the button. `current` is the saved team, or why the context could not be read.
#[component]
pub fn ConfigView(current: Result<String, String>) -> impl IntoView {
    let bridge = Bridge::global();
    spawn_local(async move {
        let _ = bridge.enable_theming().await;
    });
    let context_error = current.clone().err();
    let draft = RwSignal::new(current.unwrap_or_default());
    let invalid = RwSignal::new(None::<String>);
    let field: NodeRef<leptos::html::Input> = NodeRef::new();
    // Saving is an action: pending while the host works, and its value is the outcome, until
    // the field changes again. On success the host closes the dialog and reloads the macro.
    let save = Action::new_local(move |config: &MacroConfig| {
        let config = config.clone();
        async move {
            bridge
                .submit_config(&config)
                .await
                .map_err(|e| e.to_string())
        }
    });
    let busy = save.pending();
    let outcome = save.value();

    // Keyboard users start in the field: the dialog opens for it.
    Effect::new(move |_| {
        if let Some(el) = field.get() {
            let _ = el.focus();
        }
    });

    let submit = move || {
        if busy.get_untracked() {
            return;
        }
        let raw = draft.get_untracked();
        let Some(team) = parse_team(&raw) else {
            invalid.set(team_problem(&raw));
            if let Some(el) = field.get_untracked() {
                let _ = el.focus();
            }
            return;
        };
        invalid.set(None);
        outcome.set(None);
        save.dispatch(MacroConfig { team });
    };

    view! {
        <main class="tt-app" data-testid="config-root">
            <h1 class="tt-title">"Team Tasks settings"</h1>
            {context_error.map(|e| {
                note("tt-error", Some("alert"), Some("context-error"), "Cannot read the macro's settings: ".to_owned() + &e)
            })}
            <form
                novalidate
                on:submit=move |ev: ev::SubmitEvent| {
                    ev.prevent_default();
                    submit();
                }
            >
                <label for="tt-team">"Team"</label>
                <p id="tt-team-hint" class="tt-subtle">
                    "The team whose task list this macro shows (1 to 100 characters)."
                </p>
                <div class="tt-add">
                    <input
                        node_ref=field
                        id="tt-team"
                        class="tt-input"
                        type="text"
                        name="team"
                        autocomplete="off"
                        aria-invalid=move || if invalid.with(Option::is_some) { "true" } else { "false" }
                        aria-describedby=move || {
                            if invalid.with(Option::is_some) { "tt-team-error tt-team-hint" } else { "tt-team-hint" }
                        }
                        prop:value=draft
                        on:input=move |ev| {
                            draft.set(event_target_value(&ev));
                            outcome.set(None);
                        }
                    />
                    <button class="tt-button tt-primary" type="submit" disabled=busy>"Save"</button>
                </div>
            </form>
            {move || invalid.get().map(|text| view! {
                <p id="tt-team-error" class="tt-error" role="alert" data-testid="team-error">{text}</p>
            })}
            {move || {
                outcome.get().and_then(Result::err).map(|e| {
                    note("tt-error", Some("alert"), Some("submit-error"), "The team could not be saved: ".to_owned() + &e)
                })
            }}
            <Show when=move || matches!(outcome.get(), Some(Ok(())))>
                {note("tt-subtle", Some("status"), Some("saved"), "Saved.".to_owned())}
            </Show>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_refuses_what_the_remote_refuses() {
        assert_eq!(team_problem("  Forge "), None);
        assert_eq!(team_problem(&"é".repeat(100)), None);
        assert_eq!(team_problem("   ").as_deref(), Some("Enter a team name."));
        assert_eq!(
            team_problem(&"x".repeat(101)).as_deref(),
            Some("The team name is 101 characters long; the limit is 100.")
        );
    }

    #[test]
    fn the_team_is_read_from_the_saved_config() {
        use crate::{bridge::Json, ui::PanelExtension};
        let team = |config: Option<&str>| {
            PanelExtension {
                config: config.map(|c| Json::parse(c).unwrap()),
                ..PanelExtension::default()
            }
            .macro_config()
            .map(|c| c.team)
        };
        assert_eq!(
            team(Some(r#"{"team":"Forge","other":1}"#)).as_deref(),
            Some("Forge")
        );
        assert_eq!(team(Some("{}")), None);
        assert_eq!(team(Some(r#"{"team":3}"#)), None);
        assert_eq!(team(None), None);
    }
}
