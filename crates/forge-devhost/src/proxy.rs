//! `invoke` with `invokeType: 'ui-remote-fetch'`: what Forge does server-side for
//! `invokeRemote`. Mint a FIT, add the OAuth and trace headers the endpoint asks for, forward
//! to the remote, then hand back exactly what the bridge would: a `{success, payload}` reply,
//! or a rejection with one of the documented messages.

use std::time::Duration;

use reqwest::{header::HeaderMap, Method, Url};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::signing::random_hex;

/// Forge's limits for frontend invocations of a remote.
pub const REQUEST_LIMIT: usize = 500 * 1024;
pub const RESPONSE_LIMIT: usize = 5 * 1024 * 1024;
pub const TIMEOUT: Duration = Duration::from_secs(25);

/// The messages `invokeRemote` rejects with (Atlassian's invokeRemote reference).
pub mod rejection {
    pub const FIT: &str = "Remote could not verify the Forge Invocation Token";
    pub const NETWORK: &str = "Invalid response from remote - remote network error";
    pub const UNEXPECTED: &str = "An unexpected error happened";
    pub fn content_type(header: &str, status: u16) -> String {
        format!("Invalid response from remote - content-type header must be set to application/json and is currently: {header}. Status: {status}.")
    }
    pub fn parse(status: u16) -> String {
        format!("Invalid response from remote - cannot parse body as JSON. Status: {status}.")
    }
    pub fn timeout(seconds: u64) -> String {
        format!("Remote invocation timed out after {seconds} seconds")
    }
}

/// The `invokeRemote` input as the bridge sends it (`{path, method, headers, body}`).
#[derive(Debug, Clone, Deserialize)]
pub struct RemoteCall {
    pub path: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub headers: Option<Map<String, Value>>,
    #[serde(default)]
    pub body: Option<Value>,
}

/// Everything the proxy adds to the call.
pub struct Forwarding<'a> {
    pub base_url: &'a str,
    pub fit: &'a str,
    pub system_token: Option<String>,
    pub user_token: Option<String>,
}

/// Outcome for the bridge: `Ok(reply)` resolves `callBridge`, `Err(message)` rejects it.
pub type BridgeOutcome = Result<Value, String>;

/// `path` on the remote at `base_url`, or `None` unless it is a path of that remote: a minted
/// FIT and the OAuth tokens must never go to a URL the page chose (`https://evil/…`,
/// `//evil/…`, `\\evil`), only to the manifest's remote.
fn remote_url(base_url: &str, path: &str) -> Option<Url> {
    if !path.starts_with('/') || path.starts_with("//") || path.contains('\\') {
        return None;
    }
    let base = Url::parse(base_url).ok()?;
    let url = base.join(path).ok()?;
    (url.origin() == base.origin()).then_some(url)
}

pub async fn invoke(
    http: &reqwest::Client,
    call: &RemoteCall,
    fwd: Forwarding<'_>,
) -> BridgeOutcome {
    let url =
        remote_url(fwd.base_url, &call.path).ok_or_else(|| rejection::UNEXPECTED.to_owned())?;
    let method = Method::from_bytes(call.method.as_deref().unwrap_or("GET").as_bytes())
        .map_err(|_| rejection::UNEXPECTED.to_owned())?;

    // Forge sends JSON.stringify(body); the body must be a JSON object.
    let body = match &call.body {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(serde_json::to_vec(v).expect("JSON value serialises")),
        Some(_) => return Err(rejection::UNEXPECTED.to_owned()),
    };
    if body.as_ref().is_some_and(|b| b.len() > REQUEST_LIMIT) {
        return Err(rejection::UNEXPECTED.to_owned());
    }

    let trace_id = random_hex(16);
    let mut request = http
        .request(method, url)
        .timeout(TIMEOUT)
        .bearer_auth(fwd.fit)
        .header("x-b3-traceid", &trace_id)
        .header("x-b3-spanid", random_hex(8));
    for (name, value) in call.headers.iter().flatten() {
        if let Some(v) = value.as_str() {
            request = request.header(name, v);
        }
    }
    if let Some(token) = &fwd.system_token {
        request = request.header("x-forge-oauth-system", token);
    }
    if let Some(token) = &fwd.user_token {
        request = request.header("x-forge-oauth-user", token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    tracing::info!(%trace_id, path = ?call.path.chars().take(256).collect::<String>(), "forwarding invokeRemote to the remote");

    let response = match request.send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return Err(rejection::timeout(TIMEOUT.as_secs())),
        Err(_) => return Err(rejection::NETWORK.to_owned()),
    };
    let status = response.status().as_u16();
    let headers = headers_as_arrays(response.headers());
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = match read_capped(response, RESPONSE_LIMIT).await {
        Ok(Some(b)) => b,
        Ok(None) => return Err(rejection::UNEXPECTED.to_owned()),
        Err(e) if e.is_timeout() => return Err(rejection::timeout(TIMEOUT.as_secs())),
        Err(_) => return Err(rejection::NETWORK.to_owned()),
    };
    translate(status, headers, content_type.as_deref(), &bytes)
}

/// The invokeRemote response contract, as documented.
pub fn translate(
    status: u16,
    headers: Value,
    content_type: Option<&str>,
    body: &[u8],
) -> BridgeOutcome {
    if status == 401 {
        return Err(rejection::FIT.to_owned());
    }
    if (300..400).contains(&status) {
        // Forge treats redirects as errors.
        return Err(rejection::UNEXPECTED.to_owned());
    }
    let success = (200..300).contains(&status);
    if !success {
        if let Some(ct) = content_type {
            if !ct.to_ascii_lowercase().starts_with("application/json") {
                return Err(rejection::content_type(ct, status));
            }
        }
        if body.is_empty() {
            return Err(rejection::parse(status));
        }
    }
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body).map_err(|_| rejection::parse(status))?
    };
    let mut payload = json!({ "status": status, "headers": headers });
    if !body.is_null() {
        payload["body"] = body;
    }
    Ok(json!({ "success": true, "payload": payload }))
}

/// Headers as `{name: [values]}`: the bridge joins the arrays with `,`.
fn headers_as_arrays(headers: &HeaderMap) -> Value {
    let mut map = Map::new();
    for (name, value) in headers {
        let entry = map.entry(name.as_str()).or_insert_with(|| json!([]));
        if let (Some(list), Ok(v)) = (entry.as_array_mut(), value.to_str()) {
            list.push(Value::String(v.to_owned()));
        }
    }
    Value::Object(map)
}

/// Reads the body, giving up (`Ok(None)`) past `limit` bytes.
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut buf = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if buf.len() + chunk.len() > limit {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Some(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_headers() -> Value {
        json!({})
    }

    #[test]
    fn a_401_is_the_reserved_fit_rejection_whatever_its_body() {
        let out = translate(
            401,
            no_headers(),
            Some("application/json"),
            br#"{"code":"x"}"#,
        );
        assert_eq!(out.unwrap_err(), rejection::FIT);
    }

    #[test]
    fn a_2xx_resolves_with_status_headers_and_body() {
        let out = translate(
            200,
            json!({"x": ["a", "b"]}),
            Some("application/json"),
            br#"{"ok":1}"#,
        );
        assert_eq!(
            out.unwrap(),
            json!({"success": true, "payload": {"status": 200, "headers": {"x": ["a", "b"]}, "body": {"ok": 1}}})
        );
    }

    #[test]
    fn a_2xx_without_body_or_content_type_resolves_without_body() {
        let out = translate(204, no_headers(), None, b"").unwrap();
        assert_eq!(out["payload"]["status"], 204);
        assert!(out["payload"].get("body").is_none());
    }

    #[test]
    fn a_4xx_with_json_resolves_so_the_caller_must_check_status() {
        let out = translate(
            404,
            no_headers(),
            Some("application/json"),
            br#"{"code":"not_found"}"#,
        );
        assert_eq!(out.unwrap()["payload"]["status"], 404);
    }

    #[test]
    fn a_non_json_error_is_rejected_naming_the_content_type() {
        let out = translate(500, no_headers(), Some("text/plain"), b"boom");
        assert_eq!(out.unwrap_err(), rejection::content_type("text/plain", 500));
    }

    #[test]
    fn an_error_without_body_cannot_be_parsed() {
        let out = translate(503, no_headers(), None, b"");
        assert_eq!(out.unwrap_err(), rejection::parse(503));
    }

    #[test]
    fn only_paths_of_the_remote_are_invoked() {
        let base = "http://127.0.0.1:3000";
        assert_eq!(
            remote_url(base, "/tasks?team=A").unwrap().as_str(),
            "http://127.0.0.1:3000/tasks?team=A"
        );
        for path in [
            "https://evil.example.com/steal",
            "//evil.example.com/steal",
            "/\\evil.example.com",
            "\\\\evil.example.com",
            "tasks",
            "",
            "http://127.0.0.1:3100/__devhost/api/rest-calls",
        ] {
            assert!(remote_url(base, path).is_none(), "{path:?} was forwarded");
        }
    }

    #[test]
    fn a_redirect_is_an_error() {
        assert!(translate(302, no_headers(), None, b"").is_err());
    }
}
