//! The task list shared by the issue panel and the macro: progress, list, add, toggle, inline
//! rename, delete, and the loading, empty and error states.
//!
//! Reads go through `requestRemote` (no Forge proxy hop); writes through `invokeRemote`, which
//! forwards the OAuth tokens the remote needs to update Jira. The list is updated from each
//! write's answer rather than refetched.
//!
//! Written for a small bundle: every distinct view type and reactive closure is compiled into
//! the wasm separately, so messages share one shape ([`note`]), conditional parts are plain
//! closures over signals rather than `<Show>`, and there are few components.

use leptos::{
    either::{Either, EitherOf3},
    ev,
    prelude::*,
    task::spawn_local,
};

use super::{describe, note, Client};
use crate::{
    routes::{CreateTask, DeleteTask, ListTasks, UpdateTask},
    tasks::{NewTask, Progress, Scope, Task, TaskChange, TaskPatch, Title},
};

#[derive(Clone, PartialEq)]
enum Load {
    Loading,
    Ready,
    Failed(String),
}

/// Everything the rows and the form change.
#[derive(Clone, Copy)]
struct Board {
    client: StoredValue<Client>,
    tasks: RwSignal<Vec<Task>>,
    progress: RwSignal<Progress>,
    /// Latest write failure, announced to screen readers.
    error: RwSignal<Option<String>>,
    /// Degraded-mode notices (e.g. Jira could not be updated).
    notice: RwSignal<Option<String>>,
}

impl Board {
    fn apply(&self, change: TaskChange) {
        self.progress.set(change.progress);
        self.notice.set(change.notice);
        self.error.set(None);
        self.tasks.update(
            |tasks| match tasks.iter_mut().find(|t| t.id == change.task.id) {
                Some(existing) => *existing = change.task,
                None => tasks.push(change.task),
            },
        );
    }

    fn update(&self, id: String, patch: TaskPatch) {
        let board = *self;
        spawn_local(async move {
            let client = board.client.get_value();
            match client.call(&UpdateTask { id, patch }).await {
                Ok(change) => board.apply(change),
                Err(e) => board.error.set(Some(describe(&e))),
            }
        });
    }

    fn delete(&self, id: String) {
        let board = *self;
        spawn_local(async move {
            let client = board.client.get_value();
            match client.call(&DeleteTask { id: id.clone() }).await {
                Ok(()) => {
                    board.error.set(None);
                    board.tasks.update(|tasks| tasks.retain(|t| t.id != id));
                    let tasks = board.tasks.get_untracked();
                    let done = tasks.iter().filter(|t| t.done).count() as u32;
                    board.progress.set(Progress {
                        done,
                        total: tasks.len() as u32,
                    });
                }
                Err(e) => board.error.set(Some(describe(&e))),
            }
        });
    }
}

#[component]
pub fn TaskBoard(label: &'static str) -> impl IntoView {
    let board = Board {
        client: StoredValue::new(expect_context::<Client>()),
        tasks: RwSignal::new(Vec::new()),
        progress: RwSignal::new(Progress::default()),
        error: RwSignal::new(None),
        notice: RwSignal::new(None),
    };
    let load = RwSignal::new(Load::Loading);
    // The macro's team, once the remote has said which one.
    let team = RwSignal::new(None::<String>);

    let fetch = move || {
        load.set(Load::Loading);
        spawn_local(async move {
            let client = board.client.get_value();
            match client.call(&ListTasks { team: None }).await {
                Ok(list) => {
                    if let Scope::Team { team: name } = list.scope {
                        team.set(Some(name));
                    }
                    board.tasks.set(list.tasks);
                    board.progress.set(list.progress);
                    load.set(Load::Ready);
                }
                Err(e) => load.set(Load::Failed(describe(&e))),
            }
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
            let client = board.client.get_value();
            let new = NewTask {
                title: title.into_string(),
                team: None,
            };
            match client.call(&CreateTask(new)).await {
                Ok(change) => {
                    board.apply(change);
                    draft.set(String::new());
                }
                Err(e) => board.error.set(Some(describe(&e))),
            }
            busy.set(false);
        });
    };

    let progress = board.progress;
    let empty = Memo::new(move |_| board.tasks.with(Vec::is_empty));

    view! {
        <section class="tt-board" aria-label=label>
            {move || {
                team.get().map(|name| note("tt-subtle", None, Some("team-name"), "Team: ".to_owned() + &name))
            }}
            <div class="tt-progress">
                <div
                    class="tt-progress-track"
                    role="progressbar"
                    aria-label="Tasks done"
                    aria-valuemin="0"
                    aria-valuemax=move || progress.get().total
                    aria-valuenow=move || progress.get().done
                >
                    <div
                        class="tt-progress-fill"
                        style:width=move || {
                            let p = progress.get();
                            (p.done * 100).checked_div(p.total).unwrap_or(0).to_string() + "%"
                        }
                    ></div>
                </div>
                <span class="tt-subtle" data-testid="progress-text">
                    {move || {
                        let p = progress.get();
                        p.done.to_string() + " of " + &p.total.to_string() + " done"
                    }}
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
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=move |ev: ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            submit();
                        }
                    }
                />
                <button class="tt-button tt-primary" disabled=move || busy.get() on:click=move |_| submit()>
                    "Add"
                </button>
            </div>
            {move || invalid.get().map(|e| note("tt-error", Some("alert"), None, e))}
            {move || board.error.get().map(|e| note("tt-error", Some("alert"), Some("task-error"), e))}
            {move || board.notice.get().map(|n| note("tt-notice", Some("status"), Some("task-notice"), n))}
            {move || match load.get() {
                Load::Loading => {
                    EitherOf3::A(note("tt-subtle", Some("status"), None, "Loading tasks…".to_owned()))
                }
                Load::Failed(message) => {
                    EitherOf3::B(view! {
                        <div class="tt-error" role="alert" data-testid="load-error">
                            <p>"Could not load the tasks: " {message}</p>
                            <button class="tt-button" on:click=move |_| fetch()>"Try again"</button>
                        </div>
                    })
                }
                Load::Ready => {
                    EitherOf3::C(view! {
                        {move || {
                            empty.get().then(|| {
                                note(
                                    "tt-subtle tt-empty",
                                    None,
                                    Some("empty"),
                                    "No tasks yet. Add the first one above.".to_owned(),
                                )
                            })
                        }}
                        // Hidden rather than removed when empty, so the rows are never rebuilt.
                        // Keyed by id only: a toggled or renamed row updates in place, so
                        // keyboard focus stays where it was.
                        <ul class="tt-list" aria-label=label hidden=move || empty.get()>
                            <For
                                each=move || board.tasks.get()
                                key=|t| t.id.clone()
                                children=move |task| task_row(board, task.id)
                            />
                        </ul>
                    })
                }
            }}
        </section>
    }
}

fn task_row(board: Board, id: String) -> impl IntoView {
    // This row's task as it changes; rows are removed before their task disappears.
    let task = {
        let id = id.clone();
        Memo::new(move |_| {
            board
                .tasks
                .with(|ts| ts.iter().find(|t| t.id == id).cloned())
        })
    };
    let title = move || task.with(|t| t.as_ref().map(|t| t.title.clone()).unwrap_or_default());
    let done = move || task.with(|t| t.as_ref().is_some_and(|t| t.done));

    let editing = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let invalid = RwSignal::new(None::<String>);
    // Keyboard users land in the field they open, and back on the row's button after.
    let input: NodeRef<leptos::html::Input> = NodeRef::new();
    let rename_button: NodeRef<leptos::html::Button> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    let close_editor = move || {
        editing.set(false);
        if let Some(el) = rename_button.get_untracked() {
            let _ = el.focus();
        }
    };

    let checkbox_id = "task-".to_owned() + &id;
    let id = StoredValue::new(id);
    let save = move || match Title::parse(&draft.get_untracked()) {
        Ok(t) if t.as_str() == title() => close_editor(),
        Ok(t) => {
            close_editor();
            board.update(
                id.get_value(),
                TaskPatch {
                    title: Some(t.into_string()),
                    done: None,
                },
            );
        }
        Err(e) => invalid.set(Some(e.to_string())),
    };

    view! {
        <li class="tt-task" class:tt-done=done data-testid="task">
            <input
                type="checkbox"
                id=checkbox_id.clone()
                prop:checked=done
                on:change=move |_| {
                    board.update(id.get_value(), TaskPatch { title: None, done: Some(!done()) })
                }
            />
            {move || {
                if editing.get() {
                    Either::Left(view! {
                        <input
                            node_ref=input
                            class="tt-input tt-rename"
                            type="text"
                            maxlength="500"
                            aria-label=move || "New title for ".to_owned() + &title()
                            prop:value=move || draft.get()
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
                    })
                } else {
                    Either::Right(view! {
                        <label class="tt-task-title" for=checkbox_id.clone()>{title}</label>
                    })
                }
            }}
            <button
                node_ref=rename_button
                class="tt-icon-button"
                aria-label=move || "Rename ".to_owned() + &title()
                aria-expanded=move || if editing.get() { "true" } else { "false" }
                on:click=move |_| {
                    invalid.set(None);
                    if editing.get_untracked() {
                        close_editor();
                    } else {
                        draft.set(title());
                        editing.set(true);
                    }
                }
            >
                "✎"
            </button>
            <button
                class="tt-icon-button"
                aria-label=move || "Delete ".to_owned() + &title()
                on:click=move |_| board.delete(id.get_value())
            >
                "✕"
            </button>
            {move || invalid.get().map(|e| note("tt-error", Some("alert"), None, e))}
        </li>
    }
}
