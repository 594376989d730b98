//! A tenant's life against the running remote and a real database (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`): lifecycle events, uninstall and purge, the stored system token, and the
//! outbox that keeps Jira's `tasks-progress` right through outages, 429s, races and replicas.

use std::time::{Duration, Instant};

use forge_fit::FitClaims;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row as _;

use crate::{
    helpers::{assert_json_error, spawn_app, spawn_app_with, TestApp, KEY},
    tasks::{other_installation, panel, JiraStub, SYSTEM_TOKEN},
};

/// The FIT of one of Forge's backend invocations (a trigger): no user, no UI extension.
fn trigger(jira: &JiraStub) -> FitClaims {
    let mut c = panel(jira);
    c.principal = None;
    c.app.module.kind = "core:trigger".into();
    c.app.module.key = "team-tasks-lifecycle".into();
    if let Some(context) = c.context.as_mut() {
        context.extension = None;
        context.module_key = "team-tasks-lifecycle".into();
    }
    c
}

impl TestApp {
    /// POSTs `body` to `path` as Forge delivers a trigger: the FIT and the system token only.
    async fn deliver(&self, path: &str, claims: &FitClaims, body: Value) -> reqwest::Response {
        self.deliver_with(path, claims, body, SYSTEM_TOKEN).await
    }

    async fn deliver_with(
        &self,
        path: &str,
        claims: &FitClaims,
        body: Value,
        system_token: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(KEY.sign(claims))
            .header("x-forge-oauth-system", system_token)
            .json(&body)
            .send()
            .await
            .expect("Failed to send the request")
    }

    async fn lifecycle(&self, claims: &FitClaims, event: &str) -> Value {
        let response = self
            .deliver(
                "/forge/lifecycle",
                claims,
                // The documented payload; `id` is a bare uuid, which the remote must not key on.
                json!({ "eventType": event, "id": "4f0a8e4e-0000-4000-8000-000000000001",
                        "installerAccountId": "557058:admin", "app": { "id": claims.app.id, "version": "1.0.0" } }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{event}");
        response.json().await.unwrap()
    }

    async fn installation_row(&self, id: &str) -> Option<(String, i64, Option<i64>)> {
        sqlx::query(
            "SELECT state, installed_at, uninstalled_at FROM installations WHERE installation_id = $1",
        )
        .bind(id)
        .fetch_optional(self.db.pool())
        .await
        .unwrap()
        .map(|r| (r.get("state"), r.get("installed_at"), r.get("uninstalled_at")))
    }

    async fn count(&self, sql: &str, installation: &str) -> i64 {
        sqlx::query(sql)
            .bind(installation)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
            .get(0)
    }
}

/// Polls `check` every 50 ms until it holds or `within` passes; how long it took.
async fn eventually<F: std::future::Future<Output = bool>>(
    within: Duration,
    mut check: impl FnMut() -> F,
) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

#[tokio::test]
async fn the_installed_event_twice_creates_one_row_and_changes_nothing_the_second_time() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let c = trigger(&jira);
    let first = app.lifecycle(&c, "avi:forge:installed:app").await;
    assert_eq!(first["change"], "created");
    let row = app.installation_row(&c.app.installation_id).await.unwrap();
    assert_eq!(row.0, "active");

    let again = app.lifecycle(&c, "avi:forge:installed:app").await;
    assert_eq!(again["change"], "unchanged");
    assert_eq!(
        app.installation_row(&c.app.installation_id).await.unwrap(),
        row
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM installations WHERE installation_id <> $1",
            &c.app.installation_id
        )
        .await,
        0,
        "keyed on the FIT's installationId, never on the body's id"
    );

    // An upgrade records the new version, once.
    let mut upgraded = c.clone();
    upgraded.app.app_version = Some("2.0.0".into());
    assert_eq!(
        app.lifecycle(&upgraded, "avi:forge:upgraded:app").await["change"],
        "updated"
    );
    assert_eq!(
        app.lifecycle(&upgraded, "avi:forge:upgraded:app").await["change"],
        "unchanged"
    );
    // An event this remote does not act on is still a 2xx, or Forge would retry it.
    assert_eq!(
        app.lifecycle(&c, "avi:forge:something:else").await["change"],
        "ignored"
    );
}

#[tokio::test]
async fn a_request_before_any_event_records_the_installation() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let c = panel(&jira);
    assert_eq!(app.installation_row(&c.app.installation_id).await, None);
    app.list("/tasks", &c).await;
    let (state, ..) = app.installation_row(&c.app.installation_id).await.unwrap();
    assert_eq!(state, "active");
    let url: String = sqlx::query("SELECT api_base_url FROM installations")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(url, jira.url);
}

#[tokio::test]
async fn a_ui_modules_token_cannot_drive_the_lifecycle() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let user = panel(&jira);
    app.list("/tasks", &user).await;
    for path in ["/forge/uninstall", "/forge/lifecycle", "/forge/scheduled"] {
        let response = app
            .deliver(
                path,
                &user,
                json!({ "eventType": "avi:forge:installed:app" }),
            )
            .await;
        assert_json_error(response, StatusCode::FORBIDDEN).await;
    }
    // Nor an anonymous viewer's (no principal), nor a frontend module type without extension.
    let mut anonymous = panel(&jira);
    anonymous.principal = None;
    let mut bare_frontend = trigger(&jira);
    bare_frontend.app.module.kind = "xen:macro".into();
    for claims in [anonymous, bare_frontend] {
        let response = app.deliver("/forge/uninstall", &claims, json!({})).await;
        assert_json_error(response, StatusCode::FORBIDDEN).await;
    }
    assert_eq!(
        app.installation_row(&user.app.installation_id)
            .await
            .unwrap()
            .0,
        "active"
    );
    // And without a FIT, nothing at all.
    let response = app
        .client
        .post(app.url("/forge/uninstall"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn after_uninstall_every_request_is_a_403_until_a_new_install_revives_it() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let user = panel(&jira);
    app.create(&user, "Before").await;
    let bye = app
        .deliver("/forge/uninstall", &trigger(&jira), json!({}))
        .await;
    assert_eq!(bye.status(), StatusCode::OK);
    assert_eq!(bye.json::<Value>().await.unwrap()["change"], "updated");
    let again = app
        .deliver("/forge/uninstall", &trigger(&jira), json!({}))
        .await;
    assert_eq!(again.json::<Value>().await.unwrap()["change"], "unchanged");

    for (method, path, body) in [
        (reqwest::Method::GET, "/tasks", None),
        (
            reqwest::Method::POST,
            "/tasks",
            Some(json!({ "title": "After" })),
        ),
        (reqwest::Method::GET, "/whoami", None),
    ] {
        let response = app.send(method, path, &user, body).await;
        let error = assert_json_error(response, StatusCode::FORBIDDEN).await;
        assert_eq!(error.code, "not_installed", "{path}");
    }
    // Another installation is not affected.
    app.list("/tasks", &other_installation(panel(&jira))).await;

    assert_eq!(
        app.lifecycle(&trigger(&jira), "avi:forge:installed:app")
            .await["change"],
        "revived"
    );
    let list = app.list("/tasks", &user).await;
    assert_eq!(list.tasks.len(), 1, "kept through the retention period");
}

#[tokio::test]
async fn with_retention_0_an_uninstalled_installations_data_is_purged_within_seconds_and_only_its()
{
    let jira = JiraStub::start().await;
    let app = spawn_app_with(|s| s.uninstall_retention = Duration::ZERO).await;
    let leaving = panel(&jira);
    let staying = other_installation(panel(&jira));
    app.create(&leaving, "Goes").await;
    app.create(&staying, "Stays").await;
    let id = leaving.app.installation_id.clone();
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM installation_tokens WHERE installation_id = $1",
            &id
        )
        .await,
        1
    );

    app.deliver("/forge/uninstall", &trigger(&jira), json!({}))
        .await;
    let took = eventually(Duration::from_secs(10), || async {
        app.count("SELECT COUNT(*) FROM tasks WHERE installation_id = $1", &id)
            .await
            == 0
    })
    .await
    .expect("purged within 10 s");
    println!("purged {took:?} after the uninstall");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM installation_tokens WHERE installation_id = $1",
            &id
        )
        .await,
        0
    );
    assert_eq!(app.installation_row(&id).await.unwrap().0, "purged");
    let other = &staying.app.installation_id;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tasks WHERE installation_id = $1",
            other
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM installation_tokens WHERE installation_id = $1",
            other
        )
        .await,
        1
    );

    // A reinstall starts empty.
    app.lifecycle(&trigger(&jira), "avi:forge:installed:app")
        .await;
    assert!(app.list("/tasks", &leaving).await.tasks.is_empty());
}

#[tokio::test]
async fn the_system_token_is_encrypted_at_rest() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let c = trigger(&jira);
    let refreshed = app.deliver("/forge/scheduled", &c, json!({})).await;
    assert_eq!(
        refreshed.json::<Value>().await.unwrap()["change"],
        "updated"
    );
    let sealed: String = sqlx::query("SELECT sealed FROM installation_tokens")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .get(0);
    assert!(!sealed.contains(SYSTEM_TOKEN));
    // The raw bytes of the database (SQLite: the file and its write-ahead log) hold no token.
    if let Some(path) = app.sqlite_path() {
        let mut raw = Vec::new();
        for file in [path.clone(), format!("{path}-wal")] {
            raw.extend(std::fs::read(&file).unwrap_or_default());
        }
        let raw = String::from_utf8_lossy(&raw);
        // What was written is in these bytes (so the check reads the real data)...
        assert!(
            raw.contains(&sealed),
            "the sealed token is in the database files"
        );
        // ...and the token is not.
        assert!(
            !raw.contains(SYSTEM_TOKEN),
            "the token is in the clear in {path}"
        );
    }
    // The same token again is not written again; the stored one is what the outbox uses.
    let again = app.deliver("/forge/scheduled", &c, json!({})).await;
    assert_eq!(again.json::<Value>().await.unwrap()["change"], "unchanged");
}

#[tokio::test]
async fn after_a_jira_outage_the_outbox_writes_the_right_final_property() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let c = panel(&jira);
    jira.set_down(true);
    let first = app.create(&c, "One").await;
    assert!(first.notice.unwrap().contains("retried"));
    let second = app.create(&c, "Two").await;
    app.patch(&c, &second.task.id, None, json!({ "done": true }))
        .await;
    assert_eq!(jira.property("10001"), None);
    // The hourly trigger brings a token that outlives the stored one: the remote keeps it.
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3 * 3600;
    use base64::Engine as _;
    let payload =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp}}}"#));
    let hourly = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.signature");
    let kept = app
        .deliver_with("/forge/scheduled", &trigger(&jira), json!({}), &hourly)
        .await;
    assert_eq!(kept.json::<Value>().await.unwrap()["change"], "updated");
    jira.set_down(false);
    let took = eventually(Duration::from_secs(15), || async {
        jira.property("10001") == Some(json!({ "done": 1, "total": 2 }))
    })
    .await
    .expect("the outbox caught up");
    println!("caught up {took:?} after the outage ended");
    eventually(Duration::from_secs(5), || async {
        app.count(
            "SELECT COUNT(*) FROM progress_outbox WHERE installation_id = $1",
            &c.app.installation_id,
        )
        .await
            == 0
    })
    .await
    .expect("the outbox is empty once written");
    // The worker wrote, with no request behind it, with the token the trigger delivered.
    let last = jira
        .calls()
        .into_iter()
        .rev()
        .find(|c| c.status == 200)
        .unwrap();
    assert_eq!(last.bearer, hourly);
}

#[tokio::test]
async fn a_429s_retry_after_is_honoured() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let c = panel(&jira);
    jira.script(&[(429, Some(2))]);
    let change = app.create(&c, "Slow down").await;
    assert!(change.notice.unwrap().contains("429"));
    // A new change does not send before Retry-After ends either.
    app.create(&c, "And another").await;
    eventually(Duration::from_secs(10), || async {
        jira.property("10001") == Some(json!({ "done": 0, "total": 2 }))
    })
    .await
    .expect("written after Retry-After");
    let puts: Vec<_> = jira
        .calls()
        .into_iter()
        .filter(|c| c.method == "PUT")
        .collect();
    assert_eq!(puts[0].status, 429);
    let waited = puts[1].at - puts[0].at;
    assert!(
        waited >= Duration::from_millis(1900),
        "retried after {waited:?}"
    );
    assert_eq!(
        puts.iter().filter(|c| c.status == 200).count(),
        1,
        "{puts:?}"
    );
}

#[tokio::test]
async fn two_concurrent_changes_end_with_the_last_state() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let c = panel(&jira);
    let task = app.create(&c, "Race").await.task;
    // The first write is slow: the second change commits while it is in flight, with the
    // older state, and finds the row leased.
    jira.slow_next(Duration::from_millis(800));
    let arrived = jira.arrived();
    let (a, b) = tokio::join!(
        app.patch(&c, &task.id, None, json!({ "done": true })),
        async {
            // Once the patch's (slow) write is in flight, its change has committed.
            eventually(Duration::from_secs(5), || async {
                jira.arrived() > arrived
            })
            .await
            .expect("the patch's write arrived");
            app.create(&c, "Second").await
        }
    );
    assert_eq!(a.status(), StatusCode::OK);
    assert_eq!((b.progress.done, b.progress.total), (1, 2));
    eventually(Duration::from_secs(10), || async {
        jira.property("10001") == Some(json!({ "done": 1, "total": 2 }))
            && app
                .count(
                    "SELECT COUNT(*) FROM progress_outbox WHERE installation_id = $1",
                    &c.app.installation_id,
                )
                .await
                == 0
    })
    .await
    .expect("the last state wins");
}

#[tokio::test]
async fn two_replicas_on_one_database_write_each_outbox_row_once() {
    let jira = JiraStub::start().await;
    let first = spawn_app().await;
    let url = first.database_url.clone();
    let second = spawn_app_with(|s| s.database_url = url).await;
    jira.set_down(true);
    let issues: Vec<String> = (0..12).map(|i| format!("2{i:04}")).collect();
    for (n, issue) in issues.iter().enumerate() {
        let mut c = panel(&jira);
        if let Some(forge_fit::ExtensionClaims::IssuePanel { issue: i, .. }) =
            c.context.as_mut().and_then(|ctx| ctx.extension.as_mut())
        {
            i.id = issue.clone();
        }
        let app = if n % 2 == 0 { &first } else { &second };
        app.create(&c, "Replicated").await;
    }
    jira.set_down(false);
    eventually(Duration::from_secs(20), || async {
        issues.iter().all(|i| jira.property(i).is_some())
    })
    .await
    .expect("every issue written");
    // Let both workers run a few more passes: a second write would show now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for issue in &issues {
        assert_eq!(jira.accepted_writes(issue), 1, "issue {issue}");
    }
}
