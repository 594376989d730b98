//! Load-test helper for `scripts/load-whoami.sh`: a local JWKS host with a freshly minted
//! long-lived token, and an open-loop fixed-rate load generator that reports percentiles.
//!
//! ```not_rust
//! load_whoami free-port
//! load_whoami jwks <token-file> <url-file> <app-id> <serve-seconds>
//! load_whoami rate <url> <token-file> <requests-per-second> <seconds>
//! ```
//!
//! `rate` sends on a fixed schedule whatever the answers do, and measures each latency from the
//! moment the request was *due*, so a stalled server shows up in the percentiles instead of
//! quietly slowing the sender (no coordinated omission).

use std::{env, time::Duration};

use server::fit::mint;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["free-port"] => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            println!("{}", listener.local_addr()?.port());
            Ok(())
        }
        ["jwks", token_file, url_file, app_id, seconds] => {
            serve_jwks(token_file, url_file, app_id, seconds.parse()?).await
        }
        ["rate", url, token_file, rate, seconds] => {
            let token = std::fs::read_to_string(token_file)?;
            fixed_rate(url, token.trim(), rate.parse()?, seconds.parse()?).await
        }
        _ => anyhow::bail!("usage: see the module documentation of examples/load_whoami.rs"),
    }
}

/// Serves a JWKS with one fresh key for `seconds`, after writing a token signed by it (valid for
/// that long: far beyond Forge's 25 s, which a load test would outlive) and the JWKS URL.
async fn serve_jwks(
    token_file: &str,
    url_file: &str,
    app_id: &str,
    seconds: u64,
) -> anyhow::Result<()> {
    let key = mint::SigningKey::generate("forge/invocation-token/wf-load");
    let mut claims = mint::issue_panel_claims(app_id, mint::now());
    claims.exp = mint::now() + seconds + 60;
    std::fs::write(token_file, key.sign(&claims))?;

    let jwks = serde_json::to_string(&mint::SigningKey::jwks([&key]))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    std::fs::write(
        url_file,
        format!("http://{}/jwks.json", listener.local_addr()?),
    )?;
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { jwks }
        }),
    );
    // Bounded: stops by itself even if the script dies without killing it.
    let _ = tokio::time::timeout(Duration::from_secs(seconds), axum::serve(listener, app)).await;
    Ok(())
}

async fn fixed_rate(url: &str, token: &str, rate: u64, seconds: u64) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let total = rate * seconds;
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tasks = tokio::task::JoinSet::new();
    let start = tokio::time::Instant::now();

    for i in 0..total {
        let due = start + period * u32::try_from(i)?;
        tokio::time::sleep_until(due).await;
        let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
        tasks.spawn(async move {
            let ok = client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            (ok, due.elapsed())
        });
    }
    let sending = start.elapsed();

    let mut latencies = Vec::with_capacity(total as usize);
    let mut errors = 0;
    while let Some(result) = tasks.join_next().await {
        let (ok, latency) = result?;
        errors += usize::from(!ok);
        latencies.push(latency);
    }
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "fixed rate {rate}/s for {seconds} s: {total} requests in {:.2} s ({:.0}/s achieved), \
         {errors} errors",
        sending.as_secs_f64(),
        total as f64 / sending.as_secs_f64()
    );
    println!(
        "latency from due time: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(pct(0.999)),
        ms(*latencies.last().unwrap())
    );
    Ok(())
}
