//! Team Tasks' REST API against the running remote, a real database (SQLite, or PostgreSQL
//! with `TEST_DATABASE_URL`) and a Jira stand-in at the token's `apiBaseUrl`.

use std::sync::{Arc, Mutex};

use app::tasks::{IssueHeader, Task, TaskChange, TaskList, TaskRemoved};
use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode as AxumStatus},
    routing::{get, put},
    Json, Router,
};
use forge_fit::{mint, ExtensionClaims, FitClaims};
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::db::tasks::ScopeKey;
use tokio::net::TcpListener;

use crate::helpers::{assert_json_error, claims, spawn_app, TestApp, APP_ID, KEY};

pub(crate) const SYSTEM_TOKEN: &str = "system-token-for-tests";
const USER_TOKEN: &str = "user-token-for-tests";

/// What the Jira stand-in saw: method, path, the bearer token and the body; for a property
/// write also its answer's status and when it came.
#[derive(Clone, Debug)]
pub(crate) struct JiraCall {
    pub method: &'static str,
    pub path: String,
    pub bearer: String,
    pub body: Option<Value>,
    pub status: u16,
    pub at: std::time::Instant,
}

/// A scripted answer to a property write: status and `Retry-After` seconds.
type Answer = (u16, Option<u64>);

#[derive(Clone, Default)]
struct JiraState {
    calls: Arc<Mutex<Vec<JiraCall>>>,
    down: Arc<Mutex<bool>>,
    /// Answers for the next property writes, before `down` is looked at: `(status, Retry-After)`.
    scripted: Arc<Mutex<std::collections::VecDeque<Answer>>>,
    /// The next property write answers only after this long.
    slow_next: Arc<Mutex<Option<std::time::Duration>>>,
    /// Property writes that have arrived, answered or not.
    arrived: Arc<std::sync::atomic::AtomicUsize>,
    /// Each issue's `tasks-progress` as Jira holds it: the last write that answered 200.
    properties: Arc<Mutex<std::collections::HashMap<String, Value>>>,
}

pub(crate) struct JiraStub {
    /// `http://127.0.0.1:<port>/ex/jira/<the test tokens' cloud id>`: what Forge's `apiBaseUrl` is
    /// to Atlassian's API host.
    pub url: String,
    /// `127.0.0.1:<port>`.
    authority: String,
    state: JiraState,
}

impl JiraStub {
    pub(crate) async fn start() -> Self {
        fn bearer(headers: &HeaderMap) -> String {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default()
                .to_owned()
        }
        async fn issue(
            State(s): State<JiraState>,
            Path((_product, _cloud, id)): Path<(String, String, String)>,
            headers: HeaderMap,
        ) -> (AxumStatus, Json<Value>) {
            s.calls.lock().unwrap().push(JiraCall {
                method: "GET",
                path: format!("/rest/api/3/issue/{id}"),
                bearer: bearer(&headers),
                body: None,
                status: 0,
                at: std::time::Instant::now(),
            });
            if *s.down.lock().unwrap() {
                return (AxumStatus::SERVICE_UNAVAILABLE, Json(json!({})));
            }
            let body = json!({"id": id, "key": "KAN-1", "fields": {"summary": "Fix the thing", "status": {"name": "In Progress"}}});
            (AxumStatus::OK, Json(body))
        }
        async fn property(
            State(s): State<JiraState>,
            Path((_product, _cloud, id, key)): Path<(String, String, String, String)>,
            headers: HeaderMap,
            Json(body): Json<Value>,
        ) -> axum::response::Response {
            use axum::response::IntoResponse;
            let at = std::time::Instant::now();
            s.arrived.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let slow = s.slow_next.lock().unwrap().take();
            if let Some(delay) = slow {
                tokio::time::sleep(delay).await;
            }
            let scripted = s.scripted.lock().unwrap().pop_front();
            let (status, retry_after) = match scripted {
                Some(answer) => answer,
                None if *s.down.lock().unwrap() => (503, None),
                None => (200, None),
            };
            if status == 200 {
                s.properties
                    .lock()
                    .unwrap()
                    .insert(id.clone(), body.clone());
            }
            s.calls.lock().unwrap().push(JiraCall {
                method: "PUT",
                path: format!("/rest/api/3/issue/{id}/properties/{key}"),
                bearer: bearer(&headers),
                body: Some(body),
                status,
                at,
            });
            let status = AxumStatus::from_u16(status).unwrap();
            match retry_after {
                Some(secs) => (status, [("retry-after", secs.to_string())]).into_response(),
                None => status.into_response(),
            }
        }
        let state = JiraState::default();
        let router = Router::new()
            // Any product and cloud id: the remote, not the stand-in, must refuse wrong ones.
            .route("/ex/{product}/{cloud}/rest/api/3/issue/{id}", get(issue))
            .route(
                "/ex/{product}/{cloud}/rest/api/3/issue/{id}/properties/{key}",
                put(property),
            )
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        let cloud_id = claims().context.unwrap().cloud_id;
        let url = format!("http://{authority}/ex/jira/{cloud_id}");
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            url,
            authority,
            state,
        }
    }

    pub(crate) fn calls(&self) -> Vec<JiraCall> {
        self.state.calls.lock().unwrap().clone()
    }

    pub(crate) fn set_down(&self, down: bool) {
        *self.state.down.lock().unwrap() = down;
    }

    /// The next property writes answer these, in order: `(status, Retry-After seconds)`.
    pub(crate) fn script(&self, answers: &[Answer]) {
        self.state.scripted.lock().unwrap().extend(answers);
    }

    /// The next property write answers after `delay`.
    pub(crate) fn slow_next(&self, delay: std::time::Duration) {
        *self.state.slow_next.lock().unwrap() = Some(delay);
    }

    /// Property writes that have arrived so far, answered or not.
    pub(crate) fn arrived(&self) -> usize {
        self.state.arrived.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// `tasks-progress` of `issue` as Jira holds it.
    pub(crate) fn property(&self, issue: &str) -> Option<Value> {
        self.state.properties.lock().unwrap().get(issue).cloned()
    }

    /// Property writes that Jira took (200), per issue.
    pub(crate) fn accepted_writes(&self, issue: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| {
                c.method == "PUT" && c.status == 200 && c.path.contains(&format!("/issue/{issue}/"))
            })
            .count()
    }
}

/// Issue-panel claims whose `apiBaseUrl` is the stand-in.
pub(crate) fn panel(jira: &JiraStub) -> FitClaims {
    let mut c = claims();
    c.app.api_base_url = jira.url.clone();
    c
}

/// Macro claims (`forge_fit::mint::macro_claims`) whose `apiBaseUrl` is the stand-in, with
/// `config.team` or no config at all.
fn macro_claims(jira: &JiraStub, team: Option<&str>) -> FitClaims {
    let mut c = mint::macro_claims(APP_ID, mint::now(), team.unwrap_or_default());
    c.app.api_base_url = jira.url.clone();
    if team.is_none() {
        if let Some(ExtensionClaims::Macro { config, .. }) =
            c.context.as_mut().and_then(|ctx| ctx.extension.as_mut())
        {
            *config = None;
        }
    }
    c
}

/// The list's titles, in order.
fn titles(list: &TaskList) -> Vec<&str> {
    list.tasks.iter().map(|t| t.title.as_str()).collect()
}

/// `DELETE /task`'s path and query for task `id` (in `team`'s list).
fn delete_path(id: &str, team: Option<&str>) -> String {
    let mut url = reqwest::Url::parse("http://remote/task").unwrap();
    url.query_pairs_mut().append_pair("id", id);
    if let Some(team) = team {
        url.query_pairs_mut().append_pair("team", team);
    }
    format!("{}?{}", url.path(), url.query().unwrap())
}

/// `PATCH /task`'s body: `fields` with the task's `id` (and the list's `team`).
fn patch_body(id: &str, team: Option<&str>, mut fields: Value) -> Value {
    fields["id"] = id.into();
    if let Some(team) = team {
        fields["team"] = team.into();
    }
    fields
}

pub(crate) fn other_installation(mut c: FitClaims) -> FitClaims {
    c.app.installation_id = "ari:cloud:ecosystem::installation/00000000-other-tenant".into();
    c
}

impl TestApp {
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        claims: &FitClaims,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(KEY.sign(claims))
            .header("x-forge-oauth-system", SYSTEM_TOKEN)
            .header("x-forge-oauth-user", USER_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("Failed to send the request")
    }

    /// `PATCH /task`: changes `fields` of task `id`.
    pub(crate) async fn patch(
        &self,
        claims: &FitClaims,
        id: &str,
        team: Option<&str>,
        fields: Value,
    ) -> reqwest::Response {
        let body = patch_body(id, team, fields);
        self.send(reqwest::Method::PATCH, "/task", claims, Some(body))
            .await
    }

    /// `DELETE /task?id=`.
    pub(crate) async fn delete(
        &self,
        claims: &FitClaims,
        id: &str,
        team: Option<&str>,
    ) -> reqwest::Response {
        self.send(
            reqwest::Method::DELETE,
            &delete_path(id, team),
            claims,
            None,
        )
        .await
    }

    pub(crate) async fn list(&self, path: &str, claims: &FitClaims) -> TaskList {
        let response = self.send(reqwest::Method::GET, path, claims, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub(crate) async fn create(&self, claims: &FitClaims, title: &str) -> TaskChange {
        let response = self
            .send(
                reqwest::Method::POST,
                "/tasks",
                claims,
                Some(json!({ "title": title })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// Every task in the database, whatever its tenant: to prove a request changed nothing.
    pub(crate) async fn all_rows(&self) -> Vec<(String, String, bool)> {
        use sqlx::Row;
        sqlx::query("SELECT id, title, CAST(CASE WHEN done THEN 1 ELSE 0 END AS BIGINT) AS done FROM tasks ORDER BY id")
            .fetch_all(self.db.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("id"), r.get("title"), r.get::<i64, _>("done") != 0))
            .collect()
    }
}

#[tokio::test]
async fn an_issue_panel_creates_lists_updates_and_deletes_its_tasks() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let c = panel(&jira);

    let first = app.create(&c, "  Write the tests  ").await;
    assert_eq!(first.task.title, "Write the tests", "titles are trimmed");
    assert_eq!(first.task.created_by, c.principal.clone().unwrap());
    assert!(!first.task.done);
    assert_eq!((first.progress.done, first.progress.total), (0, 1));
    assert_eq!(first.notice, None);
    let second = app.create(&c, "Ship it").await;

    let list = app.list("/tasks", &c).await;
    assert_eq!(titles(&list), ["Write the tests", "Ship it"]);
    assert_eq!(
        list.scope,
        app::tasks::Scope::Issue {
            issue_id: "10001".into()
        }
    );

    let response = app
        .patch(&c, &first.task.id, None, json!({ "done": true }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let toggled: TaskChange = response.json().await.unwrap();
    assert!(toggled.task.done);
    assert_eq!(toggled.task.title, "Write the tests");
    assert_eq!((toggled.progress.done, toggled.progress.total), (1, 2));

    let response = app
        .patch(
            &c,
            &second.task.id,
            None,
            json!({ "title": "Ship it today" }),
        )
        .await;
    let renamed: TaskChange = response.json().await.unwrap();
    assert_eq!(
        (renamed.task.title.as_str(), renamed.task.done),
        ("Ship it today", false)
    );

    let response = app.delete(&c, &first.task.id, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let removed: TaskRemoved = response.json().await.unwrap();
    assert_eq!((removed.progress.done, removed.progress.total), (0, 1));
    assert_eq!(removed.notice, None);
    let list = app.list("/tasks/", &c).await;
    assert_eq!(
        list.tasks.iter().map(|t| &t.id).collect::<Vec<_>>(),
        [&second.task.id]
    );
    assert_eq!((list.progress.done, list.progress.total), (0, 1));
}

#[tokio::test]
async fn every_change_writes_progress_to_the_issue_with_the_system_token() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let c = panel(&jira);

    let task = app.create(&c, "One").await.task;
    app.patch(&c, &task.id, None, json!({ "done": true })).await;
    app.delete(&c, &task.id, None).await;

    let writes: Vec<_> = jira
        .calls()
        .into_iter()
        .filter(|c| c.method == "PUT")
        .collect();
    assert_eq!(writes.len(), 3, "{writes:?}");
    for w in &writes {
        assert_eq!(w.path, "/rest/api/3/issue/10001/properties/tasks-progress");
        assert_eq!(w.bearer, SYSTEM_TOKEN, "the property is written as the app");
    }
    let values: Vec<_> = writes.iter().map(|w| w.body.clone().unwrap()).collect();
    assert_eq!(
        values,
        [
            json!({"done": 0, "total": 1}),
            json!({"done": 1, "total": 1}),
            json!({"done": 0, "total": 0})
        ]
    );
}

#[tokio::test]
async fn the_issue_header_is_read_from_jira_with_the_user_token() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;

    let response = app
        .send(reqwest::Method::GET, "/issue", &panel(&jira), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let header: IssueHeader = response.json().await.unwrap();
    let issue = header.issue.expect("the issue");
    assert_eq!(
        (
            issue.key.as_str(),
            issue.summary.as_str(),
            issue.status.as_str()
        ),
        ("KAN-1", "Fix the thing", "In Progress")
    );
    let reads: Vec<_> = jira
        .calls()
        .into_iter()
        .filter(|c| c.method == "GET")
        .collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(
        reads[0].bearer, USER_TOKEN,
        "the header is read as the user"
    );
    assert_eq!(reads[0].path, "/rest/api/3/issue/10001");
}

#[tokio::test]
async fn when_jira_is_down_tasks_still_work_and_a_notice_says_so() {
    let jira = JiraStub::start().await;
    jira.set_down(true);
    let app = spawn_app().await;
    let c = panel(&jira);

    let change = app.create(&c, "Still saved").await;
    let notice = change.notice.expect("a notice about Jira");
    assert!(notice.contains("Jira"), "{notice}");
    assert_eq!(app.list("/tasks", &c).await.tasks.len(), 1);

    let header: IssueHeader = app
        .send(reqwest::Method::GET, "/issue", &c, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(header.issue.is_none());
    assert!(header.notice.unwrap().contains("503"));
}

#[tokio::test]
async fn without_forwarded_tokens_writes_still_succeed_with_a_notice() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/tasks"))
        .bearer_auth(KEY.sign(&panel(&jira)))
        .json(&json!({ "title": "No tokens" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let change: TaskChange = response.json().await.unwrap();
    assert!(change.notice.unwrap().contains("system token"));
    assert!(jira.calls().is_empty(), "no token, no call");
}

#[tokio::test]
async fn invalid_titles_are_refused_and_nothing_is_stored() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let c = panel(&jira);
    let existing = app.create(&c, "Keep me").await.task;
    let before = app.all_rows().await;

    for (body, what) in [
        (json!({ "title": "" }), "an empty title"),
        (json!({ "title": "   \n " }), "a blank title"),
        (json!({ "title": "x".repeat(501) }), "a 501-character title"),
    ] {
        let response = app
            .send(reqwest::Method::POST, "/tasks", &c, Some(body.clone()))
            .await;
        assert_json_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        let response = app.patch(&c, &existing.id, None, body).await;
        assert_json_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(app.all_rows().await, before, "{what} changed the database");
    }
}

#[tokio::test]
async fn malformed_requests_get_json_errors_and_change_nothing() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let c = panel(&jira);
    let existing = app.create(&c, "Keep me").await.task;
    let before = app.all_rows().await;
    let token = KEY.sign(&c);

    let id = &existing.id;
    let cases: Vec<(reqwest::Method, String, String, StatusCode, &str)> = vec![
        (
            reqwest::Method::POST,
            "/tasks".into(),
            "{not json".into(),
            StatusCode::BAD_REQUEST,
            "broken JSON",
        ),
        (
            reqwest::Method::POST,
            "/tasks".into(),
            r#"{"title":42}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a mistyped field",
        ),
        (
            reqwest::Method::POST,
            "/tasks".into(),
            "{}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a missing title",
        ),
        (
            reqwest::Method::PATCH,
            "/task".into(),
            format!(r#"{{"id":"{id}","done":"yes"}}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a mistyped done",
        ),
        (
            reqwest::Method::PATCH,
            "/task".into(),
            r#"{"done":true}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a patch without an id",
        ),
        (
            reqwest::Method::PATCH,
            "/task".into(),
            format!(r#"{{"id":"{id}","installationId":"x"}}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a patch of nothing but an unknown field",
        ),
        (
            reqwest::Method::PATCH,
            "/task".into(),
            format!(r#"{{"id":"{id}"}}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "an empty patch",
        ),
        (
            reqwest::Method::PATCH,
            "/task".into(),
            format!(r#"{{"id":"{id}""#),
            StatusCode::BAD_REQUEST,
            "a truncated patch",
        ),
        (
            reqwest::Method::DELETE,
            "/task".into(),
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a delete without an id",
        ),
    ];
    for (method, path, body, status, what) in cases {
        let response = app
            .client
            .request(method, app.url(&path))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{what}");
        assert_json_error(response, status).await;
        assert_eq!(app.all_rows().await, before, "{what} changed the database");
    }
}

/// Server functions' arguments ignore unknown fields (serde's default; the `#[server]` macro
/// has no way to deny them). What matters is that none of them can stand in for the token.
#[tokio::test]
async fn unknown_fields_are_ignored_and_never_override_the_token() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let c = panel(&jira);
    let response = app
        .send(
            reqwest::Method::POST,
            "/tasks",
            &c,
            Some(json!({
                "title": "Mine",
                "createdBy": "someone-else",
                "installationId": "ari:cloud:ecosystem::installation/other",
                "issueId": "10002",
            })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let change: TaskChange = response.json().await.unwrap();
    assert_eq!(change.task.created_by, c.principal.clone().unwrap());
    assert_eq!(titles(&app.list("/tasks", &c).await), ["Mine"]);
    assert!(app
        .list("/tasks", &other_installation(panel(&jira)))
        .await
        .tasks
        .is_empty());
}

#[tokio::test]
async fn another_installation_can_neither_see_nor_change_a_task() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let mine = panel(&jira);
    let theirs = other_installation(panel(&jira));
    let task = app.create(&mine, "Private").await.task;
    let before = app.all_rows().await;

    assert!(
        app.list("/tasks", &theirs).await.tasks.is_empty(),
        "same issue id, other tenant"
    );
    let response = app
        .patch(&theirs, &task.id, None, json!({ "title": "Mine now" }))
        .await;
    assert_json_error(response, StatusCode::NOT_FOUND).await;
    let response = app.delete(&theirs, &task.id, None).await;
    assert_json_error(response, StatusCode::NOT_FOUND).await;
    assert_eq!(app.all_rows().await, before);
}

#[tokio::test]
async fn an_issue_panel_reaches_only_its_own_issues_tasks() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let here = panel(&jira);
    let mut elsewhere = panel(&jira);
    if let Some(ExtensionClaims::IssuePanel { issue, .. }) =
        elsewhere.context.as_mut().unwrap().extension.as_mut()
    {
        issue.id = "10002".into();
    }
    let task = app.create(&here, "On 10001").await.task;

    assert!(app.list("/tasks", &elsewhere).await.tasks.is_empty());
    let response = app
        .patch(&elsewhere, &task.id, None, json!({ "done": true }))
        .await;
    assert_json_error(response, StatusCode::NOT_FOUND).await;
    // The macro cannot reach an issue's tasks either.
    let response = app
        .delete(&macro_claims(&jira, Some("Forge")), &task.id, None)
        .await;
    assert_json_error(response, StatusCode::NOT_FOUND).await;
    assert_eq!(
        app.db
            .list_tasks(
                &here.app.installation_id,
                &ScopeKey::Issue("10001".into()),
                1000
            )
            .await
            .unwrap()
            .len(),
        1
    );
}

/// `claims` as seen from a macro in another Confluence space of the same site.
fn in_space(mut c: FitClaims, space_id: &str, space_key: &str) -> FitClaims {
    if let Some(ExtensionClaims::Macro { space, .. }) =
        c.context.as_mut().and_then(|ctx| ctx.extension.as_mut())
    {
        *space = Some(forge_fit::SpaceClaims {
            id: Some(space_id.into()),
            key: space_key.into(),
        });
    }
    c
}

#[tokio::test]
async fn a_macro_set_to_a_team_reaches_that_team_and_no_other() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let forge = macro_claims(&jira, Some("Forge"));
    let task = app.create(&forge, "Default team task").await.task;
    let before = app.all_rows().await;

    let list = app.list("/tasks", &forge).await;
    assert_eq!(
        list.scope,
        app::tasks::Scope::Team {
            team: "Forge".into()
        }
    );
    assert_eq!(titles(&list), ["Default team task"]);
    // Naming its own team is fine; naming another is refused, and changes nothing.
    assert_eq!(
        titles(&app.list("/tasks/?team=Forge", &forge).await),
        ["Default team task"]
    );
    for (method, path, body) in [
        (
            reqwest::Method::GET,
            "/tasks/?team=Platform".to_owned(),
            None,
        ),
        (reqwest::Method::GET, "/tasks?team=forge".to_owned(), None),
        (
            reqwest::Method::POST,
            "/tasks".to_owned(),
            Some(json!({ "title": "Planted", "team": "Platform" })),
        ),
        (
            reqwest::Method::PATCH,
            "/task".to_owned(),
            Some(patch_body(
                &task.id,
                Some("Platform"),
                json!({ "done": true }),
            )),
        ),
        (
            reqwest::Method::DELETE,
            delete_path(&task.id, Some("Platform")),
            None,
        ),
    ] {
        let response = app.send(method.clone(), &path, &forge, body).await;
        let error = assert_json_error(response, StatusCode::FORBIDDEN).await;
        assert!(
            error.message.contains("Forge"),
            "{method} {path}: {}",
            error.message
        );
    }
    assert_eq!(app.all_rows().await, before);
    assert!(jira.calls().is_empty(), "team lists touch no issue");
}

#[tokio::test]
async fn a_macro_without_a_team_chooses_one_by_query_or_body() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let unconfigured = macro_claims(&jira, None);

    let response = app
        .send(reqwest::Method::GET, "/tasks", &unconfigured, None)
        .await;
    assert_json_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let created = app
        .send(
            reqwest::Method::POST,
            "/tasks",
            &unconfigured,
            Some(json!({ "title": "Plan", "team": "Platform" })),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let task: TaskChange = created.json().await.unwrap();
    assert_eq!(
        titles(&app.list("/tasks/?team=Platform", &unconfigured).await),
        ["Plan"]
    );
    // A macro set to that team in the same space sees the same list.
    assert_eq!(
        titles(
            &app.list("/tasks", &macro_claims(&jira, Some("Platform")))
                .await
        ),
        ["Plan"]
    );
    // Changing a task needs its list named too.
    let response = app
        .patch(
            &unconfigured,
            &task.task.id,
            Some("Platform"),
            json!({ "done": true }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .delete(&unconfigured, &task.task.id, Some("Other"))
        .await;
    assert_json_error(response, StatusCode::NOT_FOUND).await;
    assert_eq!(app.all_rows().await.len(), 1);
}

#[tokio::test]
async fn the_same_team_in_another_space_is_another_list() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let eng = macro_claims(&jira, Some("Forge"));
    let ops = in_space(macro_claims(&jira, Some("Forge")), "196609", "OPS");
    let task = app.create(&eng, "ENG's task").await.task;
    let before = app.all_rows().await;

    assert!(app.list("/tasks", &ops).await.tasks.is_empty());
    let response = app
        .patch(&ops, &task.id, None, json!({ "title": "OPS was here" }))
        .await;
    assert_json_error(response, StatusCode::NOT_FOUND).await;
    let response = app.delete(&ops, &task.id, None).await;
    assert_json_error(response, StatusCode::NOT_FOUND).await;
    assert_eq!(app.all_rows().await, before);

    app.create(&ops, "OPS's task").await;
    assert_eq!(titles(&app.list("/tasks", &eng).await), ["ENG's task"]);
    assert_eq!(titles(&app.list("/tasks", &ops).await), ["OPS's task"]);
}

#[tokio::test]
async fn a_macro_set_to_another_team_cannot_change_a_task() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let forge = macro_claims(&jira, Some("Forge"));
    let platform = macro_claims(&jira, Some("Platform"));
    let task = app.create(&forge, "Forge's task").await.task;
    let before = app.all_rows().await;
    let response = app
        .patch(&platform, &task.id, None, json!({ "done": true }))
        .await;
    assert_json_error(response, StatusCode::NOT_FOUND).await;
    let response = app.delete(&platform, &task.id, None).await;
    assert_json_error(response, StatusCode::NOT_FOUND).await;
    assert_eq!(app.all_rows().await, before);
}

#[tokio::test]
async fn every_write_needs_a_user() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let user = panel(&jira);
    let task = app.create(&user, "Mine").await.task;
    let writes_before = jira.calls().len();
    let before = app.all_rows().await;
    for c in [panel(&jira), macro_claims(&jira, Some("Forge"))] {
        let mut nobody = c;
        nobody.principal = None;
        for (method, path, body) in [
            (
                reqwest::Method::POST,
                "/tasks".to_owned(),
                Some(json!({ "title": "Anon" })),
            ),
            (
                reqwest::Method::PATCH,
                "/task".to_owned(),
                Some(patch_body(&task.id, None, json!({ "done": true }))),
            ),
            (reqwest::Method::DELETE, delete_path(&task.id, None), None),
        ] {
            let response = app.send(method.clone(), &path, &nobody, body).await;
            assert_json_error(response, StatusCode::FORBIDDEN).await;
        }
        // Reading needs no user.
        let response = app
            .send(reqwest::Method::GET, "/tasks", &nobody, None)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(app.all_rows().await, before);
    assert_eq!(
        jira.calls().len(),
        writes_before,
        "nothing written to Jira on nobody's behalf"
    );
}

#[tokio::test]
async fn oauth_tokens_go_only_to_atlassians_api_host_for_the_tokens_own_site() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let cloud = claims().context.unwrap().cloud_id;
    let port = jira.authority.rsplit_once(':').unwrap().1.to_owned();

    // What an outage looks like: the allowed host, nothing listening.
    let mut unreachable = panel(&jira);
    unreachable.app.api_base_url = format!("http://127.0.0.1:1/ex/jira/{cloud}");
    let outage = app.create(&unreachable, "During an outage").await.notice;
    assert!(outage.is_some());

    for (api_base_url, what) in [
        // A host not in FORGE_API_HOSTS (the tests allow 127.0.0.1), though the stand-in is there.
        (
            format!("http://localhost:{port}/ex/jira/{cloud}"),
            "a foreign host",
        ),
        // The allowed host, but another site's cloud id.
        (
            format!("http://{}/ex/jira/another-cloud-id", jira.authority),
            "another cloud id",
        ),
    ] {
        let mut c = panel(&jira);
        c.app.api_base_url = api_base_url;
        let change = app.create(&c, "Stays here").await;
        assert_eq!(change.notice, outage, "{what}: same notice as an outage");
        let header: IssueHeader = app
            .send(reqwest::Method::GET, "/issue", &c, None)
            .await
            .json()
            .await
            .unwrap();
        assert!(header.issue.is_none(), "{what}");
        assert!(header.notice.is_some(), "{what}");
    }
    assert!(jira.calls().is_empty(), "no request left with a token");

    // The same stand-in under the right name gets the calls.
    app.create(&panel(&jira), "Goes through").await;
    assert_eq!(jira.calls().len(), 1);
}

#[tokio::test]
async fn a_module_without_a_task_list_is_forbidden() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let mut trigger = panel(&jira);
    trigger.context = None;
    let response = app
        .send(reqwest::Method::GET, "/tasks", &trigger, None)
        .await;
    assert_json_error(response, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_task_from_the_list_decodes_into_the_shared_type() {
    let jira = JiraStub::start().await;
    let app = spawn_app().await;
    let c = panel(&jira);
    app.create(&c, "Typed").await;
    let raw: Value = app
        .send(reqwest::Method::GET, "/tasks", &c, None)
        .await
        .json()
        .await
        .unwrap();
    let task: Task = serde_json::from_value(raw["tasks"][0].clone()).unwrap();
    assert_eq!(task.title, "Typed");
    assert!(
        raw["tasks"][0]["createdAt"].is_i64(),
        "camelCase timestamps: {raw}"
    );
}
