//! Where an invocation comes from, and the two views Forge gives of it: the `getContext`
//! answer the iframe sees, and the FIT claims the remote sees. Both are built here from one
//! `Placement`, so they cannot disagree.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    manifest::ModuleChain,
    signing::{now_secs, random_hex, FIT_LIFETIME},
    tenants::{self, Installation, User},
};

/// Which module instance, on which site, for which user. The host page sends this with each
/// bridge call; it is decided by the host page's own URL, never by the iframe.
#[derive(Debug, Clone, Deserialize)]
pub struct Placement {
    pub site: String,
    pub user: String,
    pub module: String,
    /// Issue key, for `jira:issuePanel`.
    #[serde(default)]
    pub issue: Option<String>,
    /// Page id, for `macro`.
    #[serde(default)]
    pub page: Option<String>,
    /// The macro's saved configuration.
    #[serde(default)]
    pub config: Option<Value>,
    /// The macro instance's `localId` (Confluence gives each inserted macro its own).
    #[serde(default, rename = "localId")]
    pub local_id: Option<String>,
    #[serde(default)]
    pub theme: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlacementError {
    #[error("unknown site `{0}`")]
    Site(String),
    #[error("unknown user `{0}`")]
    User(String),
    #[error("the manifest has no UI module `{0}`")]
    Module(String),
    #[error("no issue `{0}` on this site")]
    Issue(String),
    #[error("no page `{0}` on this site")]
    Page(String),
}

/// A placement checked against the manifest and the fixtures.
pub struct Resolved<'a> {
    pub installation: &'static Installation,
    pub user: &'static User,
    pub module: &'a ModuleChain,
    pub extension: Value,
    pub theme: String,
    instance_id: Option<String>,
}

/// Identity of the app and its (local) environment.
pub struct AppIdentity {
    pub app_id: String,
    pub environment_id: String,
    pub app_version: String,
}

impl AppIdentity {
    pub fn new(app_id: &str, app_uuid: &str) -> Self {
        Self {
            app_id: app_id.to_owned(),
            // A fixed local environment id, shaped like Forge's.
            environment_id: format!(
                "ari:cloud:ecosystem::environment/{app_uuid}/d0c5e7a1-0000-4000-8000-00000000de71"
            ),
            app_version: "1.0.0".into(),
        }
    }

    pub fn environment_uuid(&self) -> &str {
        self.environment_id.rsplit('/').next().unwrap_or_default()
    }
}

impl Placement {
    pub fn resolve<'a>(
        &self,
        modules: &'a [ModuleChain],
        host_origin: &str,
    ) -> Result<Resolved<'a>, PlacementError> {
        let installation = tenants::installation(&self.site)
            .ok_or_else(|| PlacementError::Site(self.site.clone()))?;
        let user =
            tenants::user(&self.user).ok_or_else(|| PlacementError::User(self.user.clone()))?;
        let module = modules
            .iter()
            .find(|m| m.key == self.module)
            .ok_or_else(|| PlacementError::Module(self.module.clone()))?;
        let site_url = installation.site_url(host_origin);
        let extension = match module.module_type {
            "jira:issuePanel" => {
                let key = self.issue.as_deref().unwrap_or_default();
                let issue = installation
                    .issue(key)
                    .ok_or_else(|| PlacementError::Issue(key.into()))?;
                json!({
                    "type": "jira:issuePanel",
                    "issue": { "id": issue.id, "key": issue.key, "type": issue.issue_type, "typeId": issue.type_id },
                    "project": { "id": issue.project_id, "key": issue.project_key, "type": "software" },
                    "isNewToIssue": false,
                    "location": format!("{site_url}/browse/{}", issue.key),
                })
            }
            _ => {
                let id = self.page.as_deref().unwrap_or_default();
                let page = installation
                    .page(id)
                    .ok_or_else(|| PlacementError::Page(id.into()))?;
                json!({
                    "type": "macro",
                    "content": { "id": page.id, "type": "page", "subtype": null },
                    "space": { "id": page.space_id, "key": page.space_key },
                    "isEditing": false,
                    "references": [],
                    "config": self.config.clone().unwrap_or_else(|| json!({})),
                })
            }
        };
        let theme = match self.theme.as_deref() {
            Some("dark") => "dark",
            _ => "light",
        };
        Ok(Resolved {
            installation,
            user,
            module,
            extension,
            theme: theme.into(),
            instance_id: self.local_id.clone(),
        })
    }
}

impl Resolved<'_> {
    fn local_id(&self, app: &AppIdentity) -> String {
        if let Some(id) = &self.instance_id {
            return id.clone();
        }
        let app_uuid = app.app_id.rsplit('/').next().unwrap_or_default();
        format!(
            "ari:cloud:ecosystem::extension/{app_uuid}/{}/static/{}",
            app.environment_uuid(),
            self.module.key
        )
    }

    /// `https://api.atlassian.com/ex/<product>/<cloudId>` on Cloud; here the stand-in.
    pub fn api_base_url(&self, host_origin: &str) -> String {
        let product = if self.module.module_type == "jira:issuePanel" {
            "jira"
        } else {
            "confluence"
        };
        format!("{host_origin}/ex/{product}/{}", self.installation.cloud_id)
    }

    /// What `view.getContext()` resolves to (`@forge/bridge`'s `FullContext`).
    pub fn full_context(&self, app: &AppIdentity, host_origin: &str) -> Value {
        json!({
            "accountId": self.user.account_id,
            "cloudId": self.installation.cloud_id,
            "extension": self.extension,
            "environmentId": app.environment_id.rsplit('/').next(),
            "environmentType": "DEVELOPMENT",
            "localId": self.local_id(app),
            "locale": "en_US",
            "moduleKey": self.module.key,
            "siteUrl": self.installation.site_url(host_origin),
            "timezone": "Europe/London",
            "theme": { "colorMode": self.theme },
            "userAccess": { "enabled": false },
        })
    }

    /// The claims of a Forge Invocation Token for a call from this module.
    pub fn fit_claims(&self, app: &AppIdentity, host_origin: &str) -> Value {
        let api_base_url = self.api_base_url(host_origin);
        let product = if self.module.module_type == "jira:issuePanel" {
            "jira"
        } else {
            "confluence"
        };
        issued_now(
            app,
            json!({
                "app": {
                    "id": app.app_id,
                    "appVersion": app.app_version,
                    "installationId": self.installation.installation_id,
                    "apiBaseUrl": api_base_url,
                    "environment": { "type": "DEVELOPMENT", "id": app.environment_id },
                    // Forge documents `xen:macro` as the module type of frontend invocations.
                    "module": { "type": "xen:macro", "key": self.module.key },
                    "installation": {
                        "id": self.installation.installation_id,
                        "contexts": [{ "name": product, "apiBaseUrl": api_base_url, "cloudId": self.installation.cloud_id }],
                    },
                },
                "context": {
                    "cloudId": self.installation.cloud_id,
                    "siteUrl": self.installation.site_url(host_origin),
                    "moduleKey": self.module.key,
                    "localId": self.local_id(app),
                    "extension": self.extension,
                    "environmentId": app.environment_id,
                    "environmentType": "DEVELOPMENT",
                    "appVersion": app.app_version,
                    "accountId": self.user.account_id,
                    "userAccess": { "enabled": false },
                },
                "principal": self.user.account_id,
            }),
        )
    }
}

/// `claims` with the registered claims of a FIT Forge issues now: its issuer, the app as
/// audience, 25 s of life and a fresh `jti`.
pub fn issued_now(app: &AppIdentity, mut claims: Value) -> Value {
    let iat = now_secs();
    let object = claims
        .as_object_mut()
        .expect("FIT claims are a JSON object");
    for (name, value) in [
        ("iss", json!("forge/invocation-token")),
        ("aud", json!(app.app_id)),
        ("iat", json!(iat)),
        ("nbf", json!(iat)),
        ("exp", json!(iat + FIT_LIFETIME.as_secs())),
        ("jti", json!(random_hex(20))),
    ] {
        object.insert(name.to_owned(), value);
    }
    claims
}
