//! The task list shared by the issue panel and the macro: progress, list, add, toggle, inline
//! rename, delete, and the loading, empty and error states.
//!
//! Reads go through `requestRemote` (no Forge proxy hop); writes through `invokeRemote`, which
//! forwards the OAuth tokens the remote needs to update Jira. The list is updated from each
//! write's answer rather than refetched.

use leptos::{either::EitherOf3, ev, prelude::*, task::spawn_local};

use super::{describe, Client};
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
pub fn TaskBoard(label: String) -> impl IntoView {
    let board = Board {
        client: StoredValue::new(expect_context::<Client>()),
        tasks: RwSignal::new(Vec::new()),
        progress: RwSignal::new(Progress::default()),
        error: RwSignal::new(None),
        notice: RwSignal::new(None),
    };
    let load = RwSignal::new(Load::Loading);
    let scope_name = RwSignal::new(String::new());

    let fetch = move || {
        load.set(Load::Loading);
        spawn_local(async move {
            let client = board.client.get_value();
            match client.call(&ListTasks { team: None }).await {
                Ok(list) => {
                    if let Scope::Team { team } = list.scope {
                        scope_name.set(team);
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

    let list_label = label.clone();
    view! {
        <section class="tt-board" aria-label=label>
            <Show when=move || !scope_name.get().is_empty()>
                <p class="tt-subtle" data-testid="team-name">"Team: " {move || scope_name.get()}</p>
            </Show>
            <ProgressBar progress=board.progress />
            <AddTask board=board />
            <Show when=move || board.error.get().is_some()>
                <p class="tt-error" role="alert" data-testid="task-error">
                    {move || board.error.get()}
                </p>
            </Show>
            <Show when=move || board.notice.get().is_some()>
                <p class="tt-notice" role="status" data-testid="task-notice">
                    {move || board.notice.get()}
                </p>
            </Show>
            {move || match load.get() {
                Load::Loading => EitherOf3::A(view! { <p class="tt-subtle" role="status">"Loading tasks…"</p> }),
                Load::Failed(message) => {
                    EitherOf3::B(view! {
                        <div class="tt-error" role="alert" data-testid="load-error">
                            <p>"Could not load the tasks: " {message}</p>
                            <button class="tt-button" on:click=move |_| fetch()>"Try again"</button>
                        </div>
                    })
                }
                Load::Ready => EitherOf3::C(view! { <TaskList board=board label=list_label.clone() /> }),
            }}
        </section>
    }
}

#[component]
fn ProgressBar(progress: RwSignal<Progress>) -> impl IntoView {
    let percent = move || {
        let p = progress.get();
        (p.done * 100).checked_div(p.total).unwrap_or(0)
    };
    view! {
        <div class="tt-progress">
            <div
                class="tt-progress-track"
                role="progressbar"
                aria-label="Tasks done"
                aria-valuemin="0"
                aria-valuemax=move || progress.get().total
                aria-valuenow=move || progress.get().done
            >
                <div class="tt-progress-fill" style:width=move || format!("{}%", percent())></div>
            </div>
            <span class="tt-subtle" data-testid="progress-text">
                {move || progress.get().done} " of " {move || progress.get().total} " done"
            </span>
        </div>
    }
}

#[component]
fn AddTask(board: Board) -> impl IntoView {
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
    view! {
        <div class="tt-add">
            <input
                class="tt-input"
                type="text"
                placeholder="Add a task and press Enter"
                aria-label="New task"
                maxlength="500"
                aria-invalid=move || invalid.get().is_some().to_string()
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
        <Show when=move || invalid.get().is_some()>
            <p class="tt-error" role="alert">{move || invalid.get()}</p>
        </Show>
    }
}

#[component]
fn TaskList(board: Board, label: String) -> impl IntoView {
    view! {
        <Show
            when=move || !board.tasks.with(Vec::is_empty)
            fallback=|| view! { <p class="tt-subtle tt-empty" data-testid="empty">"No tasks yet. Add the first one above."</p> }
        >
            <ul class="tt-list" aria-label=label.clone()>
                // Keyed by id only: a toggled or renamed row updates in place, so keyboard focus
                // stays where it was.
                <For
                    each=move || board.tasks.get()
                    key=|t| t.id.clone()
                    children=move |task| view! { <TaskRow board=board id=task.id /> }
                />
            </ul>
        </Show>
    }
}

#[component]
fn TaskRow(board: Board, id: String) -> impl IntoView {
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
    let checkbox_id = move || format!("task-{}", id.get_value());

    view! {
        <li class="tt-task" class:tt-done=done data-testid="task">
            <input
                type="checkbox"
                id=checkbox_id
                prop:checked=done
                on:change=move |_| {
                    board.update(id.get_value(), TaskPatch { title: None, done: Some(!done()) })
                }
            />
            <Show
                when=move || editing.get()
                fallback=move || view! { <label class="tt-task-title" for=checkbox_id>{title}</label> }
            >
                <input
                    node_ref=input
                    class="tt-input tt-rename"
                    type="text"
                    maxlength="500"
                    aria-label=move || format!("New title for {}", title())
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
            </Show>
            <button
                node_ref=rename_button
                class="tt-icon-button"
                aria-label=move || format!("Rename {}", title())
                aria-expanded=move || editing.get().to_string()
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
                aria-label=move || format!("Delete {}", title())
                on:click=move |_| board.delete(id.get_value())
            >
                "✕"
            </button>
            <Show when=move || invalid.get().is_some()>
                <p class="tt-error" role="alert">{move || invalid.get()}</p>
            </Show>
        </li>
    }
}
