//! `FORGE_DIAGNOSTICS=1`: what the platform really sends, for the first deploy to a real site.
//!
//! Some of what this remote relies on is not documented, or documented inconsistently: which
//! headers `requestRemote` and `invokeRemote` carry, the `Origin` of a `requestRemote`, the claims
//! of each kind of FIT and how large they get. With this on, the remote logs one line per
//! (module, transport) the first time it sees a verified request of that kind, naming the
//! request's header *names*, its `Origin`, the FIT's size and the *paths* of its claims
//! (`app.installationId`, `context.extension.space.id`, …). Values of headers and claims are never
//! logged: they hold tokens and user data. README's first-deploy checklist says how to use it.

use std::{
    collections::{BTreeSet, HashSet},
    sync::{Arc, Mutex},
};

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::Response,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

/// Which (module key, transport) pairs were logged already. Bounded: a forged token can name
/// any module key, but it never gets past verification, and only verified requests are recorded.
#[derive(Clone, Default)]
pub struct Diagnostics {
    seen: Arc<Mutex<HashSet<(String, &'static str)>>>,
}

/// At most this many distinct (module, transport) lines per process.
const MAX_LINES: usize = 64;

/// Middleware, outside the FIT layer (which removes the OAuth headers): notes the request's
/// shape, runs it, and logs the shape once if the FIT verified (the answer is not a 401).
pub async fn log_first_of_each_kind(
    State(diagnostics): State<Diagnostics>,
    request: Request,
    next: Next,
) -> Response {
    let shape = Shape::of(request.headers());
    let response = next.run(request).await;
    if response.status() != StatusCode::UNAUTHORIZED {
        if let Some(shape) = shape {
            diagnostics.log_once(shape);
        }
    }
    response
}

struct Shape {
    module: String,
    transport: &'static str,
    header_names: Vec<String>,
    origin: Option<String>,
    fit_bytes: usize,
    claim_paths: Vec<String>,
}

impl Shape {
    /// `None` without a readable bearer token (the FIT layer refuses those anyway).
    fn of(headers: &HeaderMap) -> Option<Self> {
        let token = headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .split_once(' ')?
            .1
            .trim();
        let payload = URL_SAFE_NO_PAD.decode(token.split('.').nth(1)?).ok()?;
        let claims: serde_json::Value = serde_json::from_slice(&payload).ok()?;
        let module = claims
            .pointer("/app/module/key")
            .and_then(|k| k.as_str())
            .unwrap_or("-")
            .chars()
            .take(64)
            .collect();
        // invokeRemote goes through Forge, which adds the OAuth headers the endpoint asks for;
        // requestRemote is sent by the product page itself, so it has an Origin and no tokens.
        let oauth = headers.contains_key("x-forge-oauth-system")
            || headers.contains_key("x-forge-oauth-user");
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .map(|o| o.chars().take(200).collect::<String>());
        let transport = match (oauth, &origin) {
            (true, _) => "invokeRemote (OAuth headers present)",
            (false, Some(_)) => "requestRemote (Origin, no OAuth headers)",
            (false, None) => "unknown (no Origin, no OAuth headers)",
        };
        let header_names = headers
            .keys()
            .map(|name| name.as_str().to_owned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut claim_paths = Vec::new();
        paths(&claims, "", &mut claim_paths);
        Some(Self {
            module,
            transport,
            header_names,
            origin,
            fit_bytes: token.len(),
            claim_paths,
        })
    }
}

impl Diagnostics {
    fn log_once(&self, shape: Shape) {
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen.len() >= MAX_LINES || !seen.insert((shape.module.clone(), shape.transport)) {
                return;
            }
        }
        // `&str` fields are written escaped (and as plain strings in JSON).
        let (headers, claims) = (shape.header_names.join(","), shape.claim_paths.join(","));
        tracing::info!(
            module = shape.module.as_str(),
            transport = shape.transport,
            origin = shape.origin.as_deref().unwrap_or("-"),
            fit_bytes = shape.fit_bytes,
            headers = headers.as_str(),
            claims = claims.as_str(),
            "FORGE_DIAGNOSTICS: first request of this kind"
        );
    }
}

/// Every leaf path of `value`, dot-separated; arrays as `[]`. Never a value.
fn paths(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let key: String = key.chars().take(64).collect();
                let path = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                paths(child, &path, out);
            }
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            let path = format!("{prefix}[]");
            // The shape of the first item stands for all, so a long array is one line.
            paths(&items[0], &path, out);
        }
        _ => out.push(prefix.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claim_paths_name_every_leaf_and_no_value() {
        let claims = json!({
            "app": { "installationId": "secret-inst", "module": { "key": "m" } },
            "context": { "extension": { "space": { "id": "98305" }, "references": [] } },
            "scopes": [ "read:jira-work", "write:jira-work" ],
        });
        let mut out = Vec::new();
        paths(&claims, "", &mut out);
        assert_eq!(
            out,
            [
                "app.installationId",
                "app.module.key",
                "context.extension.references",
                "context.extension.space.id",
                "scopes[]"
            ]
        );
        assert!(!out.join(",").contains("secret-inst"));
    }

    #[test]
    fn the_transport_is_told_by_oauth_headers_and_origin() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"app":{"module":{"key":"team-tasks-macro"}}}"#);
        let token = format!("Bearer e30.{payload}.sig");
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, token.parse().unwrap());
        headers.insert(
            header::ORIGIN,
            "https://acme.atlassian.net".parse().unwrap(),
        );
        let shape = Shape::of(&headers).unwrap();
        assert_eq!(shape.module, "team-tasks-macro");
        assert!(shape.transport.starts_with("requestRemote"));
        assert_eq!(shape.header_names, ["authorization", "origin"]);
        headers.insert("x-forge-oauth-system", "t".parse().unwrap());
        assert!(Shape::of(&headers)
            .unwrap()
            .transport
            .starts_with("invokeRemote"));
    }

    #[test]
    fn each_kind_is_logged_once() {
        let d = Diagnostics::default();
        for _ in 0..3 {
            d.log_once(Shape {
                module: "m".into(),
                transport: "t",
                header_names: vec![],
                origin: None,
                fit_bytes: 1,
                claim_paths: vec![],
            });
        }
        assert_eq!(d.seen.lock().unwrap().len(), 1);
    }
}
