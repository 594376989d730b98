//! The parts of `manifest.yml` the local host needs: the app id, the UI modules and the
//! endpoint/remote chain they resolve to, the resource directory and the CSP permissions.
//!
//! `${VAR}` references are resolved as the Forge CLI does: from the environment, falling back
//! to `environment.variables[].default`.

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub app: AppSection,
    #[serde(default)]
    pub modules: Modules,
    #[serde(default)]
    pub resources: Vec<Resource>,
    #[serde(default)]
    pub remotes: Vec<Remote>,
    #[serde(default)]
    pub permissions: Permissions,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AppSection {
    pub id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Modules {
    #[serde(rename = "jira:issuePanel", default)]
    pub issue_panels: Vec<UiModule>,
    #[serde(rename = "macro", default)]
    pub macros: Vec<UiModule>,
    #[serde(default)]
    pub endpoint: Vec<Endpoint>,
    /// Product and lifecycle event triggers.
    #[serde(default)]
    pub trigger: Vec<BackendModule>,
    #[serde(rename = "scheduledTrigger", default)]
    pub scheduled_trigger: Vec<BackendModule>,
    #[serde(rename = "preUninstall", default)]
    pub pre_uninstall: Vec<BackendModule>,
}

/// A `trigger`, `scheduledTrigger` or `preUninstall` module (the remote-endpoint form).
#[derive(Debug, Clone, Deserialize)]
pub struct BackendModule {
    pub key: String,
    #[serde(default)]
    pub endpoint: Option<String>,
    /// A trigger's events.
    #[serde(default)]
    pub events: Vec<String>,
}

/// Which kind of backend invocation Forge makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// A `trigger` on a lifecycle event.
    Event,
    Scheduled,
    PreUninstall,
}

/// A backend module resolved to its endpoint's route on the remote.
#[derive(Debug, Clone)]
pub struct BackendChain {
    pub kind: BackendKind,
    pub key: String,
    pub events: Vec<String>,
    pub endpoint: Endpoint,
    /// `endpoint.route.path`.
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UiModule {
    pub key: String,
    pub resource: String,
    #[serde(default)]
    pub resolver: Option<Resolver>,
    #[serde(default)]
    pub title: Option<serde_yaml_ng::Value>,
    /// A macro's `config`: `true` (a UI Kit form) or `{resource, title, openOnInsert, …}`.
    #[serde(default)]
    pub config: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Resolver {
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Endpoint {
    pub key: String,
    pub remote: String,
    #[serde(default)]
    pub auth: Option<EndpointAuth>,
    /// Required on an endpoint that triggers use: where Forge POSTs.
    #[serde(default)]
    pub route: Option<Route>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Route {
    pub path: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointAuth {
    #[serde(default)]
    pub app_system_token: Option<Enabled>,
    #[serde(default)]
    pub app_user_token: Option<Enabled>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Enabled {
    #[serde(default)]
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Resource {
    pub key: String,
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remote {
    pub key: String,
    /// A URL, or a map of region to URL (`default`, `EU`, `US`, …).
    pub base_url: serde_yaml_ng::Value,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Permissions {
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub content: Content,
    #[serde(default)]
    pub external: serde_yaml_ng::Value,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Content {
    #[serde(default)]
    pub scripts: Vec<String>,
    #[serde(default)]
    pub styles: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("manifest.yml is not valid YAML for the local host: {0}")]
    Parse(#[from] serde_yaml_ng::Error),
    #[error(
        "manifest.yml uses ${{{0}}}, which is neither set in the environment nor has a default; \
         export it (scripts/dev.sh and scripts/test.sh set a placeholder for the local host, \
         which sends invocations to its own remote anyway)"
    )]
    UnresolvedVariable(String),
}

/// A UI module with its resolved chain, as the host needs it.
#[derive(Debug, Clone)]
pub struct ModuleChain {
    /// Forge's module type, e.g. `jira:issuePanel` or `macro`.
    pub module_type: &'static str,
    pub key: String,
    pub resource: String,
    pub endpoint: Option<Endpoint>,
    pub remote: Option<Remote>,
    /// A macro's config view, when `config.resource` names one.
    pub config_view: Option<ConfigView>,
}

/// `macro[].config` with a `resource`: the Custom UI view Confluence opens to edit the macro.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigView {
    pub resource: String,
    /// The dialog's title (`config.title`, else the macro's title).
    pub title: String,
    /// `config.openOnInsert`: open it as soon as the macro is inserted.
    pub open_on_insert: bool,
}

impl UiModule {
    fn config_view(&self) -> Option<ConfigView> {
        use serde_yaml_ng::Value;
        let config = self.config.as_ref()?;
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        Some(ConfigView {
            resource: text(config.get("resource"))?,
            title: text(config.get("title"))
                .or_else(|| text(self.title.as_ref()))
                .unwrap_or_else(|| "Configure".into()),
            open_on_insert: config
                .get("openOnInsert")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, |name| std::env::var(name).ok())
    }

    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, ManifestError> {
        #[derive(Deserialize, Default)]
        struct Environment {
            #[serde(default)]
            variables: Vec<Variable>,
        }
        /// `- NAME` (no default: the CLI must find it in its environment) or
        /// `- {key: NAME, default: value}`.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Variable {
            Name(#[allow(dead_code)] String),
            Declared {
                key: String,
                #[serde(default)]
                default: Option<String>,
            },
        }
        #[derive(Deserialize)]
        struct Outer {
            #[serde(default)]
            environment: Environment,
        }
        let outer: Outer = serde_yaml_ng::from_str(text)?;
        let defaults: BTreeMap<String, String> = outer
            .environment
            .variables
            .into_iter()
            .filter_map(|v| match v {
                Variable::Declared {
                    key,
                    default: Some(d),
                } => Some((key, d)),
                _ => None,
            })
            .collect();
        let resolved = substitute(text, |name| {
            env(name).or_else(|| defaults.get(name).cloned())
        })?;
        Ok(serde_yaml_ng::from_str(&resolved)?)
    }

    /// Every UI module the host can show, with its endpoint and remote.
    pub fn ui_modules(&self) -> Vec<ModuleChain> {
        let chain = |module_type: &'static str, m: &UiModule| {
            let endpoint = m
                .resolver
                .as_ref()
                .and_then(|r| r.endpoint.as_ref())
                .and_then(|key| self.modules.endpoint.iter().find(|e| &e.key == key))
                .cloned();
            let remote = endpoint
                .as_ref()
                .and_then(|e| self.remotes.iter().find(|r| r.key == e.remote))
                .cloned();
            ModuleChain {
                module_type,
                key: m.key.clone(),
                resource: m.resource.clone(),
                endpoint,
                remote,
                config_view: m.config_view(),
            }
        };
        let panels = self
            .modules
            .issue_panels
            .iter()
            .map(|m| chain("jira:issuePanel", m));
        let macros = self.modules.macros.iter().map(|m| chain("macro", m));
        panels.chain(macros).collect()
    }

    /// Every trigger, scheduled trigger and pre-uninstall hook that goes to a remote endpoint
    /// with a route (those are the only ones the validator accepts).
    pub fn backend_modules(&self) -> Vec<BackendChain> {
        let kinds = [
            (BackendKind::Event, &self.modules.trigger),
            (BackendKind::Scheduled, &self.modules.scheduled_trigger),
            (BackendKind::PreUninstall, &self.modules.pre_uninstall),
        ];
        kinds
            .into_iter()
            .flat_map(|(kind, modules)| modules.iter().map(move |m| (kind, m)))
            .filter_map(|(kind, m)| {
                let endpoint = self
                    .modules
                    .endpoint
                    .iter()
                    .find(|e| Some(&e.key) == m.endpoint.as_ref())?
                    .clone();
                Some(BackendChain {
                    kind,
                    key: m.key.clone(),
                    events: m.events.clone(),
                    path: endpoint.route.as_ref()?.path.clone(),
                    endpoint,
                })
            })
            .collect()
    }

    pub fn resource_path(&self, key: &str) -> Option<&str> {
        // `resource: main/entry` names an entry of resource `main`.
        let key = key.split('/').next().unwrap_or(key);
        self.resources
            .iter()
            .find(|r| r.key == key)
            .map(|r| r.path.as_str())
    }

    /// The app's uuid, the last segment of its ARI.
    pub fn app_uuid(&self) -> &str {
        self.app.id.rsplit('/').next().unwrap_or(&self.app.id)
    }
}

impl Remote {
    /// The remote's URL for the default region.
    pub fn default_base_url(&self) -> Option<String> {
        match &self.base_url {
            serde_yaml_ng::Value::String(s) => Some(s.clone()),
            serde_yaml_ng::Value::Mapping(m) => m
                .get(serde_yaml_ng::Value::String("default".into()))
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            _ => None,
        }
    }
}

impl EndpointAuth {
    pub fn system_token(&self) -> bool {
        self.app_system_token.as_ref().is_some_and(|e| e.enabled)
    }
    pub fn user_token(&self) -> bool {
        self.app_user_token.as_ref().is_some_and(|e| e.enabled)
    }
}

/// Replaces each `${NAME}` with its value.
fn substitute(text: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, ManifestError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        out.push_str(&value(name).ok_or_else(|| ManifestError::UnresolvedVariable(name.into()))?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPO_MANIFEST: &str = include_str!("../../../manifest.yml");

    #[test]
    fn the_repository_manifest_resolves_both_modules_to_one_remote() {
        // REMOTE_BASE_URL has no default: without it the manifest does not resolve, as with
        // the Forge CLI.
        assert!(matches!(
            Manifest::parse(REPO_MANIFEST, |_| None),
            Err(ManifestError::UnresolvedVariable(name)) if name == "REMOTE_BASE_URL"
        ));
        let m = Manifest::parse(REPO_MANIFEST, |name| {
            (name == "REMOTE_BASE_URL").then(|| "https://remote.example.com".to_owned())
        })
        .unwrap();
        let modules = m.ui_modules();
        let types: Vec<_> = modules.iter().map(|c| c.module_type).collect();
        assert_eq!(types, ["jira:issuePanel", "macro"]);
        for chain in &modules {
            let endpoint = chain.endpoint.as_ref().expect("endpoint");
            let auth = endpoint.auth.clone().unwrap_or_default();
            assert!(auth.system_token() && auth.user_token());
            assert!(chain
                .remote
                .as_ref()
                .and_then(Remote::default_base_url)
                .is_some());
            assert!(m.resource_path(&chain.resource).is_some());
        }
        // The macro's settings are a Custom UI view of their own, opened on insert.
        let view = modules[1].config_view.as_ref().expect("macro config view");
        assert_eq!(m.resource_path(&view.resource), Some("target/site-config"));
        assert!(view.open_on_insert);
        assert!(modules[0].config_view.is_none());

        // The tenant's life goes to routes of the same remote, with the system token only.
        let backend = m.backend_modules();
        let kinds: Vec<_> = backend.iter().map(|b| (b.kind, b.path.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (BackendKind::Event, "/forge/lifecycle"),
                (BackendKind::Scheduled, "/forge/scheduled"),
                (BackendKind::PreUninstall, "/forge/uninstall"),
            ]
        );
        assert_eq!(
            backend[0].events,
            ["avi:forge:installed:app", "avi:forge:upgraded:app"]
        );
        for chain in &backend {
            let auth = chain.endpoint.auth.clone().unwrap_or_default();
            assert!(auth.system_token() && !auth.user_token(), "{}", chain.key);
        }
        // Atlassian's endpoint reference: a key of at most 23 characters, which
        // @forge/manifest does not check.
        for endpoint in &m.modules.endpoint {
            assert!(
                endpoint.key.len() <= 23,
                "endpoint key {} is too long",
                endpoint.key
            );
        }
    }

    #[test]
    fn variables_come_from_the_environment_before_defaults() {
        let text = "app: {id: 'ari:cloud:ecosystem::app/x'}\nremotes:\n  - key: r\n    baseUrl: ${URL}\nenvironment:\n  variables:\n    - key: URL\n      default: https://default.example\n";
        let from_default = Manifest::parse(text, |_| None).unwrap();
        assert_eq!(
            from_default.remotes[0].default_base_url().unwrap(),
            "https://default.example"
        );
        let from_env =
            Manifest::parse(text, |n| (n == "URL").then(|| "http://127.0.0.1:9".into())).unwrap();
        assert_eq!(
            from_env.remotes[0].default_base_url().unwrap(),
            "http://127.0.0.1:9"
        );
    }

    #[test]
    fn an_unset_variable_without_default_is_an_error_naming_it() {
        let text = "app: {id: x}\nremotes:\n  - key: r\n    baseUrl: ${NOPE}\n";
        let err = Manifest::parse(text, |_| None).unwrap_err();
        assert!(err.to_string().contains("NOPE"));
    }
}
