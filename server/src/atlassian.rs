//! Calls to Jira with the tokens Forge forwards, through the FIT's `app.apiBaseUrl`
//! (`https://api.atlassian.com/ex/jira/<cloudId>`; the site URL would answer 401).
//!
//! Failures here never fail a task operation: the caller turns them into a notice.

use std::time::Duration;

use app::tasks::{IssueSummary, Progress};
use serde::Deserialize;
use serde_json::json;

use secrecy::ExposeSecret;

use crate::fit::{AppSystemToken, AppUserToken};

/// Entity property holding `{done, total}`, so progress can be searched in JQL
/// (`issue.property[tasks-progress].done = 0`).
pub const PROGRESS_PROPERTY: &str = "tasks-progress";

/// Keeps Jira calls well inside the remote's own request deadline.
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum AtlassianError {
    #[error("Forge did not forward the {0} token for this call")]
    MissingToken(&'static str),
    #[error("Jira answered {0}")]
    Status(u16),
    #[error("Jira could not be reached")]
    Network(#[source] reqwest::Error),
    #[error("Jira's answer was not understood")]
    Decode(#[source] reqwest::Error),
}

/// Jira REST, for one installation.
pub struct Jira<'a> {
    http: &'a reqwest::Client,
    api_base_url: &'a str,
}

impl<'a> Jira<'a> {
    pub fn new(http: &'a reqwest::Client, api_base_url: &'a str) -> Self {
        Self {
            http,
            api_base_url: api_base_url.trim_end_matches('/'),
        }
    }

    /// The issue's key, summary and status, read as the user (so Jira's permissions apply).
    #[tracing::instrument(name = "Read the issue from Jira", skip(self, token))]
    pub async fn issue(
        &self,
        token: Option<&AppUserToken>,
        issue_id: &str,
    ) -> Result<IssueSummary, AtlassianError> {
        #[derive(Deserialize)]
        struct Issue {
            key: String,
            fields: Fields,
        }
        #[derive(Deserialize)]
        struct Fields {
            summary: String,
            status: Status,
        }
        #[derive(Deserialize)]
        struct Status {
            name: String,
        }
        let token = token.ok_or(AtlassianError::MissingToken("user"))?;
        let url = format!(
            "{}/rest/api/3/issue/{}",
            self.api_base_url,
            encode(issue_id)
        );
        let request = self
            .http
            .get(url)
            .query(&[("fields", "summary,status")])
            .header("accept", "application/json");
        let response = send(request, token.expose_secret()).await?;
        let issue: Issue = response.json().await.map_err(AtlassianError::Decode)?;
        Ok(IssueSummary {
            key: issue.key,
            summary: issue.fields.summary,
            status: issue.fields.status.name,
        })
    }

    /// Writes `tasks-progress` on the issue as the app.
    #[tracing::instrument(name = "Write task progress to the issue", skip(self, token))]
    pub async fn set_progress(
        &self,
        token: Option<&AppSystemToken>,
        issue_id: &str,
        progress: Progress,
    ) -> Result<(), AtlassianError> {
        let token = token.ok_or(AtlassianError::MissingToken("system"))?;
        let url = format!(
            "{}/rest/api/3/issue/{}/properties/{PROGRESS_PROPERTY}",
            self.api_base_url,
            encode(issue_id)
        );
        let request = self
            .http
            .put(url)
            .json(&json!({ "done": progress.done, "total": progress.total }));
        send(request, token.expose_secret()).await.map(drop)
    }
}

/// Sends `request` with `token` and the time limit; anything but a 2xx is an error.
async fn send(
    request: reqwest::RequestBuilder,
    token: &str,
) -> Result<reqwest::Response, AtlassianError> {
    let response = request
        .bearer_auth(token)
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(AtlassianError::Network)?;
    if !response.status().is_success() {
        return Err(AtlassianError::Status(response.status().as_u16()));
    }
    Ok(response)
}

/// Issue ids are numeric and keys alphanumeric; anything else is escaped, not trusted.
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
