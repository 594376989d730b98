//! Boots the remote: settings, telemetry, then serve until Ctrl-C or SIGTERM.
//!
//! This is the production binary. It contains no local Forge host: that is the
//! `forge-devhost` crate, whose binary runs the host and this remote in one process for
//! `cargo leptos watch`.

use server::{configuration::Settings, startup::Application, telemetry};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("info");

    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            // Refuse to start on a bad configuration, and say exactly what is wrong.
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let app = Application::build(settings).await?;
    tracing::info!(addr = %app.local_addr(), "Forge remote listening");
    app.run_until_stopped().await
}
