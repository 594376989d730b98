//! A local Forge host, for development and end-to-end tests only.
//!
//! Forge's own local loop needs a real Atlassian site, and its tunnel does not cover remotes.
//! This host plays the Atlassian side instead, on loopback:
//!
//! - **product pages** (`host_addr`): an emulated Jira issue view and Confluence page, each
//!   hosting the resource in a sandboxed iframe and answering its bridge calls (`host.js`);
//! - **CDN** (`cdn_addr`, a separate origin): the resource under a nested CDN-like path, with
//!   Forge's CSP and a bridge script prepended to `index.html` (`cdn.rs`);
//! - **invocation service**: mints FITs like Forge, adds the OAuth and trace headers, proxies
//!   `invokeRemote` to the remote and translates the answer (`proxy.rs`);
//! - **dev JWKS**, which the remote trusts instead of Atlassian's while this host runs;
//! - **Atlassian REST stand-in** at the FIT's `apiBaseUrl` (`rest.rs`).
//!
//! Its own crate, which the `server` crate does not depend on: a release remote
//! (`cargo build --release -p server`) cannot contain it, nor `rsa`, nor `forge-fit`'s `mint`
//! (`server/tests/release_deps.rs` checks this with `cargo tree`). The `forge-devhost` binary
//! (`src/main.rs`) runs this host and the remote in one process, for `cargo leptos watch`.

mod api;
mod cdn;
pub mod context;
pub mod csp;
/// Refuses requests addressed to another host (DNS rebinding).
mod guard;
pub mod lifecycle;
pub mod manifest;
mod pages;
pub mod proxy;
pub mod rest;
pub mod signing;
pub mod tenants;

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use anyhow::{bail, Context as _};
use tokio::net::TcpListener;

use self::{context::AppIdentity, manifest::Manifest, signing::Signer};

/// Where the host listens and what it serves.
#[derive(Debug, Clone)]
pub struct DevHostConfig {
    /// Product pages, the invocation service, the JWKS and the REST stand-in.
    pub host_addr: SocketAddr,
    /// The resource, on its own origin as on Forge's CDN.
    pub cdn_addr: SocketAddr,
    /// Where `invokeRemote`/`requestRemote` go; defaults to this process's remote.
    pub remote_url: String,
    pub manifest_path: PathBuf,
    /// Resource directory (cargo-leptos's site root).
    pub site_root: PathBuf,
    /// The host's signing key, kept across restarts.
    pub key_file: PathBuf,
    /// cargo-leptos's live-reload port, when running under `cargo leptos watch`.
    pub reload_port: Option<u16>,
}

impl DevHostConfig {
    /// Reads `FORGE_DEV_HOST*` variables; `None` when `FORGE_DEV_HOST=off`.
    pub fn from_env(remote_addr: SocketAddr, site_root: PathBuf) -> anyhow::Result<Option<Self>> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if var("FORGE_DEV_HOST").is_some_and(|v| v == "off" || v == "0" || v == "false") {
            return Ok(None);
        }
        let addr = |name: &str, default: &str| -> anyhow::Result<SocketAddr> {
            var(name)
                .as_deref()
                .unwrap_or(default)
                .parse()
                .with_context(|| format!("{name} is not an address"))
        };
        Ok(Some(Self {
            host_addr: addr("FORGE_DEV_HOST_ADDR", "127.0.0.1:3100")?,
            cdn_addr: addr("FORGE_DEV_CDN_ADDR", "127.0.0.1:3101")?,
            remote_url: var("FORGE_DEV_REMOTE_URL")
                .unwrap_or_else(|| format!("http://{remote_addr}")),
            manifest_path: var("FORGE_MANIFEST")
                .unwrap_or_else(|| "manifest.yml".into())
                .into(),
            site_root,
            key_file: var("FORGE_DEV_KEY_FILE")
                .unwrap_or_else(|| "target/forge-dev/fit-signing-key.der".into())
                .into(),
            reload_port: var("LEPTOS_RELOAD_PORT")
                .and_then(|p| p.parse().ok())
                .filter(|_| var("LEPTOS_WATCH").is_some()),
        }))
    }
}

/// Everything the host's handlers share.
pub struct HostState {
    pub config: DevHostConfig,
    pub manifest: Manifest,
    pub modules: Vec<manifest::ModuleChain>,
    /// The triggers and hooks Forge delivers to the remote with no user (`lifecycle`).
    pub backend: Vec<manifest::BackendChain>,
    /// Each site's place in its life (installed, uninstalled) and app version.
    pub sites: lifecycle::Sites,
    pub app: AppIdentity,
    pub signer: Arc<Signer>,
    pub rest: rest::RestState,
    pub http: reqwest::Client,
    /// The macro on each (site, page) it was inserted on, with its saved configuration.
    pub macros: Mutex<HashMap<(String, String), MacroInstance>>,
    /// A fresh deployment id per start, as each `forge deploy` gets a new CDN path.
    pub deployment: String,
    pub host_origin: String,
    pub cdn_origin: String,
}

/// One macro on one page, as Confluence stores it in the page body.
#[derive(Debug, Clone)]
pub struct MacroInstance {
    /// The instance's `localId`, fixed when it is inserted.
    pub local_id: String,
    /// What its config view last submitted (`view.submit({config})`); `{}` until then.
    pub config: serde_json::Value,
}

impl HostState {
    /// The macro on `page` of `site`, if any. A page that starts with the macro has it,
    /// configured for team `Forge`, until it is saved with another config.
    pub fn macro_on(
        &self,
        site: &tenants::Installation,
        page: &tenants::Page,
    ) -> Option<MacroInstance> {
        let mut macros = self.macros.lock().expect("macros");
        let key = (site.handle.to_owned(), page.id.to_owned());
        if !macros.contains_key(&key) && page.with_macro {
            let seeded = MacroInstance {
                local_id: format!("seeded-{}-{}", site.handle, page.id),
                config: serde_json::json!({ "team": "Forge" }),
            };
            macros.insert(key.clone(), seeded);
        }
        macros.get(&key).cloned()
    }
}

/// A running host. The remote reads its JWKS URL and app id from here.
pub struct DevHost {
    pub host_origin: String,
    pub cdn_origin: String,
    pub jwks_url: String,
    pub app_id: String,
    /// The remote's `TOKEN_ENCRYPTION_KEY` for development, kept next to the signing key.
    pub token_key: String,
}

/// Binds both listeners and serves them in the background.
pub async fn start(config: DevHostConfig) -> anyhow::Result<DevHost> {
    for addr in [config.host_addr, config.cdn_addr] {
        // The host mints tokens the remote trusts: it must never be reachable from elsewhere.
        if !addr.ip().is_loopback() {
            bail!("the local Forge host only binds to loopback, not {addr}");
        }
    }
    let manifest = Manifest::load(&config.manifest_path)?;
    let modules = manifest.ui_modules();
    let backend = manifest.backend_modules();
    let token_key =
        signing::load_or_create_token_key(&config.key_file.with_file_name("token-encryption-key"))?;
    let signer =
        Arc::new(Signer::load_or_create(&config.key_file).with_context(|| {
            format!("loading the dev signing key {}", config.key_file.display())
        })?);
    let host_listener = TcpListener::bind(config.host_addr)
        .await
        .with_context(|| format!("binding the local Forge host to {}", config.host_addr))?;
    let cdn_listener = TcpListener::bind(config.cdn_addr)
        .await
        .with_context(|| format!("binding the local Forge CDN to {}", config.cdn_addr))?;
    let host_origin = format!("http://{}", host_listener.local_addr()?);
    let cdn_origin = format!("http://{}", cdn_listener.local_addr()?);

    let app = AppIdentity::new(&manifest.app.id, manifest.app_uuid());
    let state = Arc::new(HostState {
        rest: rest::RestState {
            signer: signer.clone(),
            store: Default::default(),
        },
        signer,
        app,
        modules,
        backend,
        sites: Default::default(),
        manifest,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
        macros: Mutex::default(),
        deployment: signing::random_hex(16),
        host_origin: host_origin.clone(),
        cdn_origin: cdn_origin.clone(),
        config,
    });

    // Both answer only requests addressed to their own loopback address (DNS rebinding).
    let host_router = pages::router(state.clone())
        .merge(api::router(state.clone()))
        .merge(rest::router(state.rest.clone()))
        .layer(axum::middleware::from_fn_with_state(
            guard::OwnHost::of(host_listener.local_addr()?),
            guard::own_host_only,
        ));
    let cdn_router = cdn::router(state.clone()).layer(axum::middleware::from_fn_with_state(
        guard::OwnHost::of(cdn_listener.local_addr()?),
        guard::own_host_only,
    ));
    tokio::spawn(async move { axum::serve(host_listener, host_router).await });
    tokio::spawn(async move { axum::serve(cdn_listener, cdn_router).await });

    tracing::info!(
        "local Forge host: Jira {host_origin}/site/acme/browse/TT-1  Confluence {host_origin}/site/acme/wiki/pages/65537"
    );
    Ok(DevHost {
        jwks_url: format!("{host_origin}/.well-known/jwks.json"),
        app_id: state.app.app_id.clone(),
        token_key,
        host_origin,
        cdn_origin,
    })
}
