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

/// A refused call (already recorded), answered the way Atlassian's REST API answers.
struct Refused(StatusCode, &'static str);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        atlassian_error(self.0, self.1)
    }
}

/// One authorised call being answered; every answer is recorded on its way out.
struct Call<'a> {
    state: &'a RestState,
    method: Method,
    uri: Uri,
    caller: Caller,
}

impl Call<'_> {
    /// Records the call with `status` (and the stored value, for writes), then answers.
    fn answer(&self, status: StatusCode, stored: Option<Value>, response: Response) -> Response {
        record(
            self.state,
            &self.method,
            &self.uri,
            Ok(&self.caller),
            status,
            stored,
        );
        response
    }

    fn error(&self, status: StatusCode, message: &str) -> Response {
        self.answer(status, None, atlassian_error(status, message))
    }

    fn ok(&self, body: Value) -> Response {
        self.answer(StatusCode::OK, None, Json(body).into_response())
    }

    /// The issue by id or key on the caller's site, or Jira's 404.
    fn issue(&self, key_or_id: &str) -> Result<&'static tenants::Issue, Refused> {
        self.caller.site.issue(key_or_id).ok_or_else(|| {
            let status = StatusCode::NOT_FOUND;
            record(
                self.state,
                &self.method,
                &self.uri,
                Ok(&self.caller),
                status,
                None,
            );
            Refused(
                status,
                "Issue does not exist or you do not have permission to see it.",
            )
        })
    }
}

/// Shared preamble: outage switch and authorisation; refusals are recorded here.
fn begin<'a>(
    state: &'a RestState,
    method: Method,
    uri: Uri,
    headers: &HeaderMap,
    cloud: &str,
) -> Result<Call<'a>, Refused> {
    if state.store.lock().expect("rest store").down {
        let status = StatusCode::SERVICE_UNAVAILABLE;
        record(state, &method, &uri, Err("none"), status, None);
        return Err(Refused(
            status,
            "Service unavailable (local host outage switch)",
        ));
    }
    match authorise(state, headers, cloud) {
        Ok(caller) => Ok(Call {
            state,
            method,
            uri,
            caller,
        }),
        Err((status, kind)) => {
            record(state, &method, &uri, Err(kind), status, None);
            Err(Refused(status, "Unauthorized; scope does not match"))
        }
    }
}

async fn get_issue(
    State(state): State<RestState>,
    Path((cloud, issue)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    let call = begin(&state, method, uri, &headers, &cloud)?;
    let found = call.issue(&issue)?;
    let category = match found.status {
        "Done" => "done",
        "To Do" => "new",
        _ => "indeterminate",
    };
    Ok(call.ok(json!({
        "id": found.id,
        "key": found.key,
        "fields": {
            "summary": found.summary,
            "status": { "name": found.status, "statusCategory": { "key": category } },
        }
    })))
}

async fn get_property(
    State(state): State<RestState>,
    Path((cloud, issue, key)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    let call = begin(&state, method, uri, &headers, &cloud)?;
    let found = call.issue(&issue)?;
    let value = state
        .store
        .lock()
        .expect("rest store")
        .properties
        .get(&(cloud, found.id.to_owned(), key.clone()))
        .cloned();
    Ok(match value {
        Some(value) => call.ok(json!({ "key": key, "value": value })),
        None => call.error(StatusCode::NOT_FOUND, "The property was not found."),
    })
}

async fn put_property(
    State(state): State<RestState>,
    Path((cloud, issue, key)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Refused> {
    let call = begin(&state, method, uri, &headers, &cloud)?;
    let found = call.issue(&issue)?;
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return Ok(call.error(
            StatusCode::BAD_REQUEST,
            "The property value must be valid JSON.",
        ));
    };
    let existed = state
        .store
        .lock()
        .expect("rest store")
        .properties
        .insert((cloud, found.id.to_owned(), key), value.clone())
        .is_some();
    // Jira answers 201 when it creates the property and 200 when it updates it.
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(call.answer(status, Some(value), status.into_response()))
}

async fn get_page(
    State(state): State<RestState>,
    Path((cloud, page)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    let call = begin(&state, method, uri, &headers, &cloud)?;
    Ok(match call.caller.site.page(&page) {
        Some(p) => call.ok(
            json!({ "id": p.id, "title": p.title, "spaceId": p.space_id, "status": "current" }),
        ),
        None => call.error(StatusCode::NOT_FOUND, "Page not found"),
    })
}
