//! The app's server functions (`app::functions`), served by leptos_axum.
//!
//! Each function gets a route of its own, at its path and method, so it sits behind the FIT
//! layer like any handler, and a wrong method is axum's 405. A trailing slash is accepted
//! (`GET /tasks/?team=Forge`), as it was before the functions.

use std::collections::BTreeMap;

use app::ssr::Services;
use axum::{
    extract::{Request, State},
    http::{header, Uri},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::{on, MethodFilter, MethodRouter},
    Router,
};
use leptos::prelude::provide_context;

use crate::startup::AppState;

/// A route per registered server function (and its trailing-slash twin).
pub fn router() -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("server function {path} has an unroutable method {method}"));
        let route = by_path.remove(path).unwrap_or_default();
        by_path.insert(path, route.merge(on(filter, serve)));
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, route)| {
            router
                .route(path, route.clone())
                .route(&format!("{path}/"), route)
        })
}

/// Runs the function the path names, with the app's [`Services`] in its context.
async fn serve(State(state): State<AppState>, mut request: Request) -> Response {
    without_trailing_slash(request.uri_mut());
    // leptos_axum answers a request that accepts HTML and has a `Referer` with a redirect back
    // to it (for `<form>` posts). The bridge's calls are API calls: never redirect them.
    request.headers_mut().remove(header::REFERER);
    let services: Services = state.services;
    leptos_axum::handle_server_fns_with_context(move || provide_context(services.clone()), request)
        .await
        .into_response()
}

fn without_trailing_slash(uri: &mut Uri) {
    let path = uri.path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = match uri.query() {
            Some(q) => format!("{}?{q}", path.trim_end_matches('/')),
            None => path.trim_end_matches('/').to_owned(),
        };
        if let Ok(fixed) = trimmed.parse() {
            *uri = fixed;
        }
    }
}

/// Before any server function: the caller's installation must be active (`ssr::installations`).
pub async fn admit_installation(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let verified = (
        request.extensions().get::<forge_fit::Fit>(),
        request.extensions().get::<forge_fit::ForgeOAuth>(),
    );
    let (Some(forge_fit::Fit(claims)), Some(oauth)) = verified else {
        // The FIT layer runs first and always leaves both; without them nothing is admitted.
        return crate::error::ApiError::internal(anyhow::anyhow!(
            "no verified FIT in the request: the FIT layer must wrap the functions"
        ))
        .into_response();
    };
    if let Err(e) = app::ssr::installations::admit(&state.services, claims, oauth).await {
        return e.into_response();
    }
    next.run(request).await
}
