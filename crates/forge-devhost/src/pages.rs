//! The emulated product pages: a Jira issue view and a Confluence page, each hosting the
//! resource in an iframe configured as Forge configures it.

use std::sync::Arc;

use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::get,
    Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{cdn, csp::SANDBOX, tenants, HostState};

const HOST_JS: &str = include_str!("assets/host.js");
const HOST_CSS: &str = include_str!("assets/host.css");

pub fn router(state: Arc<HostState>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/site/{site}/browse/{issue}", get(jira_issue))
        .route("/site/{site}/wiki/pages/{page}", get(confluence_page))
        .route(
            "/__devhost/host.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    HOST_JS,
                )
            }),
        )
        .route(
            "/__devhost/host.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    HOST_CSS,
                )
            }),
        )
        .with_state(state)
}

#[derive(Deserialize)]
struct Viewer {
    #[serde(default = "default_user")]
    user: String,
    #[serde(default)]
    theme: Option<String>,
}

fn default_user() -> String {
    "alice".into()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn index(State(state): State<Arc<HostState>>) -> Html<String> {
    let mut rows = String::new();
    for site in tenants::INSTALLATIONS {
        for issue in site.issues {
            rows.push_str(&format!(
                r#"<li><a href="/site/{s}/browse/{k}">{n} · Jira {k}: {t}</a></li>"#,
                s = site.handle,
                k = issue.key,
                n = site.name,
                t = escape(issue.summary)
            ));
        }
        for page in site.pages {
            rows.push_str(&format!(
                r#"<li><a href="/site/{s}/wiki/pages/{id}">{n} · Confluence: {t}</a></li>"#,
                s = site.handle,
                id = page.id,
                n = site.name,
                t = escape(page.title)
            ));
        }
    }
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Local Forge host</title>
<link rel="stylesheet" href="/__devhost/host.css"><link rel="icon" href="data:,"></head>
<body><header class="host-bar"><strong>Local Forge host</strong><span>app {app}</span></header>
<main class="host-index"><h1>Pick a page</h1><ul>{rows}</ul>
<p>Remote: <code>{remote}</code> · CDN: <code>{cdn}</code> · JWKS: <code>/.well-known/jwks.json</code></p></main></body></html>"#,
        app = escape(&state.app.app_id),
        remote = escape(&state.config.remote_url),
        cdn = escape(&state.cdn_origin),
    ))
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(format!("<h1>Not found</h1><p>{}</p>", escape(what))),
    )
        .into_response()
}

/// The top bar shared by both products: site, user and theme switchers.
fn host_bar(
    state: &HostState,
    product: &str,
    site: &tenants::Installation,
    viewer: &Viewer,
) -> String {
    let options = |items: Vec<(&str, &str)>, selected: &str| {
        items
            .into_iter()
            .map(|(value, label)| {
                let sel = if value == selected { " selected" } else { "" };
                format!(r#"<option value="{value}"{sel}>{}</option>"#, escape(label))
            })
            .collect::<String>()
    };
    // Each site option is the same product's first page on that site.
    let href = |i: &tenants::Installation| match product {
        "Jira" => format!("/site/{}/browse/{}", i.handle, i.issues[0].key),
        _ => format!("/site/{}/wiki/pages/{}", i.handle, i.pages[0].id),
    };
    let current = href(site);
    let site_links: Vec<(String, &str)> = tenants::INSTALLATIONS
        .iter()
        .map(|i| (href(i), i.name))
        .collect();
    let sites = options(
        site_links.iter().map(|(h, n)| (h.as_str(), *n)).collect(),
        &current,
    );
    let users = options(
        tenants::USERS.iter().map(|u| (u.handle, u.name)).collect(),
        &viewer.user,
    );
    let theme = viewer.theme.as_deref().unwrap_or("light");
    let themes = options(vec![("light", "Light"), ("dark", "Dark")], theme);
    format!(
        r#"<header class="host-bar"><a href="/"><strong>Local Forge host</strong></a><span class="host-product">{product}</span>
<label>Site <select data-host-switch="href" data-testid="site-switch">{sites}</select></label>
<label>User <select data-host-switch="user" data-testid="user-switch">{users}</select></label>
<label>Theme <select data-host-switch="theme" data-testid="theme-switch">{themes}</select></label>
<span class="host-admin" data-site="{handle}">App: <button type="button" data-lifecycle="upgrade">Upgrade</button>
<button type="button" data-lifecycle="uninstall" data-testid="uninstall-app">Uninstall</button>
<button type="button" data-lifecycle="install" data-testid="install-app">Install</button>
<button type="button" data-lifecycle="scheduled">Run hourly trigger</button>
<label><input type="checkbox" data-rest-outage data-testid="rest-outage"{down}> Jira REST down</label></span></header>"#,
        handle = escape(site.handle),
        down = if state.rest.store.lock().expect("rest store").down {
            " checked"
        } else {
            ""
        },
    )
}

/// Forge's iframe sandbox; popups only with `fetch.client: '*'`.
fn sandbox() -> String {
    SANDBOX.replace("allow-popups allow-popups-to-escape-sandbox ", "")
}

const FRAME_ALLOW: &str = "camera; clipboard-write; display-capture; fullscreen; microphone";

/// The configuration `host.js` needs to answer bridge calls (and, on a Confluence page, to
/// insert the macro and open its config view), and `host.js` itself.
fn host_script(state: &HostState, placement: Value, page: Value) -> String {
    let config = json!({
        "placement": placement,
        "page": page,
        "cdnOrigin": state.cdn_origin,
        "reloadPort": state.config.reload_port,
        "sandbox": sandbox(),
        "allow": FRAME_ALLOW,
    });
    // `</` cannot end the JSON island early once escaped.
    let config = config.to_string().replace("</", "<\\/");
    format!(
        r#"<script type="application/json" id="forge-host-config">{config}</script>
<div class="host-flags" aria-live="polite"></div>
<script src="/__devhost/host.js"></script>"#
    )
}

/// The resource's iframe, configured as Forge configures it, and the host script.
fn forge_frame(
    state: &HostState,
    module_key: &str,
    resource: &str,
    placement: Value,
    page: Value,
) -> String {
    format!(
        r#"<div class="forge-extension" data-module-key="{module_key}">
<iframe class="forge-frame" title="Team Tasks" src="{src}" sandbox="{sandbox}" allow="{FRAME_ALLOW}"></iframe>
</div>
{host}"#,
        src = cdn::resource_url(state, resource),
        sandbox = sandbox(),
        host = host_script(state, placement, page),
    )
}

async fn jira_issue(
    State(state): State<Arc<HostState>>,
    Path((site, issue)): Path<(String, String)>,
    Query(viewer): Query<Viewer>,
) -> Response {
    let Some(installation) = tenants::installation(&site) else {
        return not_found("no such site");
    };
    let Some(issue) = installation.issue(&issue) else {
        return not_found("no such issue");
    };
    let Some(module) = state
        .modules
        .iter()
        .find(|m| m.module_type == "jira:issuePanel")
    else {
        return not_found("manifest.yml has no jira:issuePanel");
    };
    let placement = json!({
        "site": site, "user": viewer.user, "module": module.key, "issue": issue.key,
        "theme": viewer.theme,
    });
    let frame = forge_frame(
        &state,
        &module.key,
        &module.resource,
        placement,
        Value::Null,
    );
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{key}: {summary} - Jira</title>
<link rel="stylesheet" href="/__devhost/host.css"><link rel="icon" href="data:,"></head>
<body class="host-theme-{theme}">{bar}
<main class="host-page jira-issue"><nav class="host-crumbs">{project} / <span data-testid="issue-key">{key}</span></nav>
<h1 data-testid="issue-summary">{summary}</h1>
<div class="host-field"><span>Status</span><span class="host-lozenge">{status}</span></div>
<section class="host-panel" aria-label="Team Tasks panel">{frame}</section></main></body></html>"#,
        key = escape(issue.key),
        summary = escape(issue.summary),
        status = escape(issue.status),
        project = escape(issue.project_key),
        theme = escape(viewer.theme.as_deref().unwrap_or("light")),
        bar = host_bar(&state, "Jira", installation, &viewer),
    ))
    .into_response()
}

async fn confluence_page(
    State(state): State<Arc<HostState>>,
    Path((site, page)): Path<(String, String)>,
    Query(viewer): Query<Viewer>,
) -> Response {
    let Some(installation) = tenants::installation(&site) else {
        return not_found("no such site");
    };
    let Some(page) = installation.page(&page) else {
        return not_found("no such page");
    };
    let Some(module) = state.modules.iter().find(|m| m.module_type == "macro") else {
        return not_found("manifest.yml has no macro");
    };
    // Where no macro is on the page yet, `host.js` inserts one; either way it knows the
    // placement that the macro and its config view share.
    let instance = state.macro_on(installation, page);
    let placement = json!({
        "site": site, "user": viewer.user, "module": module.key, "page": page.id,
        "localId": instance.as_ref().map(|i| &i.local_id),
        "config": instance.as_ref().map(|i| &i.config),
        "theme": viewer.theme,
    });
    let config_view = module.config_view.as_ref().map(|v| {
        json!({
            "src": cdn::resource_url(&state, &v.resource),
            "title": v.title,
            "openOnInsert": v.open_on_insert,
        })
    });
    let page_info = json!({ "site": site, "page": page.id, "configView": config_view });
    let body = match instance {
        Some(_) => forge_frame(&state, &module.key, &module.resource, placement, page_info),
        None => format!(
            r#"<div class="host-macro-empty"><p>This page has no Team Tasks macro yet.</p>
<button type="button" class="host-insert" data-src="{src}">Insert Team Tasks macro</button></div>
{host}"#,
            src = escape(&cdn::resource_url(&state, &module.resource)),
            host = host_script(&state, placement, page_info),
        ),
    };
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} - Confluence</title>
<link rel="stylesheet" href="/__devhost/host.css"><link rel="icon" href="data:,"></head>
<body class="host-theme-{theme}">{bar}
<main class="host-page confluence-page"><nav class="host-crumbs" data-testid="space-key">{space}</nav>
<h1 data-testid="page-title">{title}</h1>
<section class="host-macro" aria-label="Team Tasks macro">{body}</section></main></body></html>"#,
        title = escape(page.title),
        space = escape(page.space_key),
        theme = escape(viewer.theme.as_deref().unwrap_or("light")),
        bar = host_bar(&state, "Confluence", installation, &viewer),
    ))
    .into_response()
}
