//! SIGTERM on the real `server` binary: not ready at once, still serving through the grace
//! period, then closed, and exit status 0 within the shutdown timeout.

use std::{
    net::TcpStream,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn sigterm_reports_not_ready_serves_through_the_grace_period_then_exits_0() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .env(
            "FORGE_APP_ID",
            "ari:cloud:ecosystem::app/3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4",
        )
        // Nothing listens there: the keys would be fetched on first use, which never comes.
        .env("FORGE_JWKS_URL", "http://127.0.0.1:9/jwks.json")
        .env(
            "TOKEN_ENCRYPTION_KEY",
            "dGVhbS10YXNrcy10ZXN0LXRva2VuLWtleS0zMmJ5dGU=",
        )
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/t.db", data.path().display()),
        )
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("SHUTDOWN_GRACE_SECS", "2")
        .env("SHUTDOWN_TIMEOUT_SECS", "6")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let ready = async || {
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .map(|r| r.status().as_u16())
    };
    let started = Instant::now();
    while ready().await.ok() != Some(200) {
        assert!(started.elapsed() < Duration::from_secs(30), "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let signalled = Instant::now();
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(server.id() as i32, libc::SIGTERM) }, 0);
    let mut not_ready_after = None;
    while signalled.elapsed() < Duration::from_millis(1500) {
        if ready().await.unwrap() == 503 {
            not_ready_after = Some(signalled.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let not_ready_after = not_ready_after.expect("still ready 1.5 s after SIGTERM");
    assert!(
        not_ready_after < Duration::from_millis(500),
        "{not_ready_after:?}"
    );
    // Inside the grace period: still served, on a connection it asks to close.
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["connection"], "close");
    assert!(
        signalled.elapsed() < Duration::from_secs(2),
        "the test was too slow to see the grace period"
    );

    let status = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        took >= Duration::from_secs(2),
        "exited after {took:?}, before the grace period ended"
    );
    assert!(
        took < Duration::from_secs(6),
        "exited after {took:?}, past SHUTDOWN_TIMEOUT_SECS"
    );
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still listening"
    );
}
