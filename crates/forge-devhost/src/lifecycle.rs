//! What Forge does for a tenant's life, delivered to the remote as Forge delivers it: the
//! `avi:forge:installed:app` event when a site is first used here, and, from the host bar or
//! `POST /__devhost/api/lifecycle`, an upgrade, the pre-uninstall hook, a reinstall and the
//! hourly scheduled trigger run now.
//!
//! Like Forge (Atlassian docs: remote/sending-product-events, events-reference/life-cycle,
//! remote/scheduled-triggers): a `POST` to the module's `endpoint.route.path`, with a FIT that
//! has no UI context and no `principal` (`app.module.type` `core:trigger`, `context` only
//! `{cloudId, moduleKey, userAccess}`), the system token only, a 5 s limit, and retries on
//! failure (Forge retries 4 times, 60 s apart; here 4 times, [`RETRY_DELAY`] apart, so a test
//! sees the end of it), each retry's body carrying `retryContext`.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    context::issued_now,
    manifest::{BackendChain, BackendKind},
    signing::random_hex,
    tenants::Installation,
    HostState,
};

/// Forge's limit for an event or trigger's answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Retries after the first attempt, as Forge makes.
pub const RETRIES: u32 = 4;
/// Between two attempts (Forge waits 60 s).
pub const RETRY_DELAY: Duration = Duration::from_millis(500);

/// What an administrator (or Forge's scheduler) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    Install,
    /// A major version upgrade: the only kind Forge sends an event for.
    Upgrade,
    Uninstall,
    /// The hourly scheduled trigger, now.
    Scheduled,
}

/// Where a site is in its life, as this host plays it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SiteState {
    Installed,
    Uninstalled,
}

/// Per site: its state and the app's major version there.
#[derive(Default)]
pub struct Sites {
    sites: Mutex<HashMap<&'static str, (SiteState, u32)>>,
}

impl Sites {
    fn get(&self, handle: &'static str) -> Option<(SiteState, u32)> {
        self.sites.lock().expect("sites").get(handle).copied()
    }

    fn set(&self, handle: &'static str, state: SiteState, major: u32) {
        self.sites
            .lock()
            .expect("sites")
            .insert(handle, (state, major));
    }
}

/// How a delivery ended.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivered {
    pub action: Action,
    /// The last attempt's status; `None` when no answer came (refused, timed out).
    pub status: Option<u16>,
    pub body: Option<Value>,
    pub attempts: u32,
    pub elapsed_ms: u64,
    pub state: Option<SiteState>,
}

/// The first use of a site installs the app there: Forge sends the installed event before
/// any module can be shown. A site uninstalled here stays so until it is installed again.
pub async fn ensure_installed(state: &HostState, site: &'static Installation) {
    if state.sites.get(site.handle).is_some() {
        return;
    }
    // Marked first, so that concurrent first calls send one event.
    state.sites.set(site.handle, SiteState::Installed, 1);
    let delivered = deliver(state, site, Action::Install).await;
    if !delivered.status.is_some_and(|s| (200..300).contains(&s)) {
        tracing::warn!(site = site.handle, ?delivered.status, "the remote did not take the installed event; it records the site on its first request instead");
    }
}

/// Runs `action` on `site`: delivers what Forge would, and updates the site's state.
pub async fn run(state: &HostState, site: &'static Installation, action: Action) -> Delivered {
    let major = state.sites.get(site.handle).map_or(1, |(_, m)| m);
    match action {
        Action::Install => state.sites.set(site.handle, SiteState::Installed, major),
        Action::Upgrade => state
            .sites
            .set(site.handle, SiteState::Installed, major + 1),
        Action::Uninstall => state.sites.set(site.handle, SiteState::Uninstalled, major),
        Action::Scheduled => {}
    }
    let mut delivered = deliver(state, site, action).await;
    delivered.state = state.sites.get(site.handle).map(|(s, _)| s);
    delivered
}

fn module_for(state: &HostState, action: Action) -> Option<BackendChain> {
    let (kind, event) = match action {
        Action::Install => (BackendKind::Event, Some("avi:forge:installed:app")),
        Action::Upgrade => (BackendKind::Event, Some("avi:forge:upgraded:app")),
        Action::Uninstall => (BackendKind::PreUninstall, None),
        Action::Scheduled => (BackendKind::Scheduled, None),
    };
    state
        .backend
        .iter()
        .find(|m| m.kind == kind && event.is_none_or(|e| m.events.iter().any(|have| have == e)))
        .cloned()
}

async fn deliver(state: &HostState, site: &'static Installation, action: Action) -> Delivered {
    let started = std::time::Instant::now();
    let Some(module) = module_for(state, action) else {
        // The manifest does not subscribe to it: Forge would send nothing.
        return Delivered {
            action,
            status: None,
            body: Some(json!({ "error": "manifest.yml has no module for this" })),
            attempts: 0,
            elapsed_ms: 0,
            state: None,
        };
    };
    let major = state.sites.get(site.handle).map_or(1, |(_, m)| m);
    let version = format!("{major}.0.0");
    let url = format!(
        "{}{}",
        state.config.remote_url.trim_end_matches('/'),
        module.path
    );
    let mut attempts = 0;
    let mut last = (None, None);
    while attempts <= RETRIES {
        if attempts > 0 {
            tokio::time::sleep(RETRY_DELAY).await;
        }
        attempts += 1;
        let claims = backend_claims(state, site, &module, &version);
        let mut body = body(state, site, action, &module, &version);
        if attempts > 1 {
            body["retryContext"] = json!({
                "retryCount": attempts - 1,
                "retryReason": if last.0.is_none() { "TIMEOUT_ERROR" } else { "INVALID_REMOTE_INVOCATION_ERROR" },
            });
        }
        let Ok(fit) = state.signer.sign(&claims) else {
            break;
        };
        let mut request = state
            .http
            .post(&url)
            .bearer_auth(fit)
            .header("x-b3-traceid", random_hex(16))
            .header("x-b3-spanid", random_hex(8))
            .timeout(TIMEOUT)
            .json(&body);
        if module
            .endpoint
            .auth
            .clone()
            .unwrap_or_default()
            .system_token()
        {
            request = request.header(
                "x-forge-oauth-system",
                state.signer.issue_oauth_token(site.installation_id, None),
            );
        }
        last = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                (Some(status), response.json::<Value>().await.ok())
            }
            Err(e) => (None, Some(json!({ "error": e.to_string() }))),
        };
        if last.0.is_some_and(|s| (200..300).contains(&s)) {
            break;
        }
    }
    tracing::info!(site = site.handle, ?action, status = ?last.0, attempts, "delivered a lifecycle invocation to the remote");
    Delivered {
        action,
        status: last.0,
        body: last.1,
        attempts,
        elapsed_ms: started.elapsed().as_millis() as u64,
        state: None,
    }
}

/// A backend invocation's FIT: no `principal`, no `context.extension`.
fn backend_claims(
    state: &HostState,
    site: &Installation,
    module: &BackendChain,
    version: &str,
) -> Value {
    let app = &state.app;
    let jira = format!("{}/ex/jira/{}", state.host_origin, site.cloud_id);
    let confluence = format!("{}/ex/confluence/{}", state.host_origin, site.cloud_id);
    issued_now(
        app,
        json!({
            "app": {
                "id": app.app_id,
                "appVersion": version,
                "installationId": site.installation_id,
                "apiBaseUrl": jira,
                "environment": { "type": "DEVELOPMENT", "id": app.environment_id },
                "module": { "type": "core:trigger", "key": module.key },
                "installation": {
                    "id": site.installation_id,
                    "contexts": [
                        { "name": "jira", "apiBaseUrl": jira, "cloudId": site.cloud_id },
                        { "name": "confluence", "apiBaseUrl": confluence, "cloudId": site.cloud_id },
                    ],
                },
            },
            "context": {
                "cloudId": site.cloud_id,
                "moduleKey": module.key,
                "userAccess": { "enabled": false },
            },
        }),
    )
}

/// The event body: the documented lifecycle payload for events, the context for the others.
fn body(
    state: &HostState,
    site: &Installation,
    action: Action,
    module: &BackendChain,
    version: &str,
) -> Value {
    let context = json!({ "cloudId": site.cloud_id, "moduleKey": module.key });
    let installation_uuid = site.installation_id.rsplit('/').next().unwrap_or_default();
    match action {
        Action::Install | Action::Upgrade => {
            let (event, who) = match action {
                Action::Install => ("avi:forge:installed:app", "installerAccountId"),
                _ => ("avi:forge:upgraded:app", "upgraderAccountId"),
            };
            json!({
                "eventType": event,
                // A bare uuid, as Forge may send: the remote keys on the FIT instead.
                "id": installation_uuid,
                who: super::tenants::USERS[0].account_id,
                "context": context,
                "app": { "id": state.app.app_id, "version": version },
                "environment": { "id": state.app.environment_id },
            })
        }
        Action::Uninstall | Action::Scheduled => json!({ "context": context }),
    }
}
