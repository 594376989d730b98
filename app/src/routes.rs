//! The remote's operations, each defined once: method, path, body, response, error and how the
//! panel reaches it.
//!
//! The server registers its routes with these constants (`.route(Healthz::PATH, get(..))`) and
//! its handlers return `Json<<Op as Operation>::Response>`; the panel calls the same operation
//! with [`crate::bridge::RemoteClient::call`]. Change a type here and both sides must follow, or
//! they stop compiling. `server/tests/contract.rs` checks what the compiler cannot: that the
//! router really answers each `METHOD` + `PATH`, with JSON that decodes into `Response`.
//!
//! Adding an operation: a type (the request: path parameters, query and body), an
//! `impl Operation`, a line in [`ALL`], a route on the server, a case in the contract test.
//!
//! [`UpdateTask`] is the full example: a path parameter, a body, `invokeRemote`. On the server:
//!
//! ```ignore
//! .route(UpdateTask::PATH, patch(update))
//! async fn update(Path(id): Path<String>, Json(patch): Json<<UpdateTask as Operation>::Body>)
//!     -> Result<Json<<UpdateTask as Operation>::Response>, ApiError>
//! ```
//!
//! and in the panel: `client.call(&UpdateTask { id, patch }).await`.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::{
    api::{ErrorBody, Health, WhoAmI},
    tasks::{IssueHeader, NewTask, TaskChange, TaskList, TaskPatch},
};

/// `remotes[].key` of the remote in manifest.yml: what `requestRemote` addresses.
/// (`invokeRemote` goes through the module's `resolver.endpoint` instead.)
pub const REMOTE_KEY: &str = "team-tasks-remote";

/// HTTP method of an operation (the bridge's own type).
pub use forge_bridge::Method;

/// How the panel reaches an operation (https://developer.atlassian.com/platform/forge/remote/calling-from-frontend/).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// `invokeRemote`: proxied by Forge, which adds the FIT and the OAuth tokens configured on the
    /// endpoint, and counts the call. For writes and anything that calls Jira/Confluence as the
    /// app or the user.
    InvokeRemote,
    /// `requestRemote`: sent by the host page straight to the remote with a (cached) FIT and no
    /// OAuth tokens. Lower latency; for reads that need only the verified identity. The remote
    /// must answer CORS for the product origin and accept a reused FIT.
    RequestRemote,
}

/// The body type of operations that send none. It has no values, so `body()` can only be
/// `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoBody {}

/// One remote operation. The implementing type is the request: it holds the path parameters,
/// the query and the body.
///
/// Each type is described once, by its serde derives. The remote reads and writes them with
/// serde_json, the panel with [`crate::json`] (see there for why); `server/tests/contract.rs`
/// decodes the real remote's answers with the panel's codec, so the two cannot drift apart
/// unnoticed.
pub trait Operation {
    /// JSON body on the wire. [`NoBody`] for reads and deletes.
    type Body: Serialize + DeserializeOwned;
    /// JSON answer on 2xx.
    type Response: Serialize + DeserializeOwned;
    /// JSON answer on any other status.
    type Error: Serialize + DeserializeOwned;
    const METHOD: Method;
    /// Route template in axum 0.8 syntax (`/tasks/{id}`), without the query.
    const PATH: &'static str;
    const TRANSPORT: Transport;

    /// The path to request, parameters filled in and the query appended.
    fn path(&self) -> String {
        Self::PATH.to_owned()
    }

    fn body(&self) -> Option<&Self::Body> {
        None
    }
}

/// `METHOD` + `PATH` + `TRANSPORT` of an operation, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub transport: Transport,
}

impl Route {
    pub const fn of<Op: Operation>() -> Self {
        Route {
            method: Op::METHOD,
            path: Op::PATH,
            transport: Op::TRANSPORT,
        }
    }
}

/// Every operation, for checks that must not forget one (the contract test).
pub const ALL: &[Route] = &[
    Route::of::<Healthz>(),
    Route::of::<Whoami>(),
    Route::of::<ListTasks>(),
    Route::of::<CreateTask>(),
    Route::of::<UpdateTask>(),
    Route::of::<DeleteTask>(),
    Route::of::<GetIssueHeader>(),
];

/// `GET /healthz`: liveness; the one route without a FIT.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Healthz;

impl Operation for Healthz {
    type Body = NoBody;
    type Response = Health;
    type Error = ErrorBody;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/healthz";
    const TRANSPORT: Transport = Transport::RequestRemote;
}

/// `GET /whoami`: who the verified FIT says is calling. A token-free read, so `requestRemote`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Whoami;

impl Operation for Whoami {
    type Body = NoBody;
    type Response = WhoAmI;
    type Error = ErrorBody;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/whoami";
    const TRANSPORT: Transport = Transport::RequestRemote;
}

/// `GET /tasks[?team=]`: a scope's tasks and progress. A database read that needs no OAuth
/// token, so `requestRemote`. `team` only matters in the macro.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListTasks {
    pub team: Option<String>,
}

impl Operation for ListTasks {
    type Body = NoBody;
    type Response = TaskList;
    type Error = ErrorBody;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/tasks";
    const TRANSPORT: Transport = Transport::RequestRemote;

    fn path(&self) -> String {
        match &self.team {
            Some(team) => with_query(Self::PATH, &[("team", team)]),
            None => Self::PATH.to_owned(),
        }
    }
}

/// `POST /tasks` → 201 with the task. A write that updates Jira with the app's token, so
/// `invokeRemote`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTask(pub NewTask);

impl Operation for CreateTask {
    type Body = NewTask;
    type Response = TaskChange;
    type Error = ErrorBody;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/tasks";
    const TRANSPORT: Transport = Transport::InvokeRemote;

    fn body(&self) -> Option<&NewTask> {
        Some(&self.0)
    }
}

/// `PATCH /tasks/{id}`: only the fields present change. `invokeRemote` (a write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateTask {
    pub id: String,
    pub patch: TaskPatch,
}

impl Operation for UpdateTask {
    type Body = TaskPatch;
    type Response = TaskChange;
    type Error = ErrorBody;
    const METHOD: Method = Method::Patch;
    const PATH: &'static str = "/tasks/{id}";
    const TRANSPORT: Transport = Transport::InvokeRemote;

    fn path(&self) -> String {
        render_path(Self::PATH, &[("id", &self.id)])
    }

    fn body(&self) -> Option<&TaskPatch> {
        Some(&self.patch)
    }
}

/// `DELETE /tasks/{id}` → 204. `invokeRemote` (a write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteTask {
    pub id: String,
}

impl Operation for DeleteTask {
    type Body = NoBody;
    /// 204 without a body, read as JSON `null`.
    type Response = ();
    type Error = ErrorBody;
    const METHOD: Method = Method::Delete;
    const PATH: &'static str = "/tasks/{id}";
    const TRANSPORT: Transport = Transport::InvokeRemote;

    fn path(&self) -> String {
        render_path(Self::PATH, &[("id", &self.id)])
    }
}

/// `GET /issue`: the issue panel's header, read from Jira as the user. Needs the user's OAuth
/// token, which only `invokeRemote` carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetIssueHeader;

impl Operation for GetIssueHeader {
    type Body = NoBody;
    type Response = IssueHeader;
    type Error = ErrorBody;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/issue";
    const TRANSPORT: Transport = Transport::InvokeRemote;
}

/// Fills `{name}` segments of a route template, percent-encoding each value as a path segment.
pub fn render_path(template: &str, params: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(len) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + len];
        match params.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => encode_into(&mut out, value),
            None => out.push_str(&rest[open..=open + len]),
        }
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    out
}

/// `path?k=v&…`, each key and value percent-encoded as a query component.
pub fn with_query(path: &str, query: &[(&str, &str)]) -> String {
    let mut out = String::from(path);
    for (i, (k, v)) in query.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        encode_into(&mut out, k);
        out.push('=');
        encode_into(&mut out, v);
    }
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a `/`, `?` or `&` inside
/// a value can never split a segment or a query pair.
fn encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_with_encoded_segments() {
        assert_eq!(render_path("/tasks/{id}", &[("id", "42")]), "/tasks/42");
        assert_eq!(
            render_path("/a/{x}/b/{y}", &[("y", "2"), ("x", "a/b c")]),
            "/a/a%2Fb%20c/b/2"
        );
        assert_eq!(render_path("/healthz", &[]), "/healthz");
        // An unknown parameter stays visible rather than vanishing.
        assert_eq!(render_path("/tasks/{id}", &[]), "/tasks/{id}");
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            with_query("/tasks", &[("team", "A&B é")]),
            "/tasks?team=A%26B%20%C3%A9"
        );
        assert_eq!(
            with_query("/tasks", &[("a", "1"), ("b", "")]),
            "/tasks?a=1&b="
        );
    }

    #[test]
    fn every_operation_is_listed_once_with_an_axum_path() {
        for (i, r) in ALL.iter().enumerate() {
            assert!(r.path.starts_with('/'), "{r:?}");
            assert!(
                !r.path.contains('?'),
                "the query is not part of the route: {r:?}"
            );
            assert!(
                !ALL[..i]
                    .iter()
                    .any(|o| o.method == r.method && o.path == r.path),
                "listed twice: {r:?}"
            );
        }
    }

    #[test]
    fn the_remote_key_is_the_manifests() {
        let manifest = include_str!("../../manifest.yml");
        let remotes = &manifest[manifest.find("\nremotes:").expect("manifest has remotes")..];
        assert!(
            remotes.contains(&format!("- key: {REMOTE_KEY}\n")),
            "no remote {REMOTE_KEY}"
        );
    }

    #[test]
    fn operations_render_their_paths_and_bodies() {
        assert_eq!(Healthz.path(), "/healthz");
        assert!(Healthz.body().is_none());
        assert_eq!(Whoami.path(), Whoami::PATH);
        assert_eq!(ListTasks { team: None }.path(), "/tasks");
        assert_eq!(
            ListTasks {
                team: Some("Core & UI".into())
            }
            .path(),
            "/tasks?team=Core%20%26%20UI"
        );
        let patch = TaskPatch {
            title: None,
            done: Some(true),
        };
        let update = UpdateTask {
            id: "a/b".into(),
            patch: patch.clone(),
        };
        assert_eq!(update.path(), "/tasks/a%2Fb");
        assert_eq!(update.body(), Some(&patch));
        assert_eq!(DeleteTask { id: "t1".into() }.path(), "/tasks/t1");
        let new = NewTask {
            title: "x".into(),
            team: None,
        };
        assert_eq!(CreateTask(new.clone()).body(), Some(&new));
    }

    #[test]
    fn only_token_free_reads_take_request_remote() {
        for r in ALL {
            if r.transport == Transport::RequestRemote {
                assert_eq!(
                    r.method,
                    Method::Get,
                    "{r:?}: writes go through invokeRemote"
                );
            }
        }
        // Jira is read as the user: that token only comes with invokeRemote.
        assert_eq!(GetIssueHeader::TRANSPORT, Transport::InvokeRemote);
    }
}
