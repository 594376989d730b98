//! Load-test helper for `scripts/load.sh`: a local JWKS host with freshly minted long-lived
//! tokens, a seeder that fills a macro's team list through the API, and an open-loop fixed-rate
//! load generator that reports percentiles.
//!
//! ```not_rust
//! load free-port
//! load jwks <dir> <app-id> <team> <serve-seconds> [<issues> <jira-fail-percent>]
//! load seed <base-url> <token-file> <team> <count>
//! load rate <url> <token-file> <requests-per-second> <seconds>
//! load writes <base-url> <dir> <issues> <requests-per-second> <seconds>
//! load mixed <base-url> <dir> <issues> <requests-per-second> <seconds> <write-percent>
//! load once <base-url> <dir> <first-issue> <issues> <marker-file>
//! load otlp-sink <dir> <seconds>
//! ```
//!
//! `otlp-sink` accepts OTLP/HTTP exports for `seconds` (writing its URL to `<dir>/otlp-url`)
//! and discards them: the receiving end when measuring what tracing costs the remote.
//!
//! `jwks` writes `<dir>/jwks-url` and three tokens signed by a fresh key: `<dir>/issue-panel.jwt`
//! (a Jira issue panel), `<dir>/macro.jwt` (a Confluence macro whose saved configuration is
//! `{"team": <team>}`) and `<dir>/trigger.jwt` (a lifecycle trigger: no user, no UI context),
//! then serves the JWKS for `serve-seconds` and exits.
//!
//! With `<issues>`, `jwks` also serves a Jira stand-in for `tasks-progress` writes, which answers
//! `jira-fail-percent` % of them 503 (chosen by a hash of the write's number, deterministically), writes its URL to
//! `<dir>/jira-url` and one issue-panel token per issue, `<dir>/issue-<i>.jwt`, whose
//! `apiBaseUrl` is the stand-in. `GET <jira-url>/__writes` lists the writes it accepted.
//!
//! `writes` adds tasks at a fixed rate, round robin over the issues, then waits until Jira holds
//! each issue's final progress, and reports the outbox's delay: from each change's answer to
//! the first accepted property write that shows it (0 when the request wrote it itself, before
//! answering). Its last line is `result changes=… errors=… before_answer=… p50_ms=… p99_ms=…
//! max_ms=… final_ok=…`.
//!
//! `mixed` (scripts/replicas.sh) sends, on a fixed schedule, `GET /tasks` and, for
//! `write-percent` % of the requests, `POST /tasks`, round robin over the issues. Any answer
//! but a 2xx, and any connection error, is a failure. At the end it lists every issue again
//! and checks that each acknowledged task is there, then waits until Jira holds each issue's
//! final progress. Its last line is `result requests=… failed=… writes=… missing=… final_ok=…
//! p50_ms=… p99_ms=… max_ms=… statuses=…`.
//!
//! `once` turns the Jira stand-in down, adds one task on each of `issues` issues from
//! `first-issue` on, turns Jira up again, touches `marker-file` (the script restarts a replica
//! then), and waits until each issue's property is written. Then it waits 3 s more, and counts
//! each issue's accepted writes since Jira came up. Its last line is `result issues=…
//! once=… more=… missing=…`: the outbox delivers each due property exactly once.
//!
//! `seed` creates `count` tasks in `team` with `POST /tasks`, marks every third one done, and
//! checks that `GET /tasks?team=` lists exactly them.
//!
//! `rate` sends on a fixed schedule whatever the answers do, and measures each latency from the
//! moment the request was *due*, so a stalled server shows up in the percentiles instead of
//! quietly slowing the sender (no coordinated omission). Its last line is machine-readable:
//! `result requests=… errors=… p50_ms=… p90_ms=… p99_ms=… max_ms=…`.

use std::{env, time::Duration};

use anyhow::{ensure, Context as _};
use app::{
    functions::{CreateTask, UpdateTask},
    tasks::{TaskChange, TaskList},
};
use forge_fit::mint;

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
        ["jwks", dir, app_id, team, seconds] => {
            serve_jwks(dir, app_id, team, seconds.parse()?, None).await
        }
        ["jwks", dir, app_id, team, seconds, issues, fail] => {
            let jira = Some((issues.parse()?, fail.parse()?));
            serve_jwks(dir, app_id, team, seconds.parse()?, jira).await
        }
        ["writes", base_url, dir, issues, rate, seconds] => {
            writes(
                base_url,
                dir,
                issues.parse()?,
                rate.parse()?,
                seconds.parse()?,
            )
            .await
        }
        ["mixed", base_url, dir, issues, rate, seconds, write_percent] => {
            mixed(
                base_url,
                dir,
                issues.parse()?,
                rate.parse()?,
                seconds.parse()?,
                write_percent.parse()?,
            )
            .await
        }
        ["once", base_url, dir, first, issues, marker] => {
            once(base_url, dir, first.parse()?, issues.parse()?, marker).await
        }
        ["otlp-sink", dir, seconds] => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let url = format!("http://{}", listener.local_addr()?);
            std::fs::write(std::path::Path::new(dir).join("otlp-url"), url)?;
            let app = axum::Router::new().route(
                "/v1/traces",
                axum::routing::post(|_: axum::body::Bytes| async { "" }),
            );
            let serve = axum::serve(listener, app);
            let _ = tokio::time::timeout(Duration::from_secs(seconds.parse()?), serve).await;
            Ok(())
        }
        ["seed", base_url, token_file, team, count] => {
            let token = std::fs::read_to_string(token_file)?;
            seed(base_url, token.trim(), team, count.parse()?).await
        }
        ["rate", url, token_file, rate, seconds] => {
            let token = std::fs::read_to_string(token_file)?;
            fixed_rate(url, token.trim(), rate.parse()?, seconds.parse()?).await
        }
        _ => anyhow::bail!("usage: see the module documentation of server/examples/load.rs"),
    }
}

/// Serves a JWKS with one fresh key for `seconds`, after writing tokens signed by it (valid for
/// that long: far beyond Forge's 25 s, which a load test would outlive) and the JWKS URL.
async fn serve_jwks(
    dir: &str,
    app_id: &str,
    team: &str,
    seconds: u64,
    jira: Option<(usize, u64)>,
) -> anyhow::Result<()> {
    let dir = std::path::Path::new(dir);
    let key = mint::SigningKey::generate("forge/invocation-token/wf-load");
    let exp = mint::now() + seconds + 60;
    if let Some((issues, fail_percent)) = jira {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let jira_url = format!("http://{}", listener.local_addr()?);
        for i in 0..issues {
            let mut claims = mint::issue_panel_claims(app_id, mint::now());
            claims.exp = exp;
            let cloud = claims
                .context
                .as_ref()
                .map(|c| c.cloud_id.clone())
                .unwrap_or_default();
            claims.app.api_base_url = format!("{jira_url}/ex/jira/{cloud}");
            if let Some(forge_fit::ExtensionClaims::IssuePanel { issue, .. }) =
                claims.context.as_mut().and_then(|c| c.extension.as_mut())
            {
                issue.id = issue_id(i);
            }
            std::fs::write(dir.join(format!("issue-{i}.jwt")), key.sign(&claims))?;
        }
        std::fs::write(dir.join("jira-url"), &jira_url)?;
        tokio::spawn(jira_stand_in(listener, fail_percent));
    }
    let mut panel = mint::issue_panel_claims(app_id, mint::now());
    panel.exp = exp;
    std::fs::write(dir.join("issue-panel.jwt"), key.sign(&panel))?;
    let mut macro_claims = mint::macro_claims(app_id, mint::now(), team);
    macro_claims.exp = exp;
    std::fs::write(dir.join("macro.jwt"), key.sign(&macro_claims))?;
    // A lifecycle trigger's token: no user, no UI extension (what Forge sends a trigger).
    let mut trigger = mint::issue_panel_claims(app_id, mint::now());
    trigger.exp = exp;
    trigger.principal = None;
    trigger.app.module.kind = "core:trigger".into();
    if let Some(context) = trigger.context.as_mut() {
        context.extension = None;
    }
    std::fs::write(dir.join("trigger.jwt"), key.sign(&trigger))?;

    let jwks = serde_json::to_string(&mint::SigningKey::jwks([&key]))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    // Written last: the script waits for this file, and then finds the tokens too.
    std::fs::write(
        dir.join("jwks-url"),
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

/// Fills `team`'s list through the API, the way the macro would.
async fn seed(base_url: &str, token: &str, team: &str, count: usize) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    for i in 1..=count {
        let new = CreateTask {
            title: format!("Load-test task {i:02}: review the sprint board"),
            team: Some(team.to_owned()),
        };
        let response = client
            .post(format!("{base_url}/tasks"))
            .bearer_auth(token)
            .json(&new)
            .send()
            .await?;
        ensure!(
            response.status() == reqwest::StatusCode::CREATED,
            "POST /tasks answered {}: {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
        let created: TaskChange = response.json().await?;
        if i % 3 == 0 {
            let patch = UpdateTask {
                id: created.task.id,
                title: None,
                done: Some(true),
                team: Some(team.to_owned()),
            };
            let response = client
                .patch(format!("{base_url}/task"))
                .bearer_auth(token)
                .json(&patch)
                .send()
                .await?;
            ensure!(
                response.status().is_success(),
                "PATCH answered {}",
                response.status()
            );
        }
    }
    let list: TaskList = client
        .get(format!("{base_url}/tasks"))
        .query(&[("team", team)])
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
        .context("reading GET /tasks")?;
    ensure!(
        list.tasks.len() == count && list.progress.done as usize == count / 3,
        "expected {count} tasks ({} done), listed {} ({} done)",
        count / 3,
        list.tasks.len(),
        list.progress.done
    );
    println!(
        "seeded team {team:?}: {} tasks, {} done",
        list.progress.total, list.progress.done
    );
    Ok(())
}

async fn fixed_rate(url: &str, token: &str, rate: u64, seconds: u64) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let total = rate * seconds;
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let runtime = tokio::runtime::Handle::current();
    let (url, token) = (url.to_owned(), token.to_owned());

    // The pacer is an OS thread sleeping with nanosleep, not a tokio timer: tokio's timer ticks
    // in whole milliseconds, so `sleep_until(due)` would send up to 1 ms late and charge that
    // to the server. How late each request actually left is measured and reported, so the
    // generator's own share of the latency is visible.
    let pacer = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        let mut requests = Vec::with_capacity(total as usize);
        let mut lateness = Vec::with_capacity(total as usize);
        for i in 0..total {
            let due = start + period.mul_f64(i as f64);
            if let Some(wait) = due.checked_duration_since(std::time::Instant::now()) {
                std::thread::sleep(wait);
            }
            lateness.push(due.elapsed());
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            requests.push(runtime.spawn(async move {
                let ok = match client.get(url).bearer_auth(token).send().await {
                    // Read the whole body: the request is done when the answer is.
                    Ok(response) if response.status().is_success() => {
                        response.bytes().await.is_ok()
                    }
                    _ => false,
                };
                // Measured from when it was due, not from when it was sent.
                (ok, due.elapsed())
            }));
        }
        (requests, lateness, start.elapsed())
    });
    let (requests, mut lateness, sending) = tokio::task::spawn_blocking(move || pacer.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the pacer thread panicked"))?;

    let mut latencies = Vec::with_capacity(total as usize);
    let mut errors = 0;
    for request in requests {
        let (ok, latency) = request.await?;
        errors += usize::from(!ok);
        latencies.push(latency);
    }
    latencies.sort_unstable();
    lateness.sort_unstable();
    let pct = |v: &[Duration], p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let max = *latencies.last().context("no requests sent")?;
    println!(
        "fixed rate {rate}/s for {seconds} s: {total} requests in {:.2} s ({:.0}/s achieved), \
         {errors} errors",
        sending.as_secs_f64(),
        total as f64 / sending.as_secs_f64()
    );
    println!(
        "sent late by (generator's share): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(pct(&lateness, 0.50)),
        ms(pct(&lateness, 0.99)),
        ms(*lateness.last().context("no requests sent")?)
    );
    println!(
        "latency from due time: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
        ms(pct(&latencies, 0.50)),
        ms(pct(&latencies, 0.90)),
        ms(pct(&latencies, 0.99)),
        ms(pct(&latencies, 0.999)),
        ms(max)
    );
    println!(
        "result requests={total} errors={errors} p50_ms={:.3} p90_ms={:.3} p99_ms={:.3} max_ms={:.3}",
        ms(pct(&latencies, 0.50)),
        ms(pct(&latencies, 0.90)),
        ms(pct(&latencies, 0.99)),
        ms(max)
    );
    Ok(())
}

/// The `i`-th load-test issue's id.
fn issue_id(i: usize) -> String {
    format!("{}", 30_000 + i)
}

fn epoch_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// One accepted property write: issue, the `total` it set, and when (µs since the epoch).
type Write = (String, u32, u64);

/// Jira's entity-property endpoint, failing every n-th write with 503.
async fn jira_stand_in(listener: tokio::net::TcpListener, fail_percent: u64) {
    use axum::{extract::Path, http::StatusCode, routing, Json};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{atomic::AtomicU64, Arc, Mutex};
    let accepted: Arc<Mutex<Vec<Write>>> = Arc::default();
    let seen = Arc::new(AtomicU64::new(0));
    // `POST /__down` and `/__up`: every write fails with 503 while down.
    let down = Arc::new(AtomicBool::new(false));
    // Which writes fail: a hash of the write's number, so failures fall on every issue alike
    // (failing every n-th write would, under round robin, always fail the same issues).
    let put = {
        let accepted = accepted.clone();
        let down = down.clone();
        move |Path((_cloud, issue, _key)): Path<(String, String, String)>,
              Json(body): Json<serde_json::Value>| {
            let accepted = accepted.clone();
            let n = seen.fetch_add(1, Ordering::Relaxed) + 1;
            let down = down.load(Ordering::Relaxed);
            async move {
                if down {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                if n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) % 100 < fail_percent {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let total = body["total"].as_u64().unwrap_or(0) as u32;
                accepted
                    .lock()
                    .unwrap()
                    .push((issue, total, epoch_micros()));
                StatusCode::OK
            }
        }
    };
    let list = move || {
        let accepted = accepted.clone();
        async move { Json(accepted.lock().unwrap().clone()) }
    };
    let app = axum::Router::new()
        .route(
            "/ex/jira/{cloud}/rest/api/3/issue/{issue}/properties/{key}",
            routing::put(put),
        )
        .route("/__writes", routing::get(list))
        .route(
            "/__down",
            routing::post({
                let down = down.clone();
                move || async move { down.store(true, Ordering::Relaxed) }
            }),
        )
        .route(
            "/__up",
            routing::post(move || async move { down.store(false, Ordering::Relaxed) }),
        );
    let _ = axum::serve(listener, app).await;
}

/// Adds tasks at `rate`/s for `seconds`, round robin over `issues`, then measures how long each
/// change took to reach Jira's property.
async fn writes(
    base_url: &str,
    dir: &str,
    issues: usize,
    rate: u64,
    seconds: u64,
) -> anyhow::Result<()> {
    let dir = std::path::Path::new(dir);
    let tokens = issue_tokens(dir, 0, issues)?;
    let jira_url = std::fs::read_to_string(dir.join("jira-url"))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let total = rate * seconds;
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    // The stand-in serves every run of a load test: only its writes from now on are this run's.
    let since = epoch_micros();
    let start = tokio::time::Instant::now();
    let mut sent = Vec::with_capacity(total as usize);
    for n in 0..total {
        tokio::time::sleep_until(start + period.mul_f64(n as f64)).await;
        let i = n as usize % issues;
        let (client, token, url) = (
            client.clone(),
            tokens[i].clone(),
            format!("{base_url}/tasks"),
        );
        sent.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .header("x-forge-oauth-system", "load-test-system-token")
                .json(&CreateTask {
                    title: format!("Outbox load {n}"),
                    team: None,
                })
                .send()
                .await
                .ok()?;
            if response.status() != reqwest::StatusCode::CREATED {
                return None;
            }
            let change: TaskChange = response.json().await.ok()?;
            Some((issue_id(i), change.progress.total, epoch_micros()))
        }));
    }
    let mut changes = Vec::new();
    let mut errors = 0;
    for request in sent {
        match request.await? {
            Some(change) => changes.push(change),
            None => errors += 1,
        }
    }
    // The last state of each issue, which Jira must end with.
    let mut finals = std::collections::HashMap::<String, u32>::new();
    for (issue, total, _) in &changes {
        let best = finals.entry(issue.clone()).or_default();
        *best = (*best).max(*total);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let accepted: Vec<Write> = loop {
        let accepted = jira_writes(&client, &jira_url, since).await?;
        if holds_finals(&accepted, &finals) || std::time::Instant::now() > deadline {
            break accepted;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let final_ok = holds_finals(&accepted, &finals);
    // Each change's delay: the first accepted write of its issue with at least its total.
    let mut delays = Vec::with_capacity(changes.len());
    let mut before_answer = 0;
    let mut undelivered = 0;
    for (issue, total, answered) in &changes {
        let written = accepted
            .iter()
            .filter(|(i, t, _)| i == issue && t >= total)
            .map(|(_, _, at)| *at)
            .min();
        let Some(written) = written else {
            undelivered += 1;
            continue;
        };
        if written <= *answered {
            before_answer += 1;
        }
        delays.push(Duration::from_micros(written.saturating_sub(*answered)));
    }
    delays.sort_unstable();
    ensure!(!delays.is_empty(), "no change reached Jira");
    let pct = |p: f64| delays[((delays.len() as f64 * p) as usize).min(delays.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{} changes ({errors} errors) on {issues} issues at {rate}/s; {before_answer} written by \
         their own request before it answered, {undelivered} never shown by any write; final \
         property right on every issue: {final_ok}",
        changes.len()
    );
    println!(
        "result changes={} errors={errors} before_answer={before_answer} undelivered={undelivered} p50_ms={:.1} p99_ms={:.1} max_ms={:.1} final_ok={final_ok}",
        changes.len(),
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(*delays.last().unwrap())
    );
    Ok(())
}

/// The issue tokens `first..first + count` from `dir`.
fn issue_tokens(dir: &std::path::Path, first: usize, count: usize) -> anyhow::Result<Vec<String>> {
    (first..first + count)
        .map(|i| {
            std::fs::read_to_string(dir.join(format!("issue-{i}.jwt")))
                .map(|t| t.trim().to_owned())
                .with_context(|| format!("no token for issue {i}"))
        })
        .collect()
}

/// Whether Jira's last accepted write of each issue in `finals` carries that issue's final
/// `total`.
fn holds_finals(accepted: &[Write], finals: &std::collections::HashMap<String, u32>) -> bool {
    let mut last = std::collections::HashMap::<&str, u32>::new();
    for (issue, total, _) in accepted {
        last.insert(issue, *total);
    }
    finals
        .iter()
        .all(|(issue, total)| last.get(issue.as_str()) == Some(total))
}

/// The writes the Jira stand-in accepted from `since` (µs since the epoch) on, in order.
async fn jira_writes(
    client: &reqwest::Client,
    jira_url: &str,
    since: u64,
) -> anyhow::Result<Vec<Write>> {
    let mut accepted: Vec<Write> = client
        .get(format!("{jira_url}/__writes"))
        .send()
        .await?
        .json()
        .await?;
    accepted.retain(|(_, _, at)| *at >= since);
    Ok(accepted)
}

/// A mixed read/write load through a load balancer; see the module documentation.
async fn mixed(
    base_url: &str,
    dir: &str,
    issues: usize,
    rate: u64,
    seconds: u64,
    write_percent: u64,
) -> anyhow::Result<()> {
    use std::collections::{BTreeMap, HashMap};
    let dir = std::path::Path::new(dir);
    let tokens = issue_tokens(dir, 0, issues)?;
    let jira_url = std::fs::read_to_string(dir.join("jira-url"))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let total = rate * seconds;
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now();
    let mut sent = Vec::with_capacity(total as usize);
    for n in 0..total {
        let due = start + period.mul_f64(n as f64);
        tokio::time::sleep_until(due).await;
        let i = n as usize % issues;
        let write = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29) % 100 < write_percent;
        let (client, token) = (client.clone(), tokens[i].clone());
        let url = format!("{base_url}/tasks");
        sent.push(tokio::spawn(async move {
            let request = if write {
                client
                    .post(url)
                    .header("x-forge-oauth-system", "load-test-system-token")
                    .json(&CreateTask {
                        title: format!("Mixed load {n}"),
                        team: None,
                    })
            } else {
                client.get(url)
            };
            let outcome = request.bearer_auth(token).send().await;
            let latency = due.elapsed();
            let (status, created) = match outcome {
                Ok(response) => {
                    let status = response.status();
                    let created = if write && status == reqwest::StatusCode::CREATED {
                        response.json::<TaskChange>().await.ok().map(|c| c.task.id)
                    } else {
                        None
                    };
                    (status.as_u16().to_string(), created)
                }
                Err(e) if e.is_timeout() => ("timeout".to_owned(), None),
                Err(_) => ("connection_error".to_owned(), None),
            };
            (i, write, status, created, latency)
        }));
    }
    let mut statuses = BTreeMap::<String, u64>::new();
    let mut failed = 0;
    let mut acked: HashMap<usize, Vec<String>> = HashMap::new();
    let mut writes = 0;
    let mut latencies = Vec::with_capacity(sent.len());
    for request in sent {
        let (i, write, status, created, latency) = request.await?;
        latencies.push(latency);
        if !status.starts_with('2') {
            failed += 1;
        }
        if write {
            match created {
                Some(id) => {
                    writes += 1;
                    acked.entry(i).or_default().push(id);
                }
                None => {
                    if status.starts_with('2') {
                        failed += 1;
                    }
                }
            }
        }
        *statuses.entry(status).or_default() += 1;
    }
    // Every acknowledged write must be there, and Jira must end with each list's progress.
    let mut missing = 0;
    let mut finals = HashMap::<String, u32>::new();
    for (i, token) in tokens.iter().enumerate() {
        let list: TaskList = client
            .get(format!("{base_url}/tasks"))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let listed: std::collections::HashSet<&str> =
            list.tasks.iter().map(|t| t.id.as_str()).collect();
        missing += acked
            .get(&i)
            .map(|ids| {
                ids.iter()
                    .filter(|id| !listed.contains(id.as_str()))
                    .count()
            })
            .unwrap_or(0);
        if list.progress.total > 0 {
            finals.insert(issue_id(i), list.progress.total);
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let final_ok = loop {
        let accepted = jira_writes(&client, &jira_url, 0).await?;
        let ok = holds_finals(&accepted, &finals);
        if ok || std::time::Instant::now() > deadline {
            break ok;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}:{n}")).collect();
    println!(
        "result requests={total} failed={failed} writes={writes} missing={missing} final_ok={final_ok} \
         p50_ms={:.2} p99_ms={:.2} max_ms={:.2} statuses={}",
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(*latencies.last().unwrap_or(&Duration::ZERO)),
        statuses.join(",")
    );
    Ok(())
}

/// Exactly-once delivery of due properties; see the module documentation.
async fn once(
    base_url: &str,
    dir: &str,
    first: usize,
    issues: usize,
    marker: &str,
) -> anyhow::Result<()> {
    let dir = std::path::Path::new(dir);
    let tokens = issue_tokens(dir, first, issues)?;
    let jira_url = std::fs::read_to_string(dir.join("jira-url"))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    client
        .post(format!("{jira_url}/__down"))
        .send()
        .await?
        .error_for_status()?;
    for token in &tokens {
        let response = client
            .post(format!("{base_url}/tasks"))
            .bearer_auth(token)
            .header("x-forge-oauth-system", "load-test-system-token")
            .json(&CreateTask {
                title: "Due while Jira is down".into(),
                team: None,
            })
            .send()
            .await?;
        ensure!(
            response.status() == reqwest::StatusCode::CREATED,
            "POST /tasks answered {}",
            response.status()
        );
    }
    let since = epoch_micros();
    client
        .post(format!("{jira_url}/__up"))
        .send()
        .await?
        .error_for_status()?;
    std::fs::write(marker, "up")?;
    let ids: Vec<String> = (first..first + issues).map(issue_id).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let accepted = jira_writes(&client, &jira_url, since).await?;
        let all = ids
            .iter()
            .all(|id| accepted.iter().any(|(i, _, _)| i == id));
        if all || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Time for a second write, from any replica, to show.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let accepted = jira_writes(&client, &jira_url, since).await?;
    let count = |id: &String| accepted.iter().filter(|(i, _, _)| i == id).count();
    let once = ids.iter().filter(|id| count(id) == 1).count();
    let more = ids.iter().filter(|id| count(id) > 1).count();
    let missing = ids.iter().filter(|id| count(id) == 0).count();
    println!("result issues={issues} once={once} more={more} missing={missing}");
    Ok(())
}
