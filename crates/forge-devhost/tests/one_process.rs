//! The `forge-devhost` binary runs the whole local loop in one process: the host, and the
//! remote trusting the host's key (and only it), as `cargo leptos watch` starts them.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::{json, Value};

/// A free loopback address (bound, then released for the child to take).
fn free_addr() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for(client: &reqwest::Client, url: &str, child: &mut Child) {
    for _ in 0..600 {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("forge-devhost exited ({status}) before {url} answered");
        }
        if client.get(url).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not answer");
}

#[tokio::test]
async fn one_binary_runs_the_host_and_a_remote_that_trusts_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (remote, host, cdn) = (free_addr(), free_addr(), free_addr());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut child = Command::new(env!("CARGO_BIN_EXE_forge-devhost"))
        .current_dir(&root)
        .env_remove("FORGE_JWKS_URL")
        .env_remove("FORGE_APP_ID")
        .env_remove("FORGE_DEV_HOST")
        .env_remove("LEPTOS_WATCH")
        .env("REMOTE_BASE_URL", "https://team-tasks-remote.invalid")
        .env("LEPTOS_SITE_ADDR", &remote)
        .env("FORGE_DEV_HOST_ADDR", &host)
        .env("FORGE_DEV_CDN_ADDR", &cdn)
        .env("FORGE_DEV_KEY_FILE", dir.path().join("key.der"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("tasks.db").display()),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting forge-devhost");
    let client = reqwest::Client::new();
    wait_for(&client, &format!("http://{remote}/healthz"), &mut child).await;
    let _running = Running(child);

    let jwks: Value = client
        .get(format!("http://{host}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1), "{jwks}");

    // A FIT minted by the host, for the Jira issue panel, verifies at the remote.
    let placement = json!({ "site": "acme", "user": "alice", "module": "team-tasks-issue-panel", "issue": "TT-1" });
    let fit: Value = client
        .post(format!("http://{host}/__devhost/api/fit"))
        .json(&placement)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = fit["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {fit}"));
    let whoami = client
        .get(format!("http://{remote}/whoami"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(whoami.status(), reqwest::StatusCode::OK);

    // The same through the host's invocation service (`invokeRemote`).
    let invoked: Value = client
        .post(format!("http://{host}/__devhost/api/invoke"))
        .json(&json!({ "placement": placement, "call": { "path": "/whoami", "method": "GET" } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(invoked["ok"], true, "{invoked}");
    assert_eq!(invoked["value"]["payload"]["status"], 200, "{invoked}");

    // And nothing else: a token from another key is refused.
    let stranger = client
        .get(format!("http://{remote}/whoami"))
        .bearer_auth(forge_fit::mint::SigningKey::generate("stranger").sign(
            &forge_fit::mint::issue_panel_claims(
                fit_app_id(token).as_str(),
                forge_fit::mint::now(),
            ),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), reqwest::StatusCode::UNAUTHORIZED);
}

/// The `aud` of a token, read without verifying it.
fn fit_app_id(token: &str) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let claims = token.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    claims["aud"].as_str().unwrap().to_owned()
}
