//! The CDN origin: serves the resource like Forge's CDN does.
//!
//! - Only under `/<appUuid>/<envUuid>/<deployment>/<resourceKey>/…`; anything else is a 403,
//!   which is what an absolute asset URL (`/pkg/…`) gets on the real CDN.
//! - With the Content-Security-Policy `csp.rs` computes from the manifest.
//! - With the bridge script prepended to `<head>` of `index.html`, as the CDN prepends
//!   `global-bridge.js`.

use std::{path::PathBuf, sync::Arc};

use axum::{
    body::Body,
    extract::{Path, Request, State},
    http::{header, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use super::{csp, HostState};

const BRIDGE_JS: &str = include_str!("assets/global-bridge.js");
const TOKENS_CSS: &str = include_str!("assets/tokens.css");

pub fn router(state: Arc<HostState>) -> Router {
    Router::new()
        .route("/__forge/global-bridge.js", get(bridge_script))
        .route("/__forge/tokens.css", get(tokens_css))
        .route("/__forge/csp-report", post(csp_report))
        .route("/{app}/{env}/{deployment}/{resource}/", get(resource_file))
        .route(
            "/{app}/{env}/{deployment}/{resource}/{*path}",
            get(resource_file),
        )
        .fallback(|| async { (StatusCode::FORBIDDEN, "Forbidden") })
        .with_state(state)
}

/// The iframe URL of a resource for the current deployment.
pub fn resource_url(state: &HostState, resource: &str) -> String {
    format!(
        "{}/{}/{}/{}/{resource}/index.html",
        state.cdn_origin,
        state.manifest.app_uuid(),
        state.app.environment_uuid(),
        state.deployment
    )
}

fn resource_dir(state: &HostState, resource: &str) -> Option<PathBuf> {
    let path = state.manifest.resource_path(resource)?;
    let base = state
        .config
        .manifest_path
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    Some(base.join(path))
}

async fn resource_file(
    State(state): State<Arc<HostState>>,
    Path(parts): Path<Vec<String>>,
    request: Request,
) -> Response {
    let [app, env, deployment, resource, rest @ ..] = parts.as_slice() else {
        return StatusCode::FORBIDDEN.into_response();
    };
    if app != state.manifest.app_uuid()
        || env != state.app.environment_uuid()
        || deployment != &state.deployment
    {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some(dir) = resource_dir(&state, resource) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let file = rest.first().map(String::as_str).unwrap_or("");
    let mut response = if file.is_empty() || file == "index.html" {
        index_html(&state, &dir).await
    } else {
        let uri: Uri = format!("/{file}")
            .parse()
            .unwrap_or_else(|_| Uri::from_static("/"));
        let (mut parts, body) = request.into_parts();
        parts.uri = uri;
        match ServeDir::new(&dir)
            .oneshot(Request::from_parts(parts, body))
            .await
        {
            Ok(r) => r.map(Body::new),
            Err(e) => match e {},
        }
    };
    // Forge's CDN caches assets for 20 days; locally every rebuild must show at once.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn index_html(state: &HostState, dir: &std::path::Path) -> Response {
    let Ok(html) = tokio::fs::read_to_string(dir.join("index.html")).await else {
        return (
            StatusCode::NOT_FOUND,
            "index.html is missing from the resource directory: is the frontend built?",
        )
            .into_response();
    };
    let report_uri = format!("{}/__forge/csp-report", state.cdn_origin);
    let policy = csp::policy(&state.manifest, &html, &state.host_origin, &report_uri);
    let Some(served) = prepend_bridge(&html) else {
        // The real injector refuses a page without an <html> element.
        return (StatusCode::INTERNAL_SERVER_ERROR, "Malformed HTML document").into_response();
    };
    let mut response =
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], served).into_response();
    if let Ok(v) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}

/// Puts the bridge script first in `<head>`, creating `<head>` if needed.
pub fn prepend_bridge(html: &str) -> Option<String> {
    const TAG: &str = r#"<script src="/__forge/global-bridge.js"></script>"#;
    let lower = html.to_ascii_lowercase();
    let insert_at = |open: usize| lower[open..].find('>').map(|i| open + i + 1);
    if let Some(at) = lower.find("<head").and_then(insert_at) {
        return Some(format!("{}{TAG}{}", &html[..at], &html[at..]));
    }
    let at = lower.find("<html").and_then(insert_at)?;
    Some(format!("{}<head>{TAG}</head>{}", &html[..at], &html[at..]))
}

async fn bridge_script(State(state): State<Arc<HostState>>) -> Response {
    // The host origin is baked in so the bridge only ever talks to its own product page.
    let js = BRIDGE_JS.replace("__FORGE_HOST_ORIGIN__", &state.host_origin);
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        js,
    )
        .into_response()
}

async fn tokens_css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        TOKENS_CSS,
    )
        .into_response()
}

/// CSP violations inside the iframe, reported by the browser: worth a loud log line, since
/// the same violation would break the app on Atlassian's CDN.
async fn csp_report(body: String) -> StatusCode {
    tracing::warn!(report = %body, "Content-Security-Policy violation in the Forge iframe");
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::prepend_bridge;

    #[test]
    fn the_bridge_is_the_first_thing_in_head() {
        let out = prepend_bridge(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"></head></html>",
        )
        .unwrap();
        assert!(
            out.contains(r#"<head><script src="/__forge/global-bridge.js"></script><meta"#),
            "{out}"
        );
    }

    #[test]
    fn a_page_without_head_gets_one_and_a_page_without_html_is_refused() {
        let out = prepend_bridge("<html><body></body></html>").unwrap();
        assert!(out.starts_with(
            r#"<html><head><script src="/__forge/global-bridge.js"></script></head>"#
        ));
        assert!(prepend_bridge("<body>hi</body>").is_none());
    }
}
