//! The API contract between the panel and this remote, checked against the real application.
//!
//! `app::routes` defines each operation once (method, path, body, response and error types,
//! transport); the server's handlers and the panel's `RemoteClient` both use those types, so
//! the compiler keeps them in step. What the compiler cannot see is checked here:
//!
//! - the router answers every operation's `METHOD` + `PATH` (not 404/405);
//! - a real answer decodes into the operation's `Response` (2xx) or `Error` (otherwise), read
//!   by `app::bridge::decode_answer`, the panel's own decoder;
//! - operations the panel sends with `requestRemote` pass the CORS preflight of a product page.
//!
//! A new operation in `app::routes::ALL` fails `every_operation_has_a_typed_case` until a case
//! is added below.

use std::path::PathBuf;
use std::sync::LazyLock;

use app::{
    bridge::{decode_answer, ApiError},
    routes::{
        self, CreateTask, DeleteTask, GetIssueHeader, Healthz, ListTasks, Method, Operation, Route,
        Transport, UpdateTask, Whoami,
    },
    tasks::{NewTask, TaskPatch},
};
use axum::{routing::get, Json, Router};
use forge_fit::mint::{self, SigningKey};
use server::{configuration::Settings, startup::Application};
use tokio::net::TcpListener;

const APP_ID: &str = "ari:cloud:ecosystem::app/0b6c3d2e-4f5a-4b7c-8d9e-0f1a2b3c4d5e";
/// A product page origin the default CORS settings grant (`https://*.atlassian.net`).
const PRODUCT_ORIGIN: &str = "https://acme.atlassian.net";

static KEY: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::generate("forge/invocation-token/wf-contract"));

/// The operations that have a typed case below, in `routes::ALL` order.
const TYPED: &[Route] = &[
    Route::of::<Healthz>(),
    Route::of::<Whoami>(),
    Route::of::<ListTasks>(),
    Route::of::<CreateTask>(),
    Route::of::<UpdateTask>(),
    Route::of::<DeleteTask>(),
    Route::of::<GetIssueHeader>(),
];

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
    let mut settings = Settings::from_lookup(|name| match name {
        "FORGE_APP_ID" => Some(APP_ID.into()),
        "FORGE_JWKS_URL" => Some(jwks_url.clone()),
        "LEPTOS_SITE_ADDR" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(database_url.clone()),
        _ => None,
    })
    .expect("Failed to read test settings");
    settings.site_root = PathBuf::from("/nonexistent/team-tasks-site");
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

fn method(m: Method) -> reqwest::Method {
    reqwest::Method::from_bytes(m.as_str().as_bytes()).unwrap()
}

/// A concrete path for a template: every `{param}` filled in.
fn sample_path(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').expect("unclosed {param}");
        out.push_str(&rest[..open]);
        out.push_str("contract-probe");
        rest = &rest[close + 1..];
    }
    out + rest
}

impl Remote {
    /// Sends `op` as the panel would, with a fresh valid FIT, and reads the answer with the
    /// panel's decoder.
    async fn call<Op: Operation>(&self, op: &Op) -> Result<Op::Response, ApiError<Op::Error>> {
        let token = KEY.sign(&mint::issue_panel_claims(APP_ID, mint::now()));
        self.send(op, Some(&token)).await
    }

    async fn send<Op: Operation>(
        &self,
        op: &Op,
        token: Option<&str>,
    ) -> Result<Op::Response, ApiError<Op::Error>> {
        let mut request = self
            .http
            .request(method(Op::METHOD), format!("{}{}", self.base, op.path()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = op.body() {
            request = request.json(body);
        }
        let response = request.send().await.expect("Failed to send the request");
        let status = response.status().as_u16();
        let body = response.text().await.expect("Failed to read the body");
        decode_answer::<Op>(status, Some(&body))
    }
}

#[test]
fn every_operation_has_a_typed_case() {
    assert_eq!(
        routes::ALL,
        TYPED,
        "app::routes::ALL changed: add a typed case for the new operation to this file"
    );
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
        .delete(format!("{}{}", remote.base, Healthz::PATH))
        .send()
        .await
        .unwrap();
    assert_eq!(
        wrong_method.status().as_u16(),
        405,
        "wrong methods must be 405"
    );

    for route in routes::ALL {
        let path = sample_path(route.path);
        let response = remote
            .http
            .request(method(route.method), format!("{}{path}", remote.base))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(
            (200..300).contains(&status) || status == 401,
            "{} {} is not served by the router: {status} without a token (expected 2xx, or \
             401 from the FIT layer)",
            route.method.as_str(),
            route.path
        );
    }
}

#[tokio::test]
async fn request_remote_operations_pass_the_product_pages_cors_preflight() {
    let remote = spawn_remote().await;
    for route in routes::ALL
        .iter()
        .filter(|r| r.transport == Transport::RequestRemote)
    {
        let response = remote
            .http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}{}", remote.base, sample_path(route.path)),
            )
            .header("origin", PRODUCT_ORIGIN)
            .header("access-control-request-method", route.method.as_str())
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
            "{} {} is sent with requestRemote, but its preflight from {PRODUCT_ORIGIN} got {} \
             with allow-origin {allowed:?}",
            route.method.as_str(),
            route.path,
            response.status()
        );
    }
}

#[tokio::test]
async fn healthz_answers_the_clients_response_type() {
    let remote = spawn_remote().await;
    let health = remote.send(&Healthz, None).await.expect("GET /healthz");
    assert_eq!(health.status, "ok");
}

#[tokio::test]
async fn whoami_answers_the_clients_response_type() {
    let remote = spawn_remote().await;
    let me = remote.call(&Whoami).await.expect("GET /whoami");
    assert_eq!(me.app_id, APP_ID);
}

#[tokio::test]
async fn whoami_without_a_token_answers_the_clients_error_type() {
    let remote = spawn_remote().await;
    match remote.send(&Whoami, None).await {
        Err(ApiError::Remote { status, error }) => {
            assert_eq!(status, 401);
            assert_eq!(error.code, "invalid_token");
        }
        other => panic!("expected a 401 ErrorBody, got {other:?}"),
    }
}

#[tokio::test]
async fn task_operations_answer_the_clients_types() {
    // Arrange: an issue panel token (the minted default); no OAuth tokens reach this remote,
    // so its Jira updates fail softly and the answers carry a notice.
    let remote = spawn_remote().await;

    // Act / Assert: each answer decodes into the operation's `Response`.
    let list = remote
        .call(&ListTasks { team: None })
        .await
        .expect("GET /tasks");
    assert!(list.tasks.is_empty());

    let new = NewTask {
        title: "Contract".into(),
        team: None,
    };
    let created = remote.call(&CreateTask(new)).await.expect("POST /tasks");
    assert_eq!(created.task.title, "Contract");
    let id = created.task.id.clone();

    let patch = TaskPatch {
        title: None,
        done: Some(true),
    };
    let updated = remote
        .call(&UpdateTask {
            id: id.clone(),
            patch,
        })
        .await
        .expect("PATCH /tasks/{id}");
    assert!(updated.task.done);

    remote
        .call(&DeleteTask { id: id.clone() })
        .await
        .expect("DELETE /tasks/{id}");

    // And a failure decodes into its `Error`.
    match remote.call(&DeleteTask { id }).await {
        Err(ApiError::Remote { status, error }) => {
            assert_eq!(status, 404);
            assert_eq!(error.code, "not_found");
        }
        other => panic!("expected a 404 ErrorBody, got {other:?}"),
    }
}

#[tokio::test]
async fn the_issue_header_answers_the_clients_response_type() {
    let remote = spawn_remote().await;
    remote.call(&GetIssueHeader).await.expect("GET /issue");
}
