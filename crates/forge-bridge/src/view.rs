//! `view.theme.enable()`, `showFlag` and `router.navigate`/`router.open`/`router.reload`: their
//! `callBridge` payloads (`@forge/bridge@7.2.0` `out/view/theme.js`, `out/flag/flag.js`,
//! `out/router/router.js`).

use serde::Serialize;

use super::error::BridgeError;

pub(crate) const ENABLE_THEMING: &str = "enableTheming";
pub(crate) const SHOW_FLAG: &str = "showFlag";
pub(crate) const CLOSE_FLAG: &str = "closeFlag";
pub(crate) const NAVIGATE: &str = "navigate";
pub(crate) const RELOAD: &str = "reload";

/// A flag's id: `@forge/bridge` accepts a string or a number (whole numbers here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FlagId {
    Text(String),
    Number(i64),
}

impl FlagId {
    /// JavaScript truthiness: `showFlag` refuses an empty or zero id.
    fn is_set(&self) -> bool {
        match self {
            FlagId::Text(s) => !s.is_empty(),
            FlagId::Number(n) => *n != 0,
        }
    }
}

impl From<&str> for FlagId {
    fn from(s: &str) -> Self {
        FlagId::Text(s.to_owned())
    }
}

impl From<String> for FlagId {
    fn from(s: String) -> Self {
        FlagId::Text(s)
    }
}

impl From<i64> for FlagId {
    fn from(n: i64) -> Self {
        FlagId::Number(n)
    }
}

/// `info`, `success`, `warning` or `error`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlagType {
    #[default]
    Info,
    Success,
    Warning,
    Error,
}

/// Options of `showFlag`. Actions (`{text, onClick}`) are not supported: their callbacks are
/// JavaScript functions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagOptions {
    pub id: FlagId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The icon. `@forge/bridge` sends `info` when unset.
    #[serde(rename = "type")]
    pub kind: FlagType,
    /// When set, the flag is bold and its `type` is overridden by the host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appearance: Option<FlagType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_auto_dismiss: Option<bool>,
}

impl FlagOptions {
    pub fn new(id: impl Into<FlagId>) -> Self {
        Self {
            id: id.into(),
            title: None,
            description: None,
            kind: FlagType::Info,
            appearance: None,
            is_auto_dismiss: None,
        }
    }
}

pub(crate) fn show_flag_payload(opts: &FlagOptions) -> Result<String, BridgeError> {
    if !opts.id.is_set() {
        return Err(BridgeError::InvalidRequest(
            "\"id\" must be defined in flag options".into(),
        ));
    }
    super::submit::to_text(opts)
}

pub(crate) fn close_flag_payload(id: &FlagId) -> Result<String, BridgeError> {
    #[derive(Serialize)]
    struct Close<'a> {
        id: &'a FlagId,
    }
    super::submit::to_text(&Close { id })
}

/// A place in the product (`NavigationLocation` in `@forge/bridge`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "target",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum NavigationLocation {
    ContentView {
        content_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<String>,
    },
    ContentEdit {
        content_id: String,
    },
    /// `content_type` is `page` or `blogpost` with a `space_key`, or `customContent` with a
    /// `module_key`.
    ContentList {
        content_type: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        space_key: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        module_key: Option<String>,
    },
    SpaceView {
        space_key: String,
    },
    Module {
        module_key: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        space_key: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        project_key: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    UserProfile {
        account_id: String,
    },
    Dashboard {
        dashboard_id: String,
    },
    Issue {
        issue_key: String,
    },
    ProjectSettingsDetails {
        project_key: String,
    },
}

/// Where `navigate`/`open` go: a URL or a product location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Url(String),
    Target(NavigationLocation),
}

impl From<&str> for Location {
    fn from(s: &str) -> Self {
        Location::Url(s.to_owned())
    }
}

impl From<String> for Location {
    fn from(s: String) -> Self {
        Location::Url(s)
    }
}

impl From<NavigationLocation> for Location {
    fn from(l: NavigationLocation) -> Self {
        Location::Target(l)
    }
}

/// `{url, type}` for a URL, `{...location, type}` for a location; `type` is `same-tab`
/// (navigate) or `new-tab` (open).
pub(crate) fn navigate_payload(location: &Location, new_tab: bool) -> Result<String, BridgeError> {
    let kind = if new_tab { "new-tab" } else { "same-tab" };
    #[derive(Serialize)]
    struct Url<'a> {
        url: &'a str,
        #[serde(rename = "type")]
        kind: &'static str,
    }
    #[derive(Serialize)]
    struct Target<'a> {
        #[serde(flatten)]
        location: &'a NavigationLocation,
        #[serde(rename = "type")]
        kind: &'static str,
    }
    match location {
        Location::Url(url) => super::submit::to_text(&Url { url, kind }),
        Location::Target(location) => super::submit::to_text(&Target { location, kind }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn flags_default_to_info_and_need_an_id() {
        let p = show_flag_payload(&FlagOptions {
            title: Some("Saved".into()),
            ..FlagOptions::new("f1")
        })
        .unwrap();
        assert_eq!(
            parse(&p),
            json!({"id": "f1", "title": "Saved", "type": "info"})
        );
        let p = show_flag_payload(&FlagOptions {
            kind: FlagType::Error,
            appearance: Some(FlagType::Warning),
            is_auto_dismiss: Some(true),
            ..FlagOptions::new(7)
        })
        .unwrap();
        assert_eq!(
            parse(&p),
            json!({"id": 7, "type": "error", "appearance": "warning", "isAutoDismiss": true})
        );
        assert_eq!(
            show_flag_payload(&FlagOptions::new("")).unwrap_err().kind(),
            "invalid_request"
        );
        assert_eq!(
            show_flag_payload(&FlagOptions::new(0)).unwrap_err().kind(),
            "invalid_request"
        );
        assert_eq!(
            parse(&close_flag_payload(&"f1".into()).unwrap()),
            json!({"id": "f1"})
        );
    }

    #[test]
    fn navigation_payloads() {
        assert_eq!(
            parse(&navigate_payload(&"https://x/y".into(), false).unwrap()),
            json!({"url": "https://x/y", "type": "same-tab"})
        );
        let issue = NavigationLocation::Issue {
            issue_key: "KAN-1".into(),
        };
        assert_eq!(
            parse(&navigate_payload(&issue.into(), true).unwrap()),
            json!({"target": "issue", "issueKey": "KAN-1", "type": "new-tab"})
        );
        let m = NavigationLocation::Module {
            module_key: "m".into(),
            space_key: None,
            project_key: Some("KAN".into()),
            path: None,
        };
        assert_eq!(
            parse(&navigate_payload(&m.into(), false).unwrap()),
            json!({"target": "module", "moduleKey": "m", "projectKey": "KAN", "type": "same-tab"})
        );
        let p = NavigationLocation::ProjectSettingsDetails {
            project_key: "KAN".into(),
        };
        assert_eq!(
            parse(&navigate_payload(&p.into(), false).unwrap())["target"],
            json!("projectSettingsDetails")
        );
    }
}
