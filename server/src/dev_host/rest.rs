//! A stand-in for the Atlassian REST API at the FIT's `apiBaseUrl`
//! (`https://api.atlassian.com/ex/{jira|confluence}/<cloudId>` on Cloud).
//!
//! It accepts only OAuth tokens this host forwarded, for the site they were issued for, and
//! records every call so tests can assert which token the remote used for what.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde::Serialize;
use serde_json::{json, Value};

use super::{signing::Signer, tenants};

#[derive(Clone)]
pub struct RestState {
    pub signer: Arc<Signer>,
    pub store: Arc<Mutex<RestStore>>,
}

#[derive(Default)]
pub struct RestStore {
    /// `(cloudId, issueId, propertyKey)` → value.
    properties: HashMap<(String, String, String), Value>,
    calls: Vec<RecordedCall>,
    /// When set, every call answers 503 (to exercise the app's degraded mode).
    pub down: bool,
}

/// One call to the stand-in, as tests see it. The token itself is never recorded.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedCall {
    pub method: String,
    pub path: String,
    /// `system`, `user` or `none`.
    pub token: &'static str,
    pub account_id: Option<String>,
    pub status: u16,
    pub body: Option<Value>,
}

pub fn router(state: RestState) -> Router {
    Router::new()
        .route("/ex/jira/{cloud}/rest/api/3/issue/{issue}", get(get_issue))
        .route(
            "/ex/jira/{cloud}/rest/api/3/issue/{issue}/properties/{key}",
            get(get_property).put(put_property),
        )
        .route(
            "/ex/confluence/{cloud}/wiki/api/v2/pages/{page}",
            get(get_page),
        )
        .with_state(state)
}

impl RestStore {
    pub fn calls(&self) -> &[RecordedCall] {
        &self.calls
    }
    pub fn clear(&mut self) {
        self.calls.clear();
    }
}

struct Caller {
    token: &'static str,
    account_id: Option<String>,
    site: &'static tenants::Installation,
}

/// Checks the bearer token and that it belongs to the site in the URL.
fn authorise(
    state: &RestState,
    headers: &HeaderMap,
    cloud: &str,
) -> Result<Caller, (StatusCode, &'static str)> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or((StatusCode::UNAUTHORIZED, "none"))?;
    let grant = state
        .signer
        .grant(token)
        .ok_or((StatusCode::UNAUTHORIZED, "none"))?;
    let kind = if grant.account_id.is_some() {
        "user"
    } else {
        "system"
    };
    let site = tenants::INSTALLATIONS
        .iter()
        .find(|i| i.installation_id == grant.installation_id && i.cloud_id == cloud)
        .ok_or((StatusCode::UNAUTHORIZED, kind))?;
    Ok(Caller {
        token: kind,
        account_id: grant.account_id,
        site,
    })
}

fn record(
    state: &RestState,
    method: &Method,
    uri: &Uri,
    caller: Result<&Caller, &'static str>,
    status: StatusCode,
    body: Option<Value>,
) {
    let (token, account_id) = match caller {
        Ok(c) => (c.token, c.account_id.clone()),
        Err(kind) => (kind, None),
    };
    state
        .store
        .lock()
        .expect("rest store")
        .calls
        .push(RecordedCall {
            method: method.to_string(),
            path: uri.path().to_owned(),
            token,
            account_id,
            status: status.as_u16(),
            body,
        });
}

fn atlassian_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "errorMessages": [message], "errors": {} })),
    )
        .into_response()
}

/// A refused call, answered the way Atlassian's REST API answers.
struct Refused(StatusCode, &'static str);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        atlassian_error(self.0, self.1)
    }
}

/// Shared preamble: outage switch, authorisation, recording of failures.
fn begin(
    state: &RestState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    cloud: &str,
) -> Result<Caller, Refused> {
    if state.store.lock().expect("rest store").down {
        record(
            state,
            method,
            uri,
            Err("none"),
            StatusCode::SERVICE_UNAVAILABLE,
            None,
        );
        return Err(Refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable (local host outage switch)",
        ));
    }
    authorise(state, headers, cloud).map_err(|(status, kind)| {
        record(state, method, uri, Err(kind), status, None);
        Refused(status, "Unauthorized; scope does not match")
    })
}

async fn get_issue(
    State(state): State<RestState>,
    Path((cloud, issue)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let caller = match begin(&state, &method, &uri, &headers, &cloud) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let Some(found) = caller.site.issue(&issue) else {
        record(
            &state,
            &method,
            &uri,
            Ok(&caller),
            StatusCode::NOT_FOUND,
            None,
        );
        return atlassian_error(
            StatusCode::NOT_FOUND,
            "Issue does not exist or you do not have permission to see it.",
        );
    };
    record(&state, &method, &uri, Ok(&caller), StatusCode::OK, None);
    let category = if found.status == "Done" {
        "done"
    } else if found.status == "To Do" {
        "new"
    } else {
        "indeterminate"
    };
    Json(json!({
        "id": found.id,
        "key": found.key,
        "fields": {
            "summary": found.summary,
            "status": { "name": found.status, "statusCategory": { "key": category } },
        }
    }))
    .into_response()
}

async fn get_property(
    State(state): State<RestState>,
    Path((cloud, issue, key)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let caller = match begin(&state, &method, &uri, &headers, &cloud) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let Some(found) = caller.site.issue(&issue) else {
        record(
            &state,
            &method,
            &uri,
            Ok(&caller),
            StatusCode::NOT_FOUND,
            None,
        );
        return atlassian_error(
            StatusCode::NOT_FOUND,
            "Issue does not exist or you do not have permission to see it.",
        );
    };
    let value = state
        .store
        .lock()
        .expect("rest store")
        .properties
        .get(&(cloud.clone(), found.id.to_owned(), key.clone()))
        .cloned();
    match value {
        Some(value) => {
            record(&state, &method, &uri, Ok(&caller), StatusCode::OK, None);
            Json(json!({ "key": key, "value": value })).into_response()
        }
        None => {
            record(
                &state,
                &method,
                &uri,
                Ok(&caller),
                StatusCode::NOT_FOUND,
                None,
            );
            atlassian_error(StatusCode::NOT_FOUND, "The property was not found.")
        }
    }
}

async fn put_property(
    State(state): State<RestState>,
    Path((cloud, issue, key)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let caller = match begin(&state, &method, &uri, &headers, &cloud) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let Some(found) = caller.site.issue(&issue) else {
        record(
            &state,
            &method,
            &uri,
            Ok(&caller),
            StatusCode::NOT_FOUND,
            None,
        );
        return atlassian_error(
            StatusCode::NOT_FOUND,
            "Issue does not exist or you do not have permission to see it.",
        );
    };
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        record(
            &state,
            &method,
            &uri,
            Ok(&caller),
            StatusCode::BAD_REQUEST,
            None,
        );
        return atlassian_error(
            StatusCode::BAD_REQUEST,
            "The property value must be valid JSON.",
        );
    };
    let existed = {
        let mut store = state.store.lock().expect("rest store");
        store
            .properties
            .insert((cloud, found.id.to_owned(), key), value.clone())
            .is_some()
    };
    // Jira answers 201 when it creates the property and 200 when it updates it.
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    record(&state, &method, &uri, Ok(&caller), status, Some(value));
    status.into_response()
}

async fn get_page(
    State(state): State<RestState>,
    Path((cloud, page)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let caller = match begin(&state, &method, &uri, &headers, &cloud) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match caller.site.page(&page) {
        Some(p) => {
            record(&state, &method, &uri, Ok(&caller), StatusCode::OK, None);
            Json(
                json!({ "id": p.id, "title": p.title, "spaceId": p.space_id, "status": "current" }),
            )
            .into_response()
        }
        None => {
            record(
                &state,
                &method,
                &uri,
                Ok(&caller),
                StatusCode::NOT_FOUND,
                None,
            );
            atlassian_error(StatusCode::NOT_FOUND, "Page not found")
        }
    }
}
