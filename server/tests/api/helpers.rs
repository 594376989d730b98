//! `spawn_app()`: the real application on port 0, with a stub JWKS host and test keys.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, LazyLock, Mutex,
    },
    time::Duration,
};

use app::api::ErrorBody;
use axum::{extract::State, http::header, response::IntoResponse, routing::get, Json, Router};
use forge_fit::{
    mint::{self, SigningKey},
    FitClaims, FitConfig, FitVerifier,
};
use reqwest::StatusCode;
use server::{configuration::Settings, startup::Application};
use tokio::{net::TcpListener, task::JoinHandle};

/// The app id every test token is minted for.
pub const APP_ID: &str = "ari:cloud:ecosystem::app/3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4";

/// `TOKEN_ENCRYPTION_KEY` of every test app (base64 of 32 bytes).
pub const TOKEN_KEY: &str = "dGVhbS10YXNrcy10ZXN0LXRva2VuLWtleS0zMmJ5dGU=";

/// The key the stub JWKS publishes. Generated once per test run: RSA generation is the slow
/// part of these tests.
pub static KEY: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::generate("forge/invocation-token/wf-test-1"));

/// A key that is never published.
pub static STRANGER: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::generate("forge/invocation-token/wf-stranger"));

/// How the stub JWKS host behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwksMode {
    Up,
    /// Answers 503.
    Failing,
    /// Answers after this delay.
    Slow(Duration),
    /// Answers 200 with a document larger than the cache accepts.
    Oversized,
    /// Answers 302 to `/moved/jwks.json` on the same host, which serves the keys.
    Redirect,
}

struct JwksState {
    keys: Mutex<Vec<serde_json::Value>>,
    mode: Mutex<JwksMode>,
    hits: AtomicUsize,
}

/// A local JWKS host: an axum app on port 0 that counts its hits.
pub struct JwksServer {
    pub url: String,
    state: Arc<JwksState>,
    task: JoinHandle<()>,
}

impl JwksServer {
    pub async fn start(keys: &[&SigningKey]) -> Self {
        let state = Arc::new(JwksState {
            keys: Mutex::new(keys.iter().map(|k| k.jwk()).collect()),
            mode: Mutex::new(JwksMode::Up),
            hits: AtomicUsize::new(0),
        });
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("Failed to bind JWKS");
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let app = Router::new()
            .route("/.well-known/jwks.json", get(serve_jwks))
            .route("/moved/jwks.json", get(serve_moved_jwks))
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("JWKS server failed");
        });
        Self { url, state, task }
    }

    /// How many times the JWKS was requested.
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    /// Adds a key, as Forge does when it rotates one in.
    pub fn publish(&self, key: &SigningKey) {
        self.state.keys.lock().unwrap().push(key.jwk());
    }

    /// Removes a key, as Forge does once it has rotated it out.
    pub fn withdraw(&self, kid: &str) {
        self.state
            .keys
            .lock()
            .unwrap()
            .retain(|jwk| jwk["kid"] != kid);
    }

    pub fn publish_jwk(&self, jwk: serde_json::Value) {
        self.state.keys.lock().unwrap().push(jwk);
    }

    pub fn set_mode(&self, mode: JwksMode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    /// Stops listening: further fetches get "connection refused". Every response carries
    /// `connection: close`, so no kept-alive connection outlives this.
    pub fn shut_down(&self) {
        self.task.abort();
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_jwks(State(state): State<Arc<JwksState>>) -> axum::response::Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let mode = *state.mode.lock().unwrap();
    let close = [(header::CONNECTION, "close")];
    match mode {
        JwksMode::Failing => {
            return (StatusCode::SERVICE_UNAVAILABLE, close, Json(None::<()>)).into_response()
        }
        JwksMode::Slow(delay) => tokio::time::sleep(delay).await,
        JwksMode::Oversized => {
            let padding = "x".repeat(100 * 1024);
            let body = serde_json::json!({ "keys": state.keys.lock().unwrap().clone(), "padding": padding });
            return (StatusCode::OK, close, Json(body)).into_response();
        }
        JwksMode::Redirect => {
            return (
                StatusCode::FOUND,
                [(header::LOCATION, "/moved/jwks.json")],
                close,
            )
                .into_response()
        }
        JwksMode::Up => {}
    }
    let body = serde_json::json!({ "keys": state.keys.lock().unwrap().clone() });
    (StatusCode::OK, close, Json(body)).into_response()
}

/// Where [`JwksMode::Redirect`] points: the real keys, so following the redirect would work.
async fn serve_moved_jwks(State(state): State<Arc<JwksState>>) -> impl IntoResponse {
    let body = serde_json::json!({ "keys": state.keys.lock().unwrap().clone() });
    ([(header::CONNECTION, "close")], Json(body))
}

/// A running application and what it talks to.
pub struct TestApp {
    pub address: String,
    /// `http://…` of the metrics listener, when the test set `metrics_addr`.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub jwks: JwksServer,
    /// The app's own database, for asserting what a request did or did not change.
    pub db: server::db::Database,
    /// Its `DATABASE_URL`, for a second replica on the same database.
    pub database_url: String,
    /// Keeps the SQLite file alive as long as the app.
    _data: Option<tempfile::TempDir>,
}

/// A fresh, empty database for one test: a SQLite file in a temporary directory, or a new
/// database on the PostgreSQL server named by `TEST_DATABASE_URL` (scripts/test.sh sets it
/// for a second run, so the same suite covers both).
pub async fn fresh_database_url() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) => {
            use sqlx::{Connection, Executor};
            let name = format!("tt_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&base)
                .await
                .expect("Failed to reach the PostgreSQL in TEST_DATABASE_URL");
            admin
                .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
                .await
                .expect("Failed to create a test database");
            let (prefix, _) = base.rsplit_once('/').expect("a URL ending in /<database>");
            (format!("{prefix}/{name}"), None)
        }
        Err(_) => {
            let dir = tempfile::tempdir().expect("Failed to create a temp dir");
            (
                format!("sqlite://{}/tasks.db", dir.path().display()),
                Some(dir),
            )
        }
    }
}

/// The application with test settings, its JWKS host publishing [`KEY`].
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with the settings adjusted first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let jwks = JwksServer::start(&[&KEY]).await;
    spawn_app_against(jwks, configure).await
}

/// The application against a JWKS host the test set up.
pub async fn spawn_app_against(jwks: JwksServer, configure: impl FnOnce(&mut Settings)) -> TestApp {
    init_test_logging();
    let mut settings = Settings::from_lookup(|name| match name {
        "FORGE_APP_ID" => Some(APP_ID.into()),
        "FORGE_JWKS_URL" => Some(jwks.url.clone()),
        "LEPTOS_SITE_ADDR" => Some("127.0.0.1:0".into()),
        // The Jira stand-ins of these tests listen on loopback, on any port.
        "FORGE_API_HOSTS" => Some("127.0.0.1".into()),
        "TOKEN_ENCRYPTION_KEY" => Some(TOKEN_KEY.into()),
        _ => None,
    })
    .expect("Failed to read test settings");
    let (database_url, data) = fresh_database_url().await;
    settings.database_url = database_url.clone();
    configure(&mut settings);
    let database_url = settings.database_url.clone();

    let application = Application::build(settings)
        .await
        .expect("Failed to build the app");
    let address = format!("http://{}", application.local_addr());
    let metrics_address = application.metrics_addr().map(|a| format!("http://{a}"));
    tokio::spawn(application.run_until_stopped());
    let db = server::db::Database::connect(&database_url)
        .await
        .expect("Failed to open the app's database");
    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::new(),
        jwks,
        db,
        database_url,
        _data: data,
    }
}

/// Log to stdout only when `TEST_LOG` is set, as in zero2prod.
fn init_test_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = server::telemetry::init("debug");
        }
    });
}

/// Forge-like claims for [`APP_ID`], issued now.
/// A verifier built from `config`, with its JWKS already fetched.
pub async fn warm_verifier(config: FitConfig) -> FitVerifier {
    let verifier = FitVerifier::new(config).unwrap();
    verifier
        .jwks()
        .refresh()
        .await
        .expect("Failed to warm the JWKS cache");
    verifier
}

pub fn claims() -> FitClaims {
    mint::issue_panel_claims(APP_ID, mint::now())
}

/// The claims as JSON, for tests that need to break their shape.
pub fn claims_json() -> serde_json::Value {
    serde_json::to_value(claims()).unwrap()
}

/// A valid token signed by [`KEY`].
pub fn valid_token() -> String {
    KEY.sign(&claims())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The SQLite file, when the app runs on SQLite.
    pub fn sqlite_path(&self) -> Option<String> {
        self.database_url
            .strip_prefix("sqlite://")
            .map(|p| p.split('?').next().unwrap_or(p).to_owned())
    }

    /// `GET /whoami` with `Authorization: Bearer <token>`.
    pub async fn get_whoami(&self, token: &str) -> reqwest::Response {
        self.get_whoami_with_authorization(&format!("Bearer {token}"))
            .await
    }

    /// `GET /whoami` with this exact `Authorization` value.
    pub async fn get_whoami_with_authorization(&self, authorization: &str) -> reqwest::Response {
        self.client
            .get(self.url("/whoami"))
            .header("authorization", authorization)
            .send()
            .await
            .expect("Failed to send the request")
    }

    /// Retries `GET /whoami` until it answers 200 or `within` has passed; returns how long it took.
    pub async fn get_whoami_until_ok(&self, token: &str, within: Duration) -> Option<Duration> {
        let start = std::time::Instant::now();
        while start.elapsed() < within {
            if self.get_whoami(token).await.status() == StatusCode::OK {
                return Some(start.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

/// The answer is a JSON error with this status; returns the body.
pub async fn assert_json_error(response: reqwest::Response, status: StatusCode) -> ErrorBody {
    assert_eq!(response.status(), status, "unexpected status");
    let content_type = response.headers().get("content-type").cloned();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "a {status} must be JSON"
    );
    response
        .json::<ErrorBody>()
        .await
        .expect("The error body is not an ErrorBody")
}

/// The answer is the FIT failure: a JSON 401 with a Bearer challenge and no reason given away.
pub async fn assert_fit_rejected(response: reqwest::Response, what: &str) {
    let status = response.status();
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "{what}: expected 401, got {status}"
    );
    assert!(
        response
            .headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().unwrap().starts_with("Bearer")),
        "{what}: a 401 needs a Bearer challenge"
    );
    let body = assert_json_error(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body.code, "invalid_token", "{what}");
    assert_eq!(
        body.message, "the request does not carry a valid Forge Invocation Token",
        "{what}: the reason stays in our logs"
    );
}
