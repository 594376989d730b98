//! The API contract between the panel and this remote, checked against the real application.
//!
//! `app::functions` defines each call once, as a `#[server]` function: its arguments, answer,
//! error, method, path and client. The panel sends it and the remote serves it from that one
//! definition, so the compiler keeps the two in step. What the compiler cannot see is checked
//! here, against the real remote on a random port:
//!
//! - every registered server function is routed behind the FIT layer (401 without a token);
//! - a request encoded as the panel encodes it (the function's own input encoding) gets an
//!   answer that the panel's codec (`app::json`) decodes into the function's output, or, on
//!   4xx/5xx, into `ErrorBody`;
//! - functions the panel sends with `requestRemote` pass the CORS preflight of a product page.

use std::sync::LazyLock;

use app::{
    api::ErrorBody,
    bridge::server_fn::{BridgeCall, PatchJson, PostJson},
    functions::{CreateTask, DeleteTask, GetIssueHeader, ListTasks, UpdateTask, Whoami, HEALTHZ},
};
use axum::{routing::get, Json, Router};
use forge_fit::mint::{self, SigningKey};
use leptos::server_fn::{
    codec::{DeleteUrl, GetUrl, IntoReq},
    ServerFn,
};
use serde::de::DeserializeOwned;
use server::{configuration::Settings, startup::Application};
use tokio::net::TcpListener;

const APP_ID: &str = "ari:cloud:ecosystem::app/0b6c3d2e-4f5a-4b7c-8d9e-0f1a2b3c4d5e";
/// A product page origin the default CORS settings grant (`https://*.atlassian.net`).
const PRODUCT_ORIGIN: &str = "https://acme.atlassian.net";

static KEY: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::generate("forge/invocation-token/wf-contract"));

/// The functions the panel sends with `requestRemote` (straight from the product page).
const REQUEST_REMOTE: &[&str] = &[Whoami::PATH, ListTasks::PATH];

struct Remote {
    base: String,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

/// The application on port 0, trusting a local JWKS that publishes [`KEY`].
async fn spawn_remote() -> Remote {
    let jwks = SigningKey::jwks([&*KEY]);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("Failed to bind the JWKS stub");
    let jwks_url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    let stub = Router::new().route(
        "/.well-known/jwks.json",
        get(move || {
            let jwks = jwks.clone();
            async move { Json(jwks) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, stub).await.unwrap() });

    let data = tempfile::tempdir().expect("Failed to create a temp dir");
    let database_url = format!("sqlite://{}/contract.db", data.path().display());
    let settings = Settings::from_lookup(|name| match name {
        "FORGE_APP_ID" => Some(APP_ID.into()),
        "FORGE_JWKS_URL" => Some(jwks_url.clone()),
        "LEPTOS_SITE_ADDR" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(database_url.clone()),
        "TOKEN_ENCRYPTION_KEY" => Some("dGVhbS10YXNrcy10ZXN0LXRva2VuLWtleS0zMmJ5dGU=".into()),
        _ => None,
    })
    .expect("Failed to read test settings");
    let application = Application::build(settings)
        .await
        .expect("Failed to build the app");
    let base = format!("http://{}", application.local_addr());
    tokio::spawn(application.run_until_stopped());
    Remote {
        base,
        http: reqwest::Client::new(),
        _data: data,
    }
}

impl Remote {
    /// Sends `args` as the panel's client does (the function's input encoding, method and
    /// path), with a fresh valid FIT, and reads the answer with the panel's codec.
    async fn call<F, Enc>(&self, args: F) -> Result<F::Output, ErrorBody>
    where
        F: ServerFn<Error = ErrorBody> + IntoReq<Enc, BridgeCall, ErrorBody>,
        F::Output: DeserializeOwned,
    {
        let token = KEY.sign(&mint::issue_panel_claims(APP_ID, mint::now()));
        self.send::<F, Enc>(args, Some(&token)).await
    }

    async fn send<F, Enc>(&self, args: F, token: Option<&str>) -> Result<F::Output, ErrorBody>
    where
        F: ServerFn<Error = ErrorBody> + IntoReq<Enc, BridgeCall, ErrorBody>,
        F::Output: DeserializeOwned,
    {
        let call = args.into_req(F::PATH, "application/json")?;
        let method = reqwest::Method::from_bytes(call.method.as_str().as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{}", self.base, call.path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some((body, content_type)) = call.body {
            request = request.header("content-type", content_type).body(body);
        }
        let response = request.send().await.expect("Failed to send the request");
        let status = response.status().as_u16();
        let body = response.text().await.expect("Failed to read the body");
        let body = if body.is_empty() { "null" } else { &body };
        if (400..=599).contains(&status) {
            Err(app::json::from_str::<ErrorBody>(body)
                .unwrap_or_else(|e| panic!("a {status} that is not an ErrorBody ({e}): {body}")))
        } else {
            assert!((200..300).contains(&status), "{status}: {body}");
            Ok(app::json::from_str::<F::Output>(body)
                .unwrap_or_else(|e| panic!("a {status} the panel cannot read ({e}): {body}")))
        }
    }
}

#[tokio::test]
async fn every_operation_is_routed_with_its_method_and_path() {
    let remote = spawn_remote().await;

    // The probe tells routes apart: an unknown path is 404, a known path with another method
    // 405, and the FIT layer (a route layer) only answers 401 for routes that exist.
    let unknown = remote
        .http
        .get(format!("{}/contract-no-such-route", remote.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404, "unknown paths must be 404");
    let wrong_method = remote
        .http
        .delete(format!("{}{HEALTHZ}", remote.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        wrong_method.status().as_u16(),
        405,
        "wrong methods must be 405"
    );

    let functions: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
    assert_eq!(
        functions.len(),
        6,
        "registered server functions: {functions:?}"
    );
    for (path, method) in functions {
        let response = remote
            .http
            .request(method.clone(), format!("{}{path}", remote.base))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            401,
            "{method} {path} is not behind the FIT layer"
        );
    }
}

#[tokio::test]
async fn request_remote_operations_pass_the_product_pages_cors_preflight() {
    let remote = spawn_remote().await;
    for (path, method) in
        leptos::server_fn::axum::server_fn_paths().filter(|(path, _)| REQUEST_REMOTE.contains(path))
    {
        let response = remote
            .http
            .request(reqwest::Method::OPTIONS, format!("{}{path}", remote.base))
            .header("origin", PRODUCT_ORIGIN)
            .header("access-control-request-method", method.as_str())
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
            .await
            .unwrap();
        let allowed = response
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok());
        assert!(
            response.status().is_success() && allowed == Some(PRODUCT_ORIGIN),
            "{method} {path} is sent with requestRemote, but its preflight from \
             {PRODUCT_ORIGIN} got {} with allow-origin {allowed:?}",
            response.status()
        );
    }
}

#[tokio::test]
async fn whoami_answers_the_clients_response_type() {
    let remote = spawn_remote().await;
    let me = remote
        .call::<_, GetUrl>(Whoami {})
        .await
        .expect("GET /whoami");
    assert_eq!(me.app_id, APP_ID);
}

#[tokio::test]
async fn whoami_without_a_token_answers_the_clients_error_type() {
    let remote = spawn_remote().await;
    let error = remote
        .send::<_, GetUrl>(Whoami {}, None)
        .await
        .expect_err("a 401 without a token");
    assert_eq!(error.code, "invalid_token");
}

#[tokio::test]
async fn task_functions_answer_the_clients_types() {
    // Arrange: an issue panel token (the minted default); no OAuth tokens reach this remote,
    // so its Jira updates fail softly and the answers carry a notice.
    let remote = spawn_remote().await;

    // Act / Assert: each answer decodes into the function's output.
    let list = remote
        .call::<_, GetUrl>(ListTasks { team: None })
        .await
        .expect("GET /tasks");
    assert!(list.tasks.is_empty());

    let created = remote
        .call::<_, PostJson>(CreateTask {
            title: "Contract".into(),
            team: None,
        })
        .await
        .expect("POST /tasks");
    assert_eq!(created.task.title, "Contract");
    assert_eq!(created.progress.total, 1);
    let id = created.task.id.clone();

    let updated = remote
        .call::<_, PatchJson>(UpdateTask {
            id: id.clone(),
            title: None,
            done: Some(true),
            team: None,
        })
        .await
        .expect("PATCH /task");
    assert!(updated.task.done);

    let removed = remote
        .call::<_, DeleteUrl>(DeleteTask {
            id: id.clone(),
            team: None,
        })
        .await
        .expect("DELETE /task");
    assert_eq!(removed.progress.total, 0);

    // And a failure decodes into `ErrorBody`.
    let error = remote
        .call::<_, DeleteUrl>(DeleteTask { id, team: None })
        .await
        .expect_err("a 404 for a deleted task");
    assert_eq!(error.code, "not_found");
}

#[tokio::test]
async fn the_issue_header_answers_the_clients_response_type() {
    let remote = spawn_remote().await;
    remote
        .call::<_, GetUrl>(GetIssueHeader {})
        .await
        .expect("GET /issue");
}
