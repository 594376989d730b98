//! The real `server` binary as a child process, for the tests that need its `main`: signals,
//! the global tracing subscriber. Included with `#[path]` next to `api/helpers.rs`.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::helpers::{APP_ID, TOKEN_KEY};

/// A running server on a free loopback port, with a fresh SQLite database. Killed if the test
/// ends (or panics) before it exits.
pub struct ServerProcess {
    child: Option<Child>,
    pub port: u16,
    _data: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts the binary trusting `jwks_url`, with `RUST_LOG=warn` and `env` on top, and
    /// returns once `/readyz` says 200.
    pub async fn start(jwks_url: &str, env: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env_clear()
            .env("FORGE_APP_ID", APP_ID)
            .env("FORGE_JWKS_URL", jwks_url)
            .env("TOKEN_ENCRYPTION_KEY", TOKEN_KEY)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/t.db", data.path().display()),
            )
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self {
            child: Some(child),
            port,
            _data: data,
        };
        let started = Instant::now();
        while server.ready().await != Some(200) {
            assert!(started.elapsed() < Duration::from_secs(30), "never ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `/readyz`'s status, or `None` when nothing answers.
    pub async fn ready(&self) -> Option<u16> {
        reqwest::get(format!("{}/readyz", self.base()))
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }

    pub fn sigterm(&self) {
        let pid = self.child.as_ref().expect("running").id();
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
    }

    /// Waits for the process to end; its exit code.
    pub async fn exit_code(&mut self) -> Option<i32> {
        let mut child = self.child.take().expect("running");
        tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap()
            .code()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
