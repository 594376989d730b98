//! The task list shared by the issue panel and the macro: progress, list, add, toggle, inline
//! rename, delete, and the loading, empty and error states.
//!
//! Reads go through `requestRemote` (no Forge proxy hop); writes through `invokeRemote`, which
//! forwards the OAuth tokens the remote needs to update Jira. The list is updated from each
//! write's answer rather than refetched.
//!
//! Written for a small bundle: every distinct view type and every reactive closure is compiled
//! into the wasm on its own, while a signal bound directly (`prop:checked=row.done`) shares the
//! code of every other binding of its type. So state lives in a few signal types, signals are
//! bound directly where they can be, the remaining closures come from shared helpers
//! ([`note_slot`], [`prefixed`]), and there are few components. A closure that returns a view
//! also compiles the code to rebuild that view, so the states are shown side by side (hidden or
//! absent) rather than in one branching closure, and the list is a [`KeyedRows`], not a `<For>`.

use leptos::{ev, prelude::*, task::spawn_local};

use super::{describe, keyed_rows::KeyedRows, note};
use crate::{
    functions::{create_task, delete_task, list_tasks, update_task},
    tasks::{Progress, Scope, Task, TaskChange, Title},
};

/// A task's change: a new title, or the done flag.
enum Edit {
    Title(String),
    Done(bool),
}

/// A task as its row shows it. The title and done state are signals, so a changed task updates
/// its row in place (keyboard focus stays put), and the list only changes when rows come or go.
#[derive(Clone)]
struct Row {
    id: String,
    title: RwSignal<String>,
    done: RwSignal<bool>,
}

/// Everything the rows and the form change.
#[derive(Clone, Copy)]
struct Board {
    /// Owns the rows' signals, which are created in async tasks (that have no owner).
    owner: StoredValue<Owner>,
    rows: RwSignal<Vec<Row>>,
    done: RwSignal<u32>,
    total: RwSignal<u32>,
    /// Latest write failure, announced to screen readers.
    error: RwSignal<Option<String>>,
    /// Degraded-mode notices (e.g. Jira could not be updated).
    notice: RwSignal<Option<String>>,
}

impl Board {
    fn row(&self, task: Task) -> Row {
        self.owner.get_value().with(|| Row {
            id: task.id,
            title: RwSignal::new(task.title),
            done: RwSignal::new(task.done),
        })
    }

    fn progress(&self, p: Progress) {
        self.done.set(p.done);
        self.total.set(p.total);
    }

    fn apply(&self, change: TaskChange) {
        self.progress(change.progress);
        self.notice.set(change.notice);
        self.error.set(None);
        let task = change.task;
        let row = self
            .rows
            .with_untracked(|rows| rows.iter().find(|r| r.id == task.id).cloned());
        match row {
            Some(row) => {
                row.title.set(task.title);
                row.done.set(task.done);
            }
            None => {
                let row = self.row(task);
                self.rows.update(|rows| rows.push(row));
            }
        }
    }

    fn update(&self, id: String, edit: Edit) {
        let board = *self;
        let (title, done) = match edit {
            Edit::Title(title) => (Some(title), None),
            Edit::Done(done) => (None, Some(done)),
        };
        spawn_local(async move {
            match update_task(id, title, done, None).await {
                Ok(change) => board.apply(change),
                Err(e) => board.error.set(Some(describe(&e))),
            }
        });
    }

    fn delete(&self, id: String) {
        let board = *self;
        spawn_local(async move {
            match delete_task(id.clone(), None).await {
                Ok(removed) => {
                    board.error.set(None);
                    board.notice.set(removed.notice);
                    board.rows.update(|rows| rows.retain(|r| r.id != id));
                    board.progress(removed.progress);
                }
                Err(e) => board.error.set(Some(describe(&e))),
            }
        });
    }
}

/// A [`note`] while `text` holds one. One closure type for every such slot in the bundle.
pub(super) fn note_slot(
    text: RwSignal<Option<String>>,
    class: &'static str,
    role: Option<&'static str>,
    testid: Option<&'static str>,
) -> impl IntoView {
    move || text.get().map(|t| note(class, role, testid, t))
}

/// `prefix` and the title, e.g. `Delete Write the docs`: a row's accessible names.
fn prefixed(prefix: &'static str, title: RwSignal<String>) -> impl Fn() -> String + Copy {
    move || title.with(|t| prefix.to_owned() + t)
}

#[component]
pub fn TaskBoard(label: &'static str) -> impl IntoView {
    let board = Board {
        owner: StoredValue::new(Owner::current().expect("the board renders in an owner")),
        rows: RwSignal::new(Vec::new()),
        done: RwSignal::new(0),
        total: RwSignal::new(0),
        error: RwSignal::new(None),
        notice: RwSignal::new(None),
    };
    // The list's load state: "Loading tasks…" while `loading` holds it, the failure while
    // `load_error` does, and `ready` once the rows are in.
    let loading = RwSignal::new(None::<String>);
    let load_error = RwSignal::new(None::<String>);
    // The remote refuses every call of an uninstalled site (403 `not_installed`): trying again
    // cannot help, so that is a state of its own, without "Try again".
    let not_installed = RwSignal::new(None::<String>);
    let ready = RwSignal::new(false);
    // "Team: …" in the macro, once the remote has said which team.
    let team = RwSignal::new(None::<String>);

    let fetch = move || {
        load_error.set(None);
        ready.set(false);
        loading.set(Some("Loading tasks…".to_owned()));
        spawn_local(async move {
            match list_tasks(None).await {
                Ok(list) => {
                    if let Scope::Team { team: name } = list.scope {
                        team.set(Some("Team: ".to_owned() + &name));
                    }
                    board
                        .rows
                        .set(list.tasks.into_iter().map(|t| board.row(t)).collect());
                    board.progress(list.progress);
                    ready.set(true);
                }
                Err(e) if e.code == "not_installed" => not_installed.set(Some(describe(&e))),
                Err(e) => load_error.set(Some(describe(&e))),
            }
            loading.set(None);
        });
    };
    fetch();

    // The new-task form.
    let draft = RwSignal::new(String::new());
    let invalid = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move || {
        if busy.get_untracked() {
            return;
        }
        let title = match Title::parse(&draft.get_untracked()) {
            Ok(t) => t,
            Err(e) => return invalid.set(Some(e.to_string())),
        };
        invalid.set(None);
        busy.set(true);
        spawn_local(async move {
            match create_task(title.into_string(), None).await {
                Ok(change) => {
                    board.apply(change);
                    draft.set(String::new());
                }
                Err(e) => board.error.set(Some(describe(&e))),
            }
            busy.set(false);
        });
    };

    let (done, total) = (board.done, board.total);
    let empty = move || board.rows.with(Vec::is_empty);

    view! {
        <section class="tt-board" aria-label=label>
            {note_slot(team, "tt-subtle", None, Some("team-name"))}
            <div class="tt-progress">
                <div
                    class="tt-progress-track"
                    role="progressbar"
                    aria-label="Tasks done"
                    aria-valuemin="0"
                    aria-valuemax=total
                    aria-valuenow=done
                >
                    <div
                        class="tt-progress-fill"
                        style:width=move || {
                            (done.get() * 100).checked_div(total.get()).unwrap_or(0).to_string() + "%"
                        }
                    ></div>
                </div>
                <span class="tt-subtle" data-testid="progress-text">
                    {move || done.get().to_string() + " of " + &total.get().to_string() + " done"}
                </span>
            </div>
            <div class="tt-add">
                <input
                    class="tt-input"
                    type="text"
                    placeholder="Add a task and press Enter"
                    aria-label="New task"
                    maxlength="500"
                    aria-invalid=move || if invalid.with(Option::is_some) { "true" } else { "false" }
                    prop:value=draft
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=move |ev: ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            submit();
                        }
                    }
                />
                <button class="tt-button tt-primary" disabled=busy on:click=move |_| submit()>
                    "Add"
                </button>
            </div>
            {note_slot(invalid, "tt-error", Some("alert"), None)}
            {note_slot(board.error, "tt-error", Some("alert"), Some("task-error"))}
            {note_slot(board.notice, "tt-notice", Some("status"), Some("task-notice"))}
            {note_slot(loading, "tt-subtle", Some("status"), None)}
            {note_slot(not_installed, "tt-error", Some("alert"), Some("not-installed"))}
            {move || {
                load_error.get().map(|message| view! {
                    <div class="tt-error" role="alert" data-testid="load-error">
                        <p>"Could not load the tasks: " {message}</p>
                        <button class="tt-button" on:click=move |_| fetch()>"Try again"</button>
                    </div>
                })
            }}
            {move || {
                (ready.get() && empty()).then(|| {
                    note(
                        "tt-subtle tt-empty",
                        None,
                        Some("empty"),
                        "No tasks yet. Add the first one above.".to_owned(),
                    )
                })
            }}
            // Built once and hidden until there are rows to show; a changed task updates its own
            // row through the row's signals.
            <KeyedRows
                each=board.rows
                key=|row: &Row| row.id.clone()
                children=move |row| task_row(board, row)
                hidden=move || !ready.get() || empty()
                class="tt-list"
                label=label
            />
        </section>
    }
}

fn task_row(board: Board, row: Row) -> impl IntoView {
    let Row { id, title, done } = row;
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let invalid = RwSignal::new(None::<String>);
    // Keyboard users land in the field they open, and back on the row's button after.
    let input: NodeRef<leptos::html::Input> = NodeRef::new();
    let rename_button: NodeRef<leptos::html::Button> = NodeRef::new();
    let close_editor = move || {
        editing.set(false);
        if let Some(el) = rename_button.get_untracked() {
            let _ = el.focus();
        }
    };

    let checkbox_id = "task-".to_owned() + &id;
    let (change_id, delete_id) = (id.clone(), id.clone());
    let save = move || match Title::parse(&draft.get_untracked()) {
        Ok(t) if title.with_untracked(|title| t.as_str() == title) => close_editor(),
        Ok(t) => {
            close_editor();
            board.update(id.clone(), Edit::Title(t.into_string()));
        }
        Err(e) => invalid.set(Some(e.to_string())),
    };

    view! {
        // `tt-editing` shows the rename field instead of the title (style/main.css).
        <li class="tt-task" class:tt-done=done class:tt-editing=editing data-testid="task">
            <input
                type="checkbox"
                id=checkbox_id.clone()
                prop:checked=done
                on:change=move |_| {
                    board.update(change_id.clone(), Edit::Done(!done.get_untracked()))
                }
            />
            // Both always there and `tt-editing` shows one (`display: none` hides the other from
            // screen readers too): cheaper than building either on each toggle.
            <input
                node_ref=input
                class="tt-input tt-rename"
                type="text"
                maxlength="500"
                aria-label=prefixed("New title for ", title)
                prop:value=draft
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=move |ev: ev::KeyboardEvent| match ev.key().as_str() {
                    "Enter" => {
                        ev.prevent_default();
                        save();
                    }
                    "Escape" => close_editor(),
                    _ => {}
                }
            />
            <label class="tt-task-title" for=checkbox_id>{title}</label>
            <button
                node_ref=rename_button
                class="tt-icon-button"
                aria-label=prefixed("Rename ", title)
                aria-expanded=move || if editing.get() { "true" } else { "false" }
                on:click=move |_| {
                    invalid.set(None);
                    if editing.get_untracked() {
                        close_editor();
                    } else {
                        draft.set(title.get_untracked());
                        editing.set(true);
                        // The class binding shows the field after this handler returns.
                        request_animation_frame(move || {
                            if let Some(el) = input.get_untracked() {
                                let _ = el.focus();
                            }
                        });
                    }
                }
            >
                "✎"
            </button>
            <button
                class="tt-icon-button"
                aria-label=prefixed("Delete ", title)
                on:click=move |_| board.delete(delete_id.clone())
            >
                "✕"
            </button>
            {note_slot(invalid, "tt-error", Some("alert"), None)}
        </li>
    }
}
