//! The host page's own back end: what Forge's infrastructure does for the product page.
//!
//! `host.js` calls these on behalf of the iframe; the placement (site, user, module, issue or
//! page) comes from the host page's URL, never from the iframe.

use std::sync::Arc;

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    context::Placement,
    lifecycle,
    proxy::{self, Forwarding, RemoteCall},
    signing::random_hex,
    tenants, HostState, MacroInstance,
};

pub fn router(state: Arc<HostState>) -> Router {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/__devhost/api/context", post(context))
        .route("/__devhost/api/invoke", post(invoke))
        .route("/__devhost/api/fit", post(fit))
        .route("/__devhost/api/macros/insert", post(insert_macro))
        .route("/__devhost/api/macros/submit", post(submit_macro_config))
        .route(
            "/__devhost/api/rest-calls",
            get(rest_calls).delete(clear_rest_calls),
        )
        .route("/__devhost/api/rest-outage", post(rest_outage))
        .route("/__devhost/api/lifecycle", post(lifecycle))
        .with_state(state)
}

async fn jwks(State(state): State<Arc<HostState>>) -> Json<Value> {
    Json(state.signer.jwks().clone())
}

fn bad_placement(e: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": e.to_string() })),
    )
        .into_response()
}

/// `getContext`.
async fn context(
    State(state): State<Arc<HostState>>,
    Json(placement): Json<Placement>,
) -> Response {
    match placement.resolve(&state.modules, &state.host_origin) {
        Ok(r) => {
            lifecycle::ensure_installed(&state, r.installation).await;
            Json(r.full_context(&state.app, &state.host_origin)).into_response()
        }
        Err(e) => bad_placement(e),
    }
}

#[derive(Deserialize)]
struct InvokeRequest {
    placement: Placement,
    call: RemoteCall,
}

/// `invoke` with `ui-remote-fetch`: `{ok: true, value}` resolves the bridge call,
/// `{ok: false, error}` rejects it with that message.
async fn invoke(State(state): State<Arc<HostState>>, Json(req): Json<InvokeRequest>) -> Response {
    let resolved = match req.placement.resolve(&state.modules, &state.host_origin) {
        Ok(r) => r,
        Err(e) => return bad_placement(e),
    };
    lifecycle::ensure_installed(&state, resolved.installation).await;
    let Some(endpoint) = resolved.module.endpoint.clone() else {
        return Json(json!({ "ok": false, "error": proxy::rejection::UNEXPECTED })).into_response();
    };
    let claims = resolved.fit_claims(&state.app, &state.host_origin);
    let fit = match state.signer.sign(&claims) {
        Ok(t) => t,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let auth = endpoint.auth.clone().unwrap_or_default();
    let installation_id = resolved.installation.installation_id;
    let fwd = Forwarding {
        base_url: &state.config.remote_url,
        fit: &fit,
        system_token: auth
            .system_token()
            .then(|| state.signer.issue_oauth_token(installation_id, None)),
        // Forge sends a user token only with a user present and a user scope granted.
        user_token: (auth.user_token() && has_user_scope(&state.manifest.permissions.scopes)).then(
            || {
                state
                    .signer
                    .issue_oauth_token(installation_id, Some(resolved.user.account_id))
            },
        ),
    };
    match proxy::invoke(&state.http, &req.call, fwd).await {
        Ok(value) => Json(json!({ "ok": true, "value": value })).into_response(),
        Err(message) => Json(json!({ "ok": false, "error": message })).into_response(),
    }
}

fn has_user_scope(scopes: &[String]) -> bool {
    scopes
        .iter()
        .any(|s| s.starts_with("read:") && !s.starts_with("read:app-"))
}

/// A FIT for `requestRemote`: the host page sends the request itself, with no OAuth tokens.
async fn fit(State(state): State<Arc<HostState>>, Json(placement): Json<Placement>) -> Response {
    let resolved = match placement.resolve(&state.modules, &state.host_origin) {
        Ok(r) => r,
        Err(e) => return bad_placement(e),
    };
    lifecycle::ensure_installed(&state, resolved.installation).await;
    let claims = resolved.fit_claims(&state.app, &state.host_origin);
    match state.signer.sign(&claims) {
        Ok(token) => Json(json!({
            "token": token,
            "expiresAt": claims["exp"],
            "remotes": remotes(&state),
        }))
        .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Every remote key maps to the local remote URL, as `remote_url` overrides `baseUrl`.
fn remotes(state: &HostState) -> Value {
    let map = state
        .manifest
        .remotes
        .iter()
        .map(|r| {
            (
                r.key.clone(),
                Value::String(state.config.remote_url.clone()),
            )
        })
        .collect();
    Value::Object(map)
}

#[derive(Deserialize)]
struct PageRef {
    site: String,
    page: String,
}

/// The page editor's "insert macro": puts a new macro instance, with no config yet, on a page
/// that has none. Answers the instance (`localId`, `config`).
async fn insert_macro(State(state): State<Arc<HostState>>, Json(req): Json<PageRef>) -> Response {
    let Some(page) = tenants::installation(&req.site).and_then(|i| i.page(&req.page)) else {
        return bad_placement("no such page");
    };
    let mut macros = state.macros.lock().expect("macros");
    let key = (req.site, page.id.to_owned());
    if macros.contains_key(&key) || page.with_macro {
        return (
            StatusCode::CONFLICT,
            Json(json!({ "error": "this page already has the macro" })),
        )
            .into_response();
    }
    let instance = MacroInstance {
        local_id: uuid_like(),
        config: json!({}),
    };
    macros.insert(key, instance.clone());
    Json(json!({ "localId": instance.local_id, "config": instance.config })).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Submit {
    site: String,
    page: String,
    local_id: String,
    payload: Value,
}

/// `view.submit(payload)` from the macro's config view: Confluence saves `payload.config` as
/// that macro instance's config. `{ok: false, error}` rejects the bridge call with that message.
async fn submit_macro_config(
    State(state): State<Arc<HostState>>,
    Json(req): Json<Submit>,
) -> Response {
    let Some(config) = req.payload.get("config").filter(|c| c.is_object()) else {
        return Json(json!({
            "ok": false,
            "error": "A macro config view submits {config: {...}}, an object of the macro's parameters.",
        }))
        .into_response();
    };
    let mut macros = state.macros.lock().expect("macros");
    match macros.get_mut(&(req.site, req.page)) {
        Some(instance) if instance.local_id == req.local_id => {
            instance.config = config.clone();
            Json(json!({ "ok": true, "config": config })).into_response()
        }
        _ => Json(json!({ "ok": false, "error": "The macro is no longer on this page." }))
            .into_response(),
    }
}

/// A random id in a uuid's shape, like the `localId` Confluence gives an inserted macro.
fn uuid_like() -> String {
    let h = random_hex(16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

async fn rest_calls(State(state): State<Arc<HostState>>) -> Json<Value> {
    let store = state.rest.store.lock().expect("rest store");
    Json(json!(store.calls()))
}

async fn clear_rest_calls(State(state): State<Arc<HostState>>) -> StatusCode {
    state.rest.store.lock().expect("rest store").clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Outage {
    down: bool,
}

async fn rest_outage(State(state): State<Arc<HostState>>, Json(req): Json<Outage>) -> StatusCode {
    state.rest.store.lock().expect("rest store").down = req.down;
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct LifecycleRequest {
    site: String,
    action: lifecycle::Action,
}

/// An administrator's (or Forge's scheduler's) action on a site, delivered to the remote now:
/// `{site, action: install|upgrade|uninstall|scheduled}`. Answers how the delivery went.
async fn lifecycle(
    State(state): State<Arc<HostState>>,
    Json(req): Json<LifecycleRequest>,
) -> Response {
    let Some(site) = tenants::installation(&req.site) else {
        return bad_placement(format!("unknown site `{}`", req.site));
    };
    Json(lifecycle::run(&state, site, req.action).await).into_response()
}
