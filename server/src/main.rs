//! Boots the remote: settings, telemetry, then serve until Ctrl-C or SIGTERM.
//!
//! This is the production binary. It contains no local Forge host: that is the
//! `forge-devhost` crate, whose binary runs the host and this remote in one process for
//! `cargo leptos watch`.

use server::{configuration::Settings, startup, telemetry};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let telemetry = telemetry::init("info");
    let served = startup::serve_or_exit(Settings::from_env()).await;
    telemetry.shutdown().await;
    served
}
