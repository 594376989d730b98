//! The Leptos UI of the Forge resource.

use leptos::prelude::*;

/// Root component, mounted to `<body>` by the `frontend` crate.
///
/// The view is chosen from the Forge context, never from the URL: inside Forge the resource is
/// served from a nested CDN path that a router would not recognise.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <main class="tt-app" data-testid="app-root">
            <h1 class="tt-title">"Team Tasks"</h1>
            <p class="tt-subtle">"Loading…"</p>
        </main>
    }
}
