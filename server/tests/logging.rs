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

use reqwest::StatusCode;
use secrecy::ExposeSecret;
use server::fit::{AppSystemToken, AppUserToken, ForgeOAuth};
use tracing_subscriber::{fmt::MakeWriter, EnvFilter};

use helpers::{claims, spawn_app, KEY};

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
    let app = spawn_app().await;
    let claims = claims();
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
    assert!(logs.contains(&format!("principal={}", claims.principal.unwrap())));
    assert!(
        logs.contains("FIT rejected"),
        "the rejection reason is logged"
    );
    assert!(
        !logs.contains("secret-sys-token"),
        "the system token was logged"
    );
    assert!(
        !logs.contains("secret-user-token"),
        "the user token was logged"
    );
    assert!(!logs.contains(&token), "the FIT itself was logged");
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
