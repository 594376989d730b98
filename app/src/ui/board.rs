//! The task list shared by the issue panel and the macro: progress, list, add, toggle, inline
//! rename, delete, and the loading, empty and error states.
//!
//! Reads go through `requestRemote` (no Forge proxy hop); writes through `invokeRemote`, which
//! forwards the OAuth tokens the remote needs to update Jira. The list is updated from each
//! write's answer rather than refetched.

use leptos::{ev, prelude::*, task::spawn_local};

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
                Load::Loading => view! { <p class="tt-subtle" role="status">"Loading tasks…"</p> }.into_any(),
                Load::Failed(message) => {
                    view! {
                        <div class="tt-error" role="alert" data-testid="load-error">
                            <p>"Could not load the tasks: " {message}</p>
                            <button class="tt-button" on:click=move |_| fetch()>"Try again"</button>
                        </div>
                    }
                        .into_any()
                }
                Load::Ready => view! { <TaskList board=board label=list_label.clone() /> }.into_any(),
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
                <For
                    each=move || board.tasks.get()
                    // The key changes with the content, so an edited row re-renders.
                    key=|t| (t.id.clone(), t.title.clone(), t.done)
                    children=move |task| view! { <TaskRow board=board task=task /> }
                />
            </ul>
        </Show>
    }
}

#[component]
fn TaskRow(board: Board, task: Task) -> impl IntoView {
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(task.title.clone());
    // Keyboard users land in the field they opened, and back on the row's button after.
    let input: NodeRef<leptos::html::Input> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    let invalid = RwSignal::new(None::<String>);
    let id = task.id.clone();
    let title = task.title.clone();
    let done = task.done;

    let save = {
        let id = id.clone();
        let original = title.clone();
        move || match Title::parse(&draft.get_untracked()) {
            Ok(t) if t.as_str() == original => editing.set(false),
            Ok(t) => {
                editing.set(false);
                board.update(
                    id.clone(),
                    TaskPatch {
                        title: Some(t.into_string()),
                        done: None,
                    },
                );
            }
            Err(e) => invalid.set(Some(e.to_string())),
        }
    };
    let toggle = {
        let id = id.clone();
        move |_| {
            board.update(
                id.clone(),
                TaskPatch {
                    title: None,
                    done: Some(!done),
                },
            )
        }
    };
    let remove = {
        let id = id.clone();
        move |_| board.delete(id.clone())
    };
    let checkbox_id = format!("task-{id}");
    let rename_label = format!("Rename {title}");
    let delete_label = format!("Delete {title}");
    let edit_label = format!("New title for {title}");

    view! {
        <li class="tt-task" class:tt-done=done data-testid="task">
            <input type="checkbox" id=checkbox_id.clone() prop:checked=done on:change=toggle />
            <Show
                when=move || editing.get()
                fallback={
                    let title = title.clone();
                    let checkbox_id = checkbox_id.clone();
                    move || view! { <label class="tt-task-title" for=checkbox_id.clone()>{title.clone()}</label> }
                }
            >
                <input
                    node_ref=input
                    class="tt-input tt-rename"
                    type="text"
                    maxlength="500"
                    aria-label=edit_label.clone()
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown={
                        let save = save.clone();
                        move |ev: ev::KeyboardEvent| match ev.key().as_str() {
                            "Enter" => {
                                ev.prevent_default();
                                save();
                            }
                            "Escape" => editing.set(false),
                            _ => {}
                        }
                    }
                />
            </Show>
            <button
                class="tt-icon-button"
                aria-label=rename_label
                on:click=move |_| {
                    invalid.set(None);
                    editing.update(|e| *e = !*e);
                }
            >
                "✎"
            </button>
            <button class="tt-icon-button" aria-label=delete_label on:click=remove>"✕"</button>
            <Show when=move || invalid.get().is_some()>
                <p class="tt-error" role="alert">{move || invalid.get()}</p>
            </Show>
        </li>
    }
}
