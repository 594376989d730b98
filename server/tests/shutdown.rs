//! SIGTERM on the real `server` binary: not ready at once, still serving through the grace
//! period, then closed, and exit status 0 within the shutdown timeout, even with a request
//! still running.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

#[path = "common/server_process.rs"]
mod server_process;

use std::{
    net::TcpStream,
    time::{Duration, Instant},
};

use helpers::{claims, JwksMode, JwksServer, KEY, STRANGER};
use server_process::ServerProcess;

#[tokio::test]
async fn sigterm_reports_not_ready_serves_through_the_grace_period_then_exits_0() {
    // Nothing listens there: the keys would be fetched on first use, which never comes.
    let mut server = ServerProcess::start(
        "http://127.0.0.1:9/jwks.json",
        &[("SHUTDOWN_GRACE_SECS", "2"), ("SHUTDOWN_TIMEOUT_SECS", "6")],
    )
    .await;

    let signalled = Instant::now();
    server.sigterm();
    let mut not_ready_after = None;
    while signalled.elapsed() < Duration::from_millis(1500) {
        if server.ready().await == Some(503) {
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
    let health = reqwest::get(format!("{}/healthz", server.base()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["connection"], "close");
    assert!(
        signalled.elapsed() < Duration::from_secs(2),
        "the test was too slow to see the grace period"
    );

    let code = server.exit_code().await;
    let took = signalled.elapsed();
    assert_eq!(code, Some(0));
    assert!(
        took >= Duration::from_secs(2),
        "exited after {took:?}, before the grace period ended"
    );
    assert!(
        took < Duration::from_secs(6),
        "exited after {took:?}, past SHUTDOWN_TIMEOUT_SECS"
    );
    assert!(
        TcpStream::connect(("127.0.0.1", server.port)).is_err(),
        "still listening"
    );
}

/// A request that outlives the timeout (here: waiting on a JWKS fetch that takes 30 s) does not
/// hold the process: it exits 0 at SHUTDOWN_TIMEOUT_SECS, and that request is cut off.
#[tokio::test]
async fn a_request_still_running_at_the_shutdown_timeout_is_cut_off_and_the_exit_is_0() {
    let jwks = JwksServer::start(&[&KEY]).await;
    let mut server = ServerProcess::start(
        &jwks.url,
        &[
            ("SHUTDOWN_GRACE_SECS", "0"),
            ("SHUTDOWN_TIMEOUT_SECS", "2"),
            ("FORGE_JWKS_REFETCH_INTERVAL_SECS", "1"),
        ],
    )
    .await;
    // Past the refetch interval, so an unknown key id fetches the keys again, slowly.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    jwks.set_mode(JwksMode::Slow(Duration::from_secs(30)));
    let hits = jwks.hits();
    let stuck = tokio::spawn(
        reqwest::Client::new()
            .get(format!("{}/whoami", server.base()))
            .bearer_auth(STRANGER.sign(&claims()))
            .send(),
    );
    let waiting = Instant::now();
    while jwks.hits() == hits {
        assert!(
            waiting.elapsed() < Duration::from_secs(5),
            "the request never fetched the keys"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let signalled = Instant::now();
    server.sigterm();
    let code = server.exit_code().await;
    let took = signalled.elapsed();
    assert_eq!(code, Some(0));
    assert!(
        took >= Duration::from_millis(1900),
        "exited after {took:?}, before the timeout"
    );
    assert!(
        took < Duration::from_secs(4),
        "exited after {took:?}: the timeout did not hold"
    );
    let answer = stuck.await.unwrap();
    assert!(
        answer.is_err(),
        "the stuck request was answered: {answer:?}"
    );
}
