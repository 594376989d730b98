//! Forwarded OAuth tokens never reach the logs; the request span carries who was verified.
//!
//! Its own test binary, because it installs a *global* subscriber: a thread-local one
//! (`set_default`) loses spans when tests running on other threads first register the same
//! callsites with no subscriber, which made this test flaky inside `tests/api`.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::{
    io,
    sync::{Arc, Mutex},
};

use forge_fit::{AppSystemToken, AppUserToken, ExposeSecret, ForgeOAuth};
use reqwest::StatusCode;
use tracing_subscriber::{fmt::MakeWriter, EnvFilter};

use helpers::{claims, spawn_app_with, KEY};

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn forwarded_tokens_never_appear_in_the_logs() {
    // Arrange: everything, at every level, into a buffer; the only test in this binary that
    // logs, so the global subscriber sees exactly its requests.
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("trace"))
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
    let claims = claims();
    let pinned = claims.app.environment.id.clone();
    let app = spawn_app_with(|s| {
        s.diagnostics = true;
        s.environment_ids = Some(vec![pinned]);
    })
    .await;
    let token = KEY.sign(&claims);

    // Act
    let response = app
        .client
        .get(app.url("/whoami"))
        .bearer_auth(&token)
        .header("x-forge-oauth-system", "secret-sys-token")
        .header("x-forge-oauth-user", "secret-user-token")
        .header("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7")
        .header("x-b3-spanid", "e457b5a2e4d86bd1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // A rejected request with tokens attached logs its reason; the tokens must not ride along.
    let rejected = app
        .client
        .get(app.url("/whoami"))
        .bearer_auth("not-a-token")
        .header("x-forge-oauth-system", "secret-sys-token")
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), StatusCode::UNAUTHORIZED);
    // A forged trace id (not B3's hex) is replaced, never logged.
    let forged = app
        .client
        .get(app.url("/healthz"))
        .header("x-b3-traceid", "FORGED-trace id=injected principal=admin")
        .header("x-b3-spanid", "FORGED-span")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::OK);
    // A token of another app environment: refused, and the reason is logged.
    let mut staging = claims.clone();
    staging.app.environment.id = "ari:cloud:ecosystem::environment/3f1c9b52/staging".into();
    let other_environment = app.get_whoami(&KEY.sign(&staging)).await;
    assert_eq!(other_environment.status(), StatusCode::UNAUTHORIZED);
    // requestRemote's shape, twice: an Origin and no OAuth headers.
    for _ in 0..2 {
        let read = app
            .client
            .get(app.url("/whoami"))
            .bearer_auth(&token)
            .header("origin", "https://acme.atlassian.net")
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), StatusCode::OK);
    }
    // A write whose apiBaseUrl is not Atlassian's: saved, the tokens stay here, a warning says why.
    let mut foreign = claims.clone();
    foreign.app.api_base_url = format!(
        "https://jira.evil.example.com/ex/jira/{}",
        claims.context.as_ref().unwrap().cloud_id
    );
    let created = app
        .client
        .post(app.url("/tasks"))
        .bearer_auth(KEY.sign(&foreign))
        .header("x-forge-oauth-system", "secret-sys-token")
        .header("x-forge-oauth-user", "secret-user-token")
        .json(&serde_json::json!({ "title": "Stays here" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    // Forge's trigger deliveries, whose system token the remote keeps (sealed) for the outbox.
    let mut trigger = claims.clone();
    trigger.principal = None;
    trigger.app.module.kind = "core:trigger".into();
    if let Some(context) = trigger.context.as_mut() {
        context.extension = None;
    }
    for (path, body) in [
        (
            "/forge/lifecycle",
            serde_json::json!({ "eventType": "avi:forge:installed:app" }),
        ),
        ("/forge/scheduled", serde_json::json!({})),
    ] {
        let delivered = app
            .client
            .post(app.url(path))
            .bearer_auth(KEY.sign(&trigger))
            .header("x-forge-oauth-system", "secret-sys-token-from-a-trigger")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(delivered.status(), StatusCode::OK, "{path}");
    }
    // Let the outbox worker try the write above with the stored token.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;

    // Assert
    let logs = capture.text();
    assert!(
        logs.contains("80f198ee56343ba864fe8b2a57d3eff7"),
        "the capture saw no request span"
    );
    assert!(
        logs.contains("e457b5a2e4d86bd1"),
        "the span id is on the request span"
    );
    assert!(
        logs.contains(&format!("installation={}", claims.app.installation_id)),
        "the verified installation is recorded on the span"
    );
    assert!(logs.contains(&format!("principal={}", claims.principal.clone().unwrap())));
    assert!(
        logs.contains("FIT rejected"),
        "the rejection reason is logged"
    );
    assert!(
        !logs.contains("secret-sys-token"),
        "the system token was logged"
    );
    assert!(
        logs.contains("lifecycle event"),
        "the lifecycle deliveries were logged"
    );
    assert!(
        !logs.contains("secret-user-token"),
        "the user token was logged"
    );
    assert!(!logs.contains(&token), "the FIT itself was logged");
    assert!(!logs.contains("FORGED"), "a forged b3 id reached the logs");
    assert!(
        logs.lines().any(|l| l.contains("path=\"/healthz\"")
            && l.split("trace_id=").nth(1).is_some_and(|rest| rest
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '}')
                .filter(char::is_ascii_hexdigit)
                .count()
                == 32)),
        "the request with a forged id got a fresh 32-hex trace id"
    );
    assert!(
        logs.contains("is not one of FORGE_ENVIRONMENT_IDS"),
        "the environment refusal is logged with its reason"
    );
    assert!(
        logs.contains("refusing to send OAuth tokens")
            && logs.contains("host is not in FORGE_API_HOSTS"),
        "the refused apiBaseUrl is logged with its reason"
    );
    // FORGE_DIAGNOSTICS: one line per module and transport (invokeRemote for /whoami and the
    // POST, requestRemote for the two reads), names only.
    let diagnostics: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("FORGE_DIAGNOSTICS: first request of this kind"))
        .collect();
    assert_eq!(diagnostics.len(), 2, "{diagnostics:#?}");
    let invoke = diagnostics
        .iter()
        .find(|l| l.contains("transport=\"invokeRemote"))
        .expect("an invokeRemote line");
    assert!(
        invoke.contains("x-forge-oauth-system") && invoke.contains("authorization"),
        "{invoke}"
    );
    assert!(
        invoke.contains("app.installationId") && invoke.contains("context.extension.issue.id"),
        "{invoke}"
    );
    let read = diagnostics
        .iter()
        .find(|l| l.contains("transport=\"requestRemote"))
        .expect("a requestRemote line");
    assert!(
        read.contains(r#"origin="https://acme.atlassian.net""#),
        "{read}"
    );
    assert!(read.contains("fit_bytes="), "{read}");
    for line in &diagnostics {
        // Only the span (not this line's fields) may carry the installation's id.
        let fields = line.rsplit_once("FORGE_DIAGNOSTICS").unwrap().1;
        assert!(
            !fields.contains(&claims.app.installation_id),
            "a claim value was logged: {line}"
        );
        assert!(
            !fields.contains(claims.principal.as_deref().unwrap()),
            "{line}"
        );
    }
}

#[test]
fn the_secret_types_are_redacted_in_debug_and_display() {
    let oauth = ForgeOAuth {
        system: Some(AppSystemToken::new("secret-sys-token")),
        user: Some(AppUserToken::new("secret-user-token")),
    };
    let system = oauth.system.as_ref().unwrap();
    let user = oauth.user.as_ref().unwrap();

    for printed in [
        format!("{oauth:?}"),
        format!("{oauth:#?}"),
        format!("{system:?} {system}"),
        format!("{user:?} {user}"),
    ] {
        assert!(!printed.contains("secret-"), "leaked: {printed}");
        assert!(printed.contains("[REDACTED]"), "{printed}");
    }
    assert_eq!(system.expose_secret(), "secret-sys-token");
}
