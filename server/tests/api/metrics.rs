//! `/metrics` on `METRICS_ADDR`: Prometheus text, with OpenTelemetry's HTTP names; never on the
//! public port.
//!
//! The recorder is global to the test process, so these assertions look for the series this
//! test's requests must have created or raised, not for exact totals.

use reqwest::StatusCode;

use crate::helpers::{assert_json_error, claims, spawn_app_with, TestApp, KEY, STRANGER};

async fn metrics_app() -> TestApp {
    spawn_app_with(|s| {
        s.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
        s.rate_limit_per_second = 1;
        s.rate_limit_burst = 2;
    })
    .await
}

async fn scrape(app: &TestApp) -> String {
    let url = format!("{}/metrics", app.metrics_address.as_deref().unwrap());
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    response.text().await.unwrap()
}

/// The value of the one sample whose line starts with `name{` and holds every label in `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_are_not_on_the_public_port() {
    let app = metrics_app().await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_json_error(response, StatusCode::NOT_FOUND).await;
    // Not without METRICS_ADDR either, and no listener then.
    let plain = spawn_app_with(|_| {}).await;
    assert!(plain.metrics_address.is_none());
    let response = plain
        .client
        .get(plain.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_json_error(response, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn requests_verifications_refusals_the_pool_and_the_outbox_are_counted() {
    let app = metrics_app().await;
    let before = scrape(&app).await;
    let count = |text: &str, labels: &[&str]| {
        sample(text, "http_server_request_duration_seconds_count", labels).unwrap_or(0.0)
    };
    let ok_whoami = [
        r#"http_request_method="GET""#,
        r#"http_route="/whoami""#,
        r#"http_response_status_code="200""#,
    ];
    let token = KEY.sign(&claims());
    assert_eq!(app.get_whoami(&token).await.status(), StatusCode::OK);
    // The trailing-slash twin is the same route, not a series of its own.
    let twin = app
        .client
        .get(app.url("/whoami/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(twin.status(), StatusCode::OK);
    assert_eq!(
        app.get_whoami(&STRANGER.sign(&claims())).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Burst 2 at 1/s: the third quick request of one user is refused.
    app.get_whoami(&token).await;
    assert_eq!(
        app.get_whoami(&token).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // A path no route matches: counted, without the path.
    let unmatched = app
        .client
        .get(app.url("/no-such-route-4f2a"))
        .send()
        .await
        .unwrap();
    assert_eq!(unmatched.status(), StatusCode::NOT_FOUND);

    let after = scrape(&app).await;
    assert!(
        count(&after, &ok_whoami) >= count(&before, &ok_whoami) + 2.0,
        "{after}"
    );
    assert!(
        after.contains("http_server_request_duration_seconds_bucket{")
            && after.contains(r#"le="0.0005""#),
        "a histogram with the fine buckets: {after}"
    );
    assert!(!after.contains(r#"http_route="/whoami/""#), "{after}");
    assert!(
        !after.contains("no-such-route-4f2a"),
        "a raw path became a label"
    );
    assert!(
        sample(
            &after,
            "http_server_request_duration_seconds_count",
            &[r#"http_response_status_code="404""#]
        )
        .is_some(),
        "{after}"
    );
    let verified = |labels: &[&str]| sample(&after, "forge_fit_verifications_total", labels);
    assert!(verified(&[r#"result="accepted""#]).unwrap() >= 1.0);
    assert!(verified(&[r#"result="rejected""#, r#"reason="unknown_kid""#]).unwrap() >= 1.0);
    assert!(sample(&after, "rate_limit_refusals_total", &[]).unwrap() >= 1.0);
    assert!(sample(&after, "forge_jwks_fetches_total", &[r#"result="ok""#]).unwrap() >= 1.0);
    assert!(
        sample(
            &after,
            "forge_fit_cache_lookups_total",
            &[r#"result="hit""#]
        )
        .unwrap()
            >= 1.0
    );
    assert!(sample(
        &after,
        "forge_fit_cache_lookups_total",
        &[r#"result="miss""#]
    )
    .is_some());
    let pool = |state: &str| {
        sample(
            &after,
            "db_client_connection_count",
            &[&format!(r#"db_client_connection_state="{state}""#)],
        )
    };
    assert!(
        pool("idle").unwrap() + pool("used").unwrap() >= 1.0,
        "{after}"
    );
    assert!(sample(&after, "outbox_rows", &[]).is_some(), "{after}");
    // The process's own: this test process holds a few MiB and a few descriptors at least.
    assert!(sample(&after, "process_resident_memory_bytes", &[]).unwrap() > 1e6);
    assert!(sample(&after, "process_open_fds", &[]).unwrap() >= 3.0);
    // A counter, so whole seconds: a test process may not have used one yet.
    assert!(sample(&after, "process_cpu_seconds_total", &[]).is_some());
    assert!(sample(&after, "process_start_time_seconds", &[]).unwrap() > 1.6e9);
    assert!(
        sample(&after, "outbox_oldest_age_seconds", &[]).is_some(),
        "{after}"
    );
}

#[tokio::test]
async fn jira_calls_are_counted_by_method_and_result() {
    let jira = crate::tasks::JiraStub::start().await;
    let app = metrics_app().await;
    let count = |text: &str, result: &str| {
        sample(
            text,
            "jira_requests_total",
            &[
                r#"http_request_method="PUT""#,
                &format!(r#"result="{result}""#),
            ],
        )
        .unwrap_or(0.0)
    };
    let before = scrape(&app).await;
    // Each create writes the issue's progress to Jira before it answers.
    app.create(&crate::tasks::panel(&jira), "Counted").await;
    jira.set_down(true);
    app.create(&crate::tasks::panel(&jira), "Counted while Jira is down")
        .await;

    let after = scrape(&app).await;
    assert!(count(&after, "ok") >= count(&before, "ok") + 1.0, "{after}");
    assert!(
        count(&after, "server_error") >= count(&before, "server_error") + 1.0,
        "{after}"
    );
    assert!(
        sample(
            &after,
            "jira_request_duration_seconds_count",
            &[r#"result="ok""#]
        )
        .is_some(),
        "{after}"
    );
}
