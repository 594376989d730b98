//! The whole local loop in one process: the local Forge host, then the remote (the `server`
//! library, booted as `server`'s own `main` boots it) trusting only the host's signing key.
//! `cargo leptos watch` runs this binary.
//!
//! `FORGE_DEV_HOST=off` runs the remote alone, configured from the environment only.

use forge_devhost::{DevHost, DevHostConfig};
use server::{configuration::Settings, startup, telemetry};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let telemetry = telemetry::init("info");

    let host = start_host().await?;
    let lookup = |name: &str| {
        host.as_ref()
            .and_then(|host| setting(host, name))
            .or_else(|| std::env::var(name).ok())
    };

    let served = startup::serve_or_exit(Settings::from_lookup(lookup)).await;
    telemetry.shutdown().await;
    served
}

/// Starts the local Forge host unless `FORGE_DEV_HOST=off`.
async fn start_host() -> anyhow::Result<Option<DevHost>> {
    let remote_addr = std::env::var("LEPTOS_SITE_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".into())
        .parse()?;
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    match DevHostConfig::from_env(remote_addr, site_root.into())? {
        Some(config) => Ok(Some(forge_devhost::start(config).await?)),
        None => Ok(None),
    }
}

/// Settings the host decides while it runs.
fn setting(host: &DevHost, name: &str) -> Option<String> {
    match name {
        // Trust only the host's key: a token minted for real Forge must not work locally,
        // nor one of ours anywhere else.
        "FORGE_JWKS_URL" => Some(host.jwks_url.clone()),
        "FORGE_APP_ID" => std::env::var(name)
            .ok()
            .or_else(|| Some(host.app_id.clone())),
        // The host's REST stand-in is the FIT's apiBaseUrl: forwarded tokens may go there,
        // and only there (loopback), not to Atlassian.
        "FORGE_API_HOSTS" => Some(host.host_origin.trim_start_matches("http://").to_owned()),
        // A development key, kept under target/forge-dev; a deployment sets its own.
        "TOKEN_ENCRYPTION_KEY" => std::env::var(name)
            .ok()
            .or_else(|| Some(host.token_key.clone())),
        // requestRemote is sent by the product page, here the host's origin.
        "FORGE_CORS_ORIGINS" => {
            let configured = std::env::var(name)
                .unwrap_or_else(|_| server::configuration::DEFAULT_CORS_ORIGINS.into());
            Some(format!("{configured},{}", host.host_origin))
        }
        _ => None,
    }
}
