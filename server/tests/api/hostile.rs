//! Hostile input the remote must survive with a clear JSON answer and no lost data: full lists,
//! a user's request loop, control characters in every position, malformed bytes.

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{assert_json_error, claims, spawn_app, spawn_app_with, TestApp, KEY};

fn macro_claims(team: &str) -> forge_fit::FitClaims {
    forge_fit::mint::macro_claims(crate::helpers::APP_ID, forge_fit::mint::now(), team)
}

async fn post(app: &TestApp, token: &str, body: serde_json::Value) -> reqwest::Response {
    app.client
        .post(app.url("/tasks"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_full_list_refuses_the_next_task_and_keeps_what_it_has() {
    let app = spawn_app_with(|s| s.tasks_per_list_max = 3).await;
    let token = KEY.sign(&macro_claims("Forge"));
    for i in 0..3 {
        let created = post(&app, &token, json!({ "title": format!("Task {i}") })).await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    let refused = post(&app, &token, json!({ "title": "One too many" })).await;
    let error = assert_json_error(refused, StatusCode::CONFLICT).await;
    assert_eq!(error.code, "list_full");
    assert!(error.message.contains("at most 3"), "{}", error.message);

    let list: app::tasks::TaskList = app
        .client
        .get(app.url("/tasks"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.tasks.len(), 3);
    // Another list of the same site still has room.
    let other = KEY.sign(&macro_claims("Platform"));
    assert_eq!(
        post(&app, &other, json!({ "title": "Elsewhere" }))
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn concurrent_adds_never_overfill_a_list() {
    let app = spawn_app_with(|s| s.tasks_per_list_max = 5).await;
    let token = KEY.sign(&macro_claims("Forge"));
    let adds = (0..20).map(|i| post(&app, &token, json!({ "title": format!("Race {i}") })));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(adds)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 5, "{statuses:?}");
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT));
}

#[tokio::test]
async fn one_user_over_the_rate_limit_gets_429_while_another_is_served() {
    let app = spawn_app_with(|s| {
        s.rate_limit_per_second = 1;
        s.rate_limit_burst = 5;
    })
    .await;
    let alice = KEY.sign(&claims());
    let mut bob_claims = claims();
    bob_claims.principal = Some("712020:bob".into());
    let bob = KEY.sign(&bob_claims);

    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.get_whoami(&alice).await);
    }
    let ok = statuses
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    assert_eq!(ok, 5, "the burst, then refusals");
    let refused = statuses.pop().unwrap();
    let retry_after: u64 = refused
        .headers()
        .get("retry-after")
        .expect("Retry-After on a 429")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let error = assert_json_error(refused, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(error.code, "rate_limited");

    assert_eq!(
        app.get_whoami(&bob).await.status(),
        StatusCode::OK,
        "bob is unaffected"
    );
    // The same user on another site is another user.
    let mut elsewhere = claims();
    elsewhere.app.installation_id = "ari:cloud:ecosystem::installation/elsewhere".into();
    assert_eq!(
        app.get_whoami(&KEY.sign(&elsewhere)).await.status(),
        StatusCode::OK
    );
    // A forged token is refused before it can spend anyone's budget.
    assert_eq!(
        app.get_whoami("junk.junk.junk").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn control_characters_get_422_and_a_nul_in_a_task_id_is_404() {
    let app = spawn_app().await;
    let token = KEY.sign(&macro_claims("Forge"));
    let unconfigured = {
        let mut c = macro_claims("Forge");
        if let Some(forge_fit::ExtensionClaims::Macro { config, .. }) =
            c.context.as_mut().and_then(|ctx| ctx.extension.as_mut())
        {
            *config = None;
        }
        KEY.sign(&c)
    };
    let before = post(&app, &token, json!({ "title": "Survivor" })).await;
    assert_eq!(before.status(), StatusCode::CREATED);
    let task: app::tasks::TaskChange = before.json().await.unwrap();

    for title in ["nul\u{0}here", "new\nline", "bell\u{7}"] {
        let r = post(&app, &token, json!({ "title": title })).await;
        assert_json_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        let r = app
            .client
            .patch(app.url("/task"))
            .bearer_auth(&token)
            .json(&json!({ "id": task.task.id, "title": title }))
            .send()
            .await
            .unwrap();
        assert_json_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // In a team: the body's and the query's.
    let r = post(
        &app,
        &unconfigured,
        json!({ "title": "x", "team": "Fo\u{0}rge" }),
    )
    .await;
    assert_json_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = app
        .client
        .get(app.url("/tasks?team=Fo%00rge"))
        .bearer_auth(&unconfigured)
        .send()
        .await
        .unwrap();
    assert_json_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    // In a task id, for changing (the body's) and deleting (the query's).
    for id in ["a\u{0}b", "\u{0}", &format!("{}\u{0}", task.task.id)] {
        let r = app
            .client
            .patch(app.url("/task"))
            .bearer_auth(&token)
            .json(&json!({ "id": id, "done": true }))
            .send()
            .await
            .unwrap();
        assert_json_error(r, StatusCode::NOT_FOUND).await;
        let r = app
            .client
            .delete(app.url("/task"))
            .query(&[("id", id)])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_json_error(r, StatusCode::NOT_FOUND).await;
    }
    // Nothing was lost or changed.
    let list: app::tasks::TaskList = app
        .client
        .get(app.url("/tasks"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.tasks.len(), 1);
    assert_eq!(list.tasks[0].title, "Survivor");
    assert!(!list.tasks[0].done);
}

/// Sends raw bytes and returns the status line of the answer.
async fn raw_status(app: &TestApp, request: &[u8]) -> String {
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn malformed_bytes_in_headers_and_paths_are_never_a_500() {
    let app = spawn_app().await;
    let token = KEY.sign(&claims());
    for request in [
        format!("GET /whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nx-b3-traceid: a\0b\r\nConnection: close\r\n\r\n").into_bytes(),
        b"GET /tasks/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        format!("GET /whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x01{token}\r\nConnection: close\r\n\r\n").into_bytes(),
        format!("GET /tasks?team=%ff%fe HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").into_bytes(),
        [
            format!("POST /tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 13\r\nConnection: close\r\n\r\n").into_bytes(),
            b"{\"title\":\"\xff\"}".to_vec(),
        ]
        .concat(),
    ] {
        let status = raw_status(&app, &request).await;
        // An answer (a 2xx where the bad part is ignored, as `team` in an issue panel), never a 5xx.
        assert!(
            status.starts_with("HTTP/1.1 ") && !status.starts_with("HTTP/1.1 5"), "{status:?} for {:?}", String::from_utf8_lossy(&request));
    }
}
