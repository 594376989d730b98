//! Test-only wasm exports: each runs one call through the Rust Forge bridge shim
//! (`app::bridge`) and resolves with JSON text, `{"ok": …}` or `{"error": {"kind", "message"}}`.
//!
//! `end2end/tests/bridge-conformance.spec.ts` makes the same calls through the real
//! `@forge/bridge` against the same recording `__bridge` and compares the two. Build with
//! `end2end/bridge/build-harness.sh`. Inputs use `@forge/bridge`'s own argument shapes.

use app::{
    api::ErrorBody,
    bridge::{
        Bridge, BridgeError, FlagId, FlagOptions, FlagType, Headers, InvokeRequest, Json, Location,
        Method, NavigationLocation, RemoteRequest,
    },
    functions,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wasm_bindgen::prelude::wasm_bindgen;

fn ok<T: Serialize>(v: T) -> String {
    json!({ "ok": v }).to_string()
}

fn err(kind: &str, message: String) -> String {
    json!({ "error": { "kind": kind, "message": message } }).to_string()
}

fn bridge_err(e: BridgeError) -> String {
    err(e.kind(), e.to_string())
}

fn outcome<T: Serialize>(r: Result<T, BridgeError>) -> String {
    r.map_or_else(bridge_err, ok)
}

fn method(m: &str) -> Result<Method, BridgeError> {
    Ok(match m {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        "OPTIONS" => Method::Options,
        _ => {
            return Err(BridgeError::InvalidRequest(format!(
                "harness: unknown method {m}"
            )))
        }
    })
}

fn input<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, BridgeError> {
    serde_json::from_str(json)
        .map_err(|e| BridgeError::InvalidRequest(format!("harness input: {e}")))
}

/// `invokeRemote({path, method, headers?, body?})`, body decoded as any JSON.
#[wasm_bindgen]
pub async fn invoke_remote(input_json: String) -> String {
    #[derive(Deserialize)]
    struct In {
        path: String,
        method: String,
        headers: Option<Headers>,
        body: Option<Value>,
    }
    let run = async {
        let i: In = input(&input_json)?;
        let headers = i.headers.map(Headers::into_vec);
        let req = InvokeRequest {
            path: &i.path,
            method: method(&i.method)?,
            headers: headers.as_deref(),
            body: i.body.as_ref(),
        };
        Bridge::global().invoke_remote::<Value, Value>(&req).await
    };
    outcome(run.await)
}

/// `requestRemote(remoteKey, {path, method, headers?, body?})`; headers as an object or as
/// `[name, value]` pairs.
#[wasm_bindgen]
pub async fn request_remote(remote_key: String, input_json: String) -> String {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum HeaderInit {
        Pairs(Vec<(String, String)>),
        Object(Headers),
    }
    #[derive(Deserialize)]
    struct In {
        path: String,
        method: String,
        headers: Option<HeaderInit>,
        body: Option<String>,
    }
    let run = async {
        let i: In = input(&input_json)?;
        let mut req = RemoteRequest::new(method(&i.method)?, i.path);
        req.headers = match i.headers {
            Some(HeaderInit::Pairs(p)) => p,
            Some(HeaderInit::Object(h)) => h.into_vec(),
            None => Vec::new(),
        };
        req.body = i.body;
        Bridge::global().request_remote(&remote_key, &req).await
    };
    outcome(run.await)
}

/// `view.getContext()`.
#[wasm_bindgen]
pub async fn get_context() -> String {
    outcome(Bridge::global().get_context().await)
}

/// `view.theme.enable()`.
#[wasm_bindgen]
pub async fn enable_theming() -> String {
    outcome(Bridge::global().enable_theming().await)
}

/// `showFlag(options)`, then `flag.close()`.
#[wasm_bindgen]
pub async fn show_and_close_flag(options_json: String) -> String {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(i64),
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct In {
        id: Id,
        title: Option<String>,
        description: Option<String>,
        #[serde(rename = "type")]
        kind: Option<String>,
        appearance: Option<String>,
        is_auto_dismiss: Option<bool>,
    }
    fn flag_type(t: &str) -> FlagType {
        match t {
            "success" => FlagType::Success,
            "warning" => FlagType::Warning,
            "error" => FlagType::Error,
            _ => FlagType::Info,
        }
    }
    let run = async {
        let i: In = input(&options_json)?;
        let options = FlagOptions {
            id: match i.id {
                Id::Text(s) => FlagId::Text(s),
                Id::Number(n) => FlagId::Number(n),
            },
            title: i.title,
            description: i.description,
            kind: i.kind.as_deref().map_or(FlagType::Info, flag_type),
            appearance: i.appearance.as_deref().map(flag_type),
            is_auto_dismiss: i.is_auto_dismiss,
        };
        let bridge = Bridge::global();
        let flag = bridge.show_flag(&options).await?;
        flag.close().await
    };
    outcome(run.await)
}

fn location(json: &str) -> Result<Location, BridgeError> {
    let v: Value = input(json)?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let req =
        |k: &str| s(k).ok_or_else(|| BridgeError::InvalidRequest(format!("harness: {k} missing")));
    if let Some(url) = v.as_str() {
        return Ok(Location::Url(url.to_owned()));
    }
    Ok(Location::Target(match s("target").as_deref() {
        Some("issue") => NavigationLocation::Issue {
            issue_key: req("issueKey")?,
        },
        Some("contentView") => NavigationLocation::ContentView {
            content_id: req("contentId")?,
            version: s("version"),
        },
        Some("module") => NavigationLocation::Module {
            module_key: req("moduleKey")?,
            space_key: s("spaceKey"),
            project_key: s("projectKey"),
            path: s("path"),
        },
        Some("projectSettingsDetails") => NavigationLocation::ProjectSettingsDetails {
            project_key: req("projectKey")?,
        },
        t => {
            return Err(BridgeError::InvalidRequest(format!(
                "harness: target {t:?} not mapped"
            )))
        }
    }))
}

/// `router.navigate(location)`; a JSON string is a URL.
#[wasm_bindgen]
pub async fn navigate(location_json: String) -> String {
    let run = async { Bridge::global().navigate(location(&location_json)?).await };
    outcome(run.await)
}

/// `router.open(location)`.
#[wasm_bindgen]
pub async fn open(location_json: String) -> String {
    let run = async { Bridge::global().open(location(&location_json)?).await };
    outcome(run.await)
}

/// `router.reload()`.
#[wasm_bindgen]
pub async fn reload() -> String {
    outcome(Bridge::global().reload().await)
}

/// A server function's outcome: its answer, or the remote's error body.
fn api_outcome<T: Serialize>(r: Result<T, ErrorBody>) -> String {
    match r {
        Ok(v) => ok(v),
        Err(error) => json!({ "error": { "kind": "remote", "body": error } }).to_string(),
    }
}

// The server functions (app::functions), each sent by the client its attribute names. The
// remote key is the manifest's (`functions::REMOTE_KEY`); the argument is the JS side's.

/// `whoami()`: `GET /whoami` by requestRemote.
#[wasm_bindgen]
pub async fn client_whoami(_remote_key: String) -> String {
    api_outcome(functions::whoami().await)
}

/// `list_tasks(team)`: `GET /tasks[?team=]` by requestRemote.
#[wasm_bindgen]
pub async fn client_list_tasks(_remote_key: String, team: Option<String>) -> String {
    api_outcome(functions::list_tasks(team).await)
}

/// `create_task(title, None)`: `POST /tasks` by invokeRemote.
#[wasm_bindgen]
pub async fn client_create_task(_remote_key: String, title: String) -> String {
    api_outcome(functions::create_task(title, None).await)
}

/// `delete_task(id, None)`: `DELETE /task?id=` by invokeRemote.
#[wasm_bindgen]
pub async fn client_delete_task(_remote_key: String, id: String) -> String {
    api_outcome(functions::delete_task(id, None).await)
}

/// `view.submit(payload)`, any JSON payload.
#[wasm_bindgen]
pub async fn submit(payload_json: String) -> String {
    let run = async {
        // As parsed, members in their order, as `JSON.stringify` would send them.
        let payload =
            Json::parse(&payload_json).map_err(|e| BridgeError::InvalidRequest(e.to_string()))?;
        Bridge::global().submit(&payload).await
    };
    outcome(run.await)
}

/// `view.submit({config})` through the typed helper, given the config.
#[wasm_bindgen]
pub async fn submit_config(config_json: String) -> String {
    let run = async {
        // As parsed, members in their order, as `JSON.stringify` would send them.
        let config =
            Json::parse(&config_json).map_err(|e| BridgeError::InvalidRequest(e.to_string()))?;
        Bridge::global().submit_config(&config).await
    };
    outcome(run.await)
}

/// `view.open()`.
#[wasm_bindgen]
pub async fn view_open() -> String {
    outcome(Bridge::global().open_view().await)
}
