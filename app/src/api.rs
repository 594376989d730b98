//! The remote's JSON contract, shared by the panel and the server.

use forge_bridge::server_fn::BridgeJson;
use serde::{Deserialize, Serialize};
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// Body of every non-2xx answer from the remote.
///
/// Forge's `invokeRemote` rejects a non-2xx answer that is not JSON, so the remote always sends
/// this shape with `content-type: application/json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable, machine-readable code such as `not_found` or `invalid_token`.
    pub code: String,
    /// Human-readable explanation, safe to show to the user.
    pub message: String,
}

impl std::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ErrorBody {}

/// `ErrorBody` is what every server function fails with, on both ends: the remote sends it,
/// the panel decodes it from any 4xx/5xx answer, and the server-function machinery's own
/// failures become one too.
impl FromServerFnError for ErrorBody {
    type Encoder = BridgeJson;

    fn from_server_fn_error(e: ServerFnErrorErr) -> Self {
        // On the remote, as an `ApiError`, which gives the code and the status: a query or a
        // JSON body that does not fit the function's arguments is 422, a body that is not JSON
        // at all 400, anything else a logged 500.
        #[cfg(feature = "ssr")]
        {
            use crate::ssr::error::ApiError;
            return match e {
                ServerFnErrorErr::Args(m) => {
                    ApiError::Unprocessable(format!("The query does not fit: {m}"))
                }
                ServerFnErrorErr::Deserialization(m) => {
                    match m.strip_prefix(forge_bridge::server_fn::WRONG_SHAPE) {
                        Some(m) => ApiError::Unprocessable(format!("The body does not fit: {m}")),
                        None => ApiError::BadRequest(format!("The body is not JSON: {m}")),
                    }
                }
                other => ApiError::internal(other),
            }
            .into();
        }
        // In the panel: the bridge could not deliver the call, or the answer is not the
        // function's.
        #[allow(unreachable_code)]
        let (code, message) = match e {
            ServerFnErrorErr::Request(m) => ("unavailable", m),
            ServerFnErrorErr::Deserialization(m) => (
                "contract",
                format!("The remote's answer was not understood: {m}"),
            ),
            other => ("internal", other.to_string()),
        };
        ErrorBody {
            code: code.into(),
            message,
        }
    }
}

/// `?` on `leptos_axum::extract` and the like, inside a server function.
impl From<ServerFnErrorErr> for ErrorBody {
    fn from(e: ServerFnErrorErr) -> Self {
        Self::from_server_fn_error(e)
    }
}

/// Answer of `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// Answer of `GET /whoami`: what the remote verified about this invocation, from the Forge
/// Invocation Token alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    /// The app's ARI, `ari:cloud:ecosystem::app/<uuid>`.
    pub app_id: String,
    /// The installation (`ari:cloud:ecosystem::installation/<uuid>`): the tenant.
    pub installation_id: String,
    /// The user's Atlassian account id; absent when no user invoked the app.
    pub principal: Option<String>,
    /// The manifest module that was invoked.
    pub module: ModuleRef,
    /// The app environment that was invoked.
    pub environment: EnvironmentRef,
    /// The deployed app version, when Forge sends it.
    pub app_version: Option<String>,
    /// Where the invocation came from; only frontend invocations have one.
    pub context: Option<InvocationContext>,
}

/// A manifest module: its type (e.g. `xen:macro`) and key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub key: String,
}

/// A Forge app environment: its type (`DEVELOPMENT`, `STAGING`, `PRODUCTION`) and ARI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// The product context of a frontend invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationContext {
    pub cloud_id: String,
    pub module_key: String,
    pub site_url: Option<String>,
    pub local_id: Option<String>,
    pub extension: Option<ExtensionContext>,
}

/// Module-specific context, tagged by `type` as in Forge's context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ExtensionContext {
    /// A Jira issue panel: the issue and its project.
    #[serde(rename = "jira:issuePanel")]
    IssuePanel {
        issue: IssueRef,
        project: ProjectRef,
    },
    /// A Confluence macro: the page or blog post, its space and the saved macro config.
    #[serde(rename = "macro")]
    Macro {
        content: Option<ContentRef>,
        space: Option<SpaceRef>,
        config: Option<serde_json::Value>,
    },
    /// Another module type.
    #[serde(other)]
    Other,
}

/// A Jira issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRef {
    pub id: String,
    pub key: String,
}

/// A Jira project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRef {
    pub id: String,
    pub key: String,
}

/// A Confluence page, blog post or space home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentRef {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// A Confluence space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceRef {
    pub id: Option<String>,
    pub key: String,
}
