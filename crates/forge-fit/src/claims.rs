//! The typed claims of a Forge Invocation Token.
//!
//! Shapes follow Atlassian's FIT table and real tokens (Atlassian's "Forge remote essentials", <https://developer.atlassian.com/platform/forge/remote/essentials/>). Unknown fields
//! are ignored, because real tokens carry more than is documented. What handlers rely on (the
//! app and installation ids, the module, the environment, the principal, the cloud id) is
//! required and typed, so a token without it is rejected rather than half-trusted.
//!
//! The types also serialise with the same field names, so the minting helper and the local
//! Forge host produce tokens of exactly this shape.

use serde::{Deserialize, Deserializer, Serialize};

/// Everything a verified FIT says about one invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FitClaims {
    /// Always `forge/invocation-token`.
    pub iss: String,
    /// The app's ARI, `ari:cloud:ecosystem::app/<uuid>`.
    pub aud: String,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not before, seconds since the epoch (Forge sets it equal to `iat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Expiry, seconds since the epoch; Forge tokens live about 25 s.
    pub exp: u64,
    /// Token id. Not checked for reuse: `requestRemote` caches one FIT across calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The app, its installation and the module being invoked.
    pub app: AppClaims,
    /// Where the invocation came from. Only frontend-originated invocations carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ContextClaims>,
    /// The Atlassian account id of the user. Absent for triggers and backend calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
}

/// The `app` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppClaims {
    /// The app's ARI; must equal `aud`.
    pub id: String,
    /// `ari:cloud:ecosystem::installation/<uuid>`: the tenant key for remote storage.
    pub installation_id: String,
    /// Base URL for product REST calls, e.g. `https://api.atlassian.com/ex/jira/<cloudId>`.
    pub api_base_url: String,
    /// Which app environment (development, staging, production) was invoked.
    pub environment: EnvironmentClaims,
    /// The manifest module behind the invocation.
    pub module: ModuleClaims,
    /// The deployed app version, e.g. `2.0.0` (replaces the deprecated `app.version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// Present only for paid apps in production (or with a license override).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<LicenseClaims>,
}

/// `app.environment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentClaims {
    /// `DEVELOPMENT`, `STAGING` or `PRODUCTION`.
    #[serde(rename = "type")]
    pub kind: EnvironmentType,
    /// `ari:cloud:ecosystem::environment/<appUuid>/<envUuid>`.
    pub id: String,
}

/// The kind of Forge app environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EnvironmentType {
    Development,
    Staging,
    Production,
    /// A kind this code does not know yet; kept rather than failing every request.
    #[serde(other)]
    Other,
}

impl EnvironmentType {
    /// The name as Forge spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "DEVELOPMENT",
            Self::Staging => "STAGING",
            Self::Production => "PRODUCTION",
            Self::Other => "OTHER",
        }
    }
}

/// `app.module`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleClaims {
    /// e.g. `xen:macro` for frontend calls, `core:endpoint`, `core:trigger`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The module key from manifest.yml.
    pub key: String,
}

/// `app.license`. Every field is optional: the set differs between paid, free and evaluation
/// installs, and some are deprecated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Deprecated spelling of `active` (removal after 17 Oct 2026, CHANGE-3155).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_period: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability_set: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_evaluation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_end_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_end_date: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl LicenseClaims {
    /// Whether the license is active, reading the new field first and the deprecated one second.
    pub fn is_active(&self) -> bool {
        self.active.or(self.is_active).unwrap_or(false)
    }
}

/// The `context` claim of a frontend-originated invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextClaims {
    /// The site's cloud id (Jira and Confluence).
    pub cloud_id: String,
    /// The module key from manifest.yml.
    pub module_key: String,
    /// e.g. `https://acme.atlassian.net`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_url: Option<String>,
    /// Identifies this instance of the module on the page (`ari:cloud:ecosystem::extension/…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    /// Module-specific context: the issue for a panel, the page for a macro.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<ExtensionClaims>,
}

/// `context.extension`, tagged by its `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ExtensionClaims {
    /// A Jira issue panel.
    #[serde(rename = "jira:issuePanel")]
    IssuePanel {
        issue: IssueClaims,
        project: ProjectClaims,
    },
    /// A Confluence macro.
    #[serde(rename = "macro")]
    Macro {
        /// The page or blog post holding the macro; absent while it is first inserted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<ContentClaims>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        space: Option<SpaceClaims>,
        /// The saved macro parameters, free-form.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config: Option<serde_json::Value>,
        #[serde(default, rename = "isEditing", skip_serializing_if = "Option::is_none")]
        is_editing: Option<bool>,
    },
    /// Any other module type: accepted, but it carries nothing we rely on.
    #[serde(other)]
    Other,
}

/// `extension.issue` of a Jira issue panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueClaims {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    pub key: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<String>,
}

/// `extension.project` of a Jira issue panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectClaims {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    pub key: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `extension.content` of a Confluence macro.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentClaims {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// `page`, `blogpost` or `space`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `extension.space` of a Confluence macro.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceClaims {
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    pub key: String,
}

/// Product ids are strings in the FIT, but some Atlassian payloads send them as numbers; accept
/// both rather than reject a genuine token over a representation detail.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    String(String),
    Number(u64),
}

impl From<Id> for String {
    fn from(id: Id) -> Self {
        match id {
            Id::String(s) => s,
            Id::Number(n) => n.to_string(),
        }
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Id::deserialize(deserializer).map(String::from)
}

fn opt_string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Option::<Id>::deserialize(deserializer).map(|id| id.map(String::from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shape of a real issue-panel FIT, with fields we do not model.
    fn issue_panel_token() -> serde_json::Value {
        json!({
            "iss": "forge/invocation-token",
            "aud": "ari:cloud:ecosystem::app/3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4",
            "iat": 1700175149, "nbf": 1700175149, "exp": 1700175174,
            "jti": "d8a496253ec8c18a54631e4c82cbedd5d0ae8570",
            "app": {
                "id": "ari:cloud:ecosystem::app/3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4",
                "version": "12",
                "appVersion": "2.0.0",
                "installationId": "ari:cloud:ecosystem::installation/0b2c",
                "installation": { "id": "ari:cloud:ecosystem::installation/0b2c", "contexts": [] },
                "apiBaseUrl": "https://api.atlassian.com/ex/jira/5a1e",
                "environment": { "type": "DEVELOPMENT", "id": "ari:cloud:ecosystem::environment/a/b" },
                "module": { "type": "xen:macro", "key": "team-tasks-panel" },
                "license": { "isActive": true, "supportEntitlementNumber": null, "modes": ["USER_ACCESS"] }
            },
            "context": {
                "cloudId": "5a1e",
                "moduleKey": "team-tasks-panel",
                "siteUrl": "https://acme.atlassian.net",
                "localId": "ari:cloud:ecosystem::extension/x",
                "userAccess": { "enabled": true, "hasAccess": true },
                "extension": {
                    "type": "jira:issuePanel",
                    "issue": { "id": "10000", "key": "KAN-1", "type": "Task", "typeId": "10001" },
                    "project": { "id": 10000, "key": "KAN", "type": "software" },
                    "isNewToIssue": false,
                    "location": "https://acme.atlassian.net/browse/KAN-1"
                }
            },
            "principal": "655362:312d3f"
        })
    }

    #[test]
    fn a_real_issue_panel_token_parses_with_unknown_fields_ignored() {
        let claims: FitClaims = serde_json::from_value(issue_panel_token()).unwrap();
        assert_eq!(
            claims.app.installation_id,
            "ari:cloud:ecosystem::installation/0b2c"
        );
        assert_eq!(claims.app.environment.kind, EnvironmentType::Development);
        assert!(claims.app.license.unwrap().is_active());
        let Some(ExtensionClaims::IssuePanel { issue, project }) =
            claims.context.unwrap().extension
        else {
            panic!("expected an issue panel extension");
        };
        assert_eq!(
            (issue.key.as_str(), project.id.as_str()),
            ("KAN-1", "10000")
        );
    }

    #[test]
    fn a_real_macro_token_parses() {
        let mut token = issue_panel_token();
        token["context"]["extension"] = json!({
            "config": { "title": "Sprint tasks" }, "isEditing": false, "type": "macro",
            "content": { "id": "98305", "type": "page", "subtype": null },
            "space": { "key": "ENG", "id": "98306" }, "references": [],
            "modal": { "macroMode": "editor" }
        });
        let claims: FitClaims = serde_json::from_value(token).unwrap();
        let Some(ExtensionClaims::Macro {
            content,
            space,
            config,
            ..
        }) = claims.context.unwrap().extension
        else {
            panic!("expected a macro extension");
        };
        assert_eq!(content.unwrap().id, "98305");
        assert_eq!(space.unwrap().key, "ENG");
        assert_eq!(config.unwrap()["title"], "Sprint tasks");
    }

    #[test]
    fn a_trigger_token_without_context_or_principal_parses() {
        let mut token = issue_panel_token();
        token.as_object_mut().unwrap().remove("principal");
        token["context"] = json!({ "cloudId": "5a1e", "moduleKey": "installed", "userAccess": {} });
        token["app"]["module"] = json!({ "type": "core:trigger", "key": "installed" });
        let claims: FitClaims = serde_json::from_value(token).unwrap();
        assert_eq!(claims.principal, None);
        assert_eq!(claims.context.unwrap().extension, None);
    }

    #[test]
    fn unknown_extension_and_environment_types_are_kept_as_other() {
        let mut token = issue_panel_token();
        token["context"]["extension"] = json!({ "type": "jira:issueGlance", "issue": {} });
        token["app"]["environment"]["type"] = json!("SANDBOX");
        let claims: FitClaims = serde_json::from_value(token).unwrap();
        assert_eq!(
            claims.context.unwrap().extension,
            Some(ExtensionClaims::Other)
        );
        assert_eq!(claims.app.environment.kind, EnvironmentType::Other);
    }

    #[test]
    fn a_token_without_what_we_rely_on_is_refused() {
        for (pointer, what) in [
            ("/app/installationId", "installation id"),
            ("/app/apiBaseUrl", "api base url"),
            ("/app/module", "module"),
            ("/app/environment", "environment"),
            ("/context/cloudId", "cloud id"),
            ("/exp", "expiry"),
        ] {
            let mut token = issue_panel_token();
            let (parent, field) = pointer.rsplit_once('/').unwrap();
            token
                .pointer_mut(parent)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(field);
            assert!(
                serde_json::from_value::<FitClaims>(token).is_err(),
                "a token without the {what} was accepted"
            );
        }
    }
}
