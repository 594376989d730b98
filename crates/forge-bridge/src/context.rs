//! `view.getContext()`: the typed context, and the locale normalisation `@forge/bridge` applies
//! to it (`@forge/i18n@1.0.0` `ensureLocale`).
//!
//! The context is for display and routing only. Anything that matters for authorisation comes
//! from the verified FIT on the remote, never from here (Atlassian: "Custom UI resolver", not every context value is fit for authorization).

use serde::{Deserialize, Serialize};

use super::error::BridgeError;
use crate::json::{self, Json};

pub(crate) const GET_CONTEXT: &str = "getContext";

/// `extension.type` of a Jira issue panel.
pub const ISSUE_PANEL: &str = "jira:issuePanel";
/// `extension.type` of a Confluence macro.
pub const MACRO: &str = "macro";

/// What `view.getContext()` resolves to (`FullContext` in `@forge/bridge`'s typings), limited
/// to what a panel uses. What is missing reads as its default (fields the typings mark as always
/// present as `""`) rather than failing the whole decode; unknown members are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Context {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_id: Option<String>,
    pub extension: Extension,
    /// `DEVELOPMENT`, `STAGING` or `PRODUCTION`.
    pub environment_type: String,
    pub local_id: String,
    /// Normalised like `@forge/bridge` does: `en_US` becomes `en-US`, `pt` becomes `pt-PT`.
    pub locale: String,
    pub module_key: String,
    pub site_url: String,
    pub timezone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<Theme>,
}

/// Where the module is rendered. One flat shape: `kind` says which fields apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Extension {
    /// `jira:issuePanel`, `macro`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// `jira:issuePanel`: `{id, key, type, typeId}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<Entity>,
    /// `jira:issuePanel`: `{id, key, type}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<Entity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_new_to_issue: Option<bool>,
    /// `macro`: the page or blog post, `{id, type, subtype}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Entity>,
    /// `macro`: `{id, key}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space: Option<Entity>,
    /// `macro`: the saved macro configuration, as JSON; see [`Extension::config`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_editing: Option<bool>,
}

impl Extension {
    pub fn is_issue_panel(&self) -> bool {
        self.kind == ISSUE_PANEL
    }

    pub fn is_macro(&self) -> bool {
        self.kind == MACRO
    }

    /// The macro configuration as `T` (with serde); `None` when there is none.
    pub fn config<T: serde::de::DeserializeOwned>(&self) -> Option<Result<T, json::Error>> {
        self.config.clone().map(json::from_value)
    }
}

/// An issue, project, page or space. One type for all four: each distinct type costs its own
/// decoder in the wasm bundle. Fields a kind does not have stay empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Entity {
    pub id: String,
    /// Issue, project and space key; empty for content.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// Issue type name (`Task`), project type (`software`), content type (`page`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Issue type id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_id: Option<String>,
    /// Content subtype.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Theme {
    /// `light` or `dark`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_mode: Option<String>,
}

/// Decodes the host's `getContext` answer as `C`; `null` is an error.
pub(crate) fn decode_as<C: serde::de::DeserializeOwned>(reply: &str) -> Result<C, BridgeError> {
    json::from_str::<Option<C>>(reply)
        .map_err(BridgeError::decode)?
        .ok_or_else(|| BridgeError::Decode("getContext answered null".into()))
}

/// Decodes the host's `getContext` answer and normalises its locale.
pub(crate) fn decode_context(reply: &str) -> Result<Context, BridgeError> {
    let mut ctx: Context = decode_as(reply)?;
    if let Some(locale) = ensure_locale(&ctx.locale) {
        ctx.locale = locale.to_owned();
    }
    Ok(ctx)
}

/// The locales Forge supports (`@forge/i18n` `FORGE_SUPPORTED_LOCALE_CODES`), in its order.
pub const SUPPORTED_LOCALES: &[&str] = &[
    "zh-CN", "zh-TW", "cs-CZ", "da-DK", "nl-NL", "en-US", "en-GB", "et-EE", "fi-FI", "fr-FR",
    "de-DE", "hu-HU", "is-IS", "it-IT", "ja-JP", "ko-KR", "no-NO", "pl-PL", "pt-BR", "pt-PT",
    "ro-RO", "ru-RU", "sk-SK", "tr-TR", "es-ES", "sv-SE",
];

/// `ensureLocale`: the first `_` becomes `-`; a supported code is kept; a bare language maps to
/// its first supported locale (`nb` to `no-NO`, `pt` to `pt-PT`); `en-UK` and `nb-NO` have
/// fallbacks; anything else is `None`, and `getContext` then keeps the raw value.
pub fn ensure_locale(raw: &str) -> Option<&'static str> {
    if raw.is_empty() {
        return None;
    }
    let locale = raw.replacen('_', "-", 1);
    if let Some(code) = SUPPORTED_LOCALES.iter().find(|c| **c == locale) {
        return Some(code);
    }
    let by_language = match locale.as_str() {
        "nb" => Some("no-NO"),
        "pt" => Some("pt-PT"),
        lang if !lang.contains('-') => SUPPORTED_LOCALES
            .iter()
            .copied()
            .find(|c| c.split('-').next() == Some(lang)),
        _ => None,
    };
    by_language.or(match locale.as_str() {
        "en-UK" => Some("en-GB"),
        "nb-NO" => Some("no-NO"),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_normalise_like_forge_i18n() {
        let cases = [
            ("en_US", Some("en-US")),
            ("en-GB", Some("en-GB")),
            ("en", Some("en-US")),
            ("zh", Some("zh-CN")),
            ("pt", Some("pt-PT")),
            ("nb", Some("no-NO")),
            ("no", Some("no-NO")),
            ("en-UK", Some("en-GB")),
            ("en_UK", Some("en-GB")),
            ("nb_NO", Some("no-NO")),
            ("de_DE", Some("de-DE")),
            ("xx_YY", None),
            ("en_us", None),
            ("en_US_x", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(ensure_locale(raw), want, "{raw}");
        }
    }

    #[test]
    fn an_issue_panel_context_decodes() {
        let ctx = decode_context(
            r#"{"accountId":"a1","cloudId":"c1","extension":{"type":"jira:issuePanel","issue":{"id":"10000","key":"KAN-1","type":"Task","typeId":"10001"},"project":{"id":"10000","key":"KAN","type":"software"},"isNewToIssue":false,"location":"x"},"environmentId":"e","environmentType":"DEVELOPMENT","localId":"l","locale":"en_US","moduleKey":"panel","siteUrl":"https://s","timezone":"Europe/London","theme":{"colorMode":"dark"},"userAccess":{"enabled":false}}"#,
        )
        .unwrap();
        assert!(ctx.extension.is_issue_panel());
        assert_eq!(ctx.extension.issue.as_ref().unwrap().key, "KAN-1");
        assert_eq!(ctx.extension.project.as_ref().unwrap().key, "KAN");
        assert_eq!(ctx.locale, "en-US");
        assert_eq!(ctx.theme.unwrap().color_mode.as_deref(), Some("dark"));
    }

    #[test]
    fn a_macro_context_keeps_its_config() {
        let ctx = decode_context(
            r#"{"extension":{"type":"macro","content":{"id":"1","type":"page","subtype":null},"space":{"id":"2","key":"DS"},"config":{"team":"a","n":[1,2]},"isEditing":false},"locale":"xx_YY"}"#,
        )
        .unwrap();
        assert!(ctx.extension.is_macro());
        assert_eq!(ctx.extension.space.as_ref().unwrap().key, "DS");
        assert_eq!(
            ctx.extension.config.as_ref().unwrap().to_text(),
            r#"{"team":"a","n":[1,2]}"#
        );
        #[derive(serde::Deserialize)]
        struct Cfg {
            team: String,
        }
        assert_eq!(ctx.extension.config::<Cfg>().unwrap().unwrap().team, "a");
        // An unknown locale is kept as it came.
        assert_eq!(ctx.locale, "xx_YY");
        assert_eq!(decode_context("null").unwrap_err().kind(), "decode");
    }
}
