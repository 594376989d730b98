//! `invokeRemote` and `requestRemote`: their `callBridge` payloads and how their answers decode,
//! following `@forge/bridge@7.2.0` `out/invoke-endpoint/invoke-endpoint.js` and
//! `out/fetch/fetch.js`.

use serde::{de::DeserializeOwned, ser::SerializeMap, Deserialize, Deserializer, Serialize};

use super::{
    error::BridgeError,
    headers::{default_content_type, normalise, Guard, Headers},
};
use crate::{
    json::{self, Json},
    Method,
};

pub(crate) const INVOKE: &str = "invoke";
pub(crate) const FETCH_REMOTE: &str = "fetchRemote";

/// Input of `invokeRemote`: `{path, method, headers?, body?}`. Forge adds the FIT (and any
/// OAuth tokens) and sends `JSON.stringify(body)` with `content-type: application/json`.
#[derive(Debug, Clone, Copy)]
pub struct InvokeRequest<'a, B = ()> {
    pub path: &'a str,
    pub method: Method,
    /// Sent as given (a JSON object); `None` leaves the key out.
    pub headers: Option<&'a [(String, String)]>,
    /// Must serialise to a JSON object for Forge to accept it; `None` leaves the key out.
    pub body: Option<&'a B>,
}

impl<'a> InvokeRequest<'a, ()> {
    /// A request without headers or body.
    pub fn new(method: Method, path: &'a str) -> Self {
        Self {
            path,
            method,
            headers: None,
            body: None,
        }
    }
}

impl<'a, B> InvokeRequest<'a, B> {
    pub fn with_body<C>(self, body: &'a C) -> InvokeRequest<'a, C> {
        InvokeRequest {
            path: self.path,
            method: self.method,
            headers: self.headers,
            body: Some(body),
        }
    }

    pub fn with_headers(self, headers: &'a [(String, String)]) -> Self {
        Self {
            headers: Some(headers),
            ..self
        }
    }
}

/// Name/value pairs as one JSON object: `{"name":"value",…}`.
struct PairsAsObject<'a>(&'a [(String, String)]);

impl Serialize for PairsAsObject<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (n, v) in self.0 {
            map.serialize_entry(n, v)?;
        }
        map.end()
    }
}

/// The `callBridge('invoke', …)` payload: the input spread, plus `invokeType`. Absent keys stay
/// absent, as with JavaScript's spread.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvokePayload<'a, B> {
    path: &'a str,
    method: Method,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<PairsAsObject<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a B>,
    invoke_type: &'static str,
}

pub(crate) fn invoke_payload<B: Serialize>(
    req: &InvokeRequest<'_, B>,
) -> Result<String, BridgeError> {
    json::to_string(&InvokePayload {
        path: req.path,
        method: req.method,
        headers: req.headers.map(PairsAsObject),
        body: req.body,
        invoke_type: "ui-remote-fetch",
    })
    .map_err(BridgeError::encode)
}

/// What `invokeRemote` resolves with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvokeResponse<T> {
    /// Any status: a non-2xx answer with a JSON body resolves too, so check it.
    pub status: u16,
    /// Array values joined with `,`.
    pub headers: Headers,
    /// `None` when the answer had no body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<T>,
}

impl InvokeResponse<Json> {
    /// Decodes the body (JSON `null` when there is none) as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, json::Error> {
        json::from_value(self.body.clone().unwrap_or(Json::Null))
    }
}

/// The host's answer to `invoke`.
#[derive(Deserialize)]
struct InvokeEnvelope {
    success: Option<bool>,
    payload: Option<Json>,
    error: Option<Json>,
}

/// The object `invoke` resolves (or rejects) with, and the host's answer to `fetchRemote`: one
/// type for both, as each decoded type costs the bundle its own reader. `statusText` and
/// `isAttachment` come only with `fetchRemote`, `message` only with a failed `invoke`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HostReply {
    status: Option<u16>,
    status_text: Option<String>,
    #[serde(default)]
    headers: Headers,
    #[serde(default, deserialize_with = "present")]
    body: Option<Json>,
    is_attachment: Option<bool>,
    message: Option<String>,
}

/// A member that is there, `null` included; only a missing one is `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}

/// Decodes the host's `{success, payload, error}` answer to `invoke` as `@forge/bridge` does:
/// it takes `success ? payload : error` and joins array header values.
///
/// One deliberate difference: when the chosen object has no `status` (a `{success: false,
/// error: {message}}` answer), `@forge/bridge` resolves with that object and the caller finds
/// no `status`; here it is the error it describes, classified like a rejection.
pub(crate) fn decode_invoke_reply(reply: &str) -> Result<InvokeResponse<Json>, BridgeError> {
    let chosen = json::from_str::<Option<InvokeEnvelope>>(reply)
        .map_err(BridgeError::decode)?
        .and_then(|e| {
            if e.success == Some(true) {
                e.payload
            } else {
                e.error
            }
        });
    let Some(reply) = chosen else {
        return Err(BridgeError::Decode(
            "invoke answered without payload or error".into(),
        ));
    };
    let HostReply {
        status,
        headers,
        body,
        message,
        ..
    } = json::from_value(reply).map_err(BridgeError::decode)?;
    match status {
        Some(status) => Ok(InvokeResponse {
            status,
            headers,
            body,
        }),
        None => match message {
            Some(message) => Err(BridgeError::from_invoke_rejection(message)),
            None => Err(BridgeError::Decode("invoke answered without status".into())),
        },
    }
}

/// Types the body of an `invokeRemote` answer, with serde.
pub(crate) fn type_invoke_response<T: DeserializeOwned>(
    raw: InvokeResponse<Json>,
) -> Result<InvokeResponse<T>, BridgeError> {
    let body = match raw.body {
        Some(b) => Some(json::from_value(b).map_err(BridgeError::decode)?),
        None => None,
    };
    Ok(InvokeResponse {
        status: raw.status,
        headers: raw.headers,
        body,
    })
}

/// Input of `requestRemote(remoteKey, {path, method, headers, body})`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRequest {
    pub path: String,
    pub method: Method,
    /// Appended in order, like `new Headers(pairs)`.
    pub headers: Vec<(String, String)>,
    /// The body text. GET and HEAD cannot have one.
    pub body: Option<String>,
}

impl RemoteRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            method,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// A JSON body with `content-type: application/json`.
    pub fn json<B: Serialize + ?Sized>(self, body: &B) -> Result<Self, BridgeError> {
        let text = json::to_string(body).map_err(BridgeError::encode)?;
        Ok(self.header("content-type", "application/json").body(text))
    }
}

/// The `callBridge('fetchRemote', …)` payload: `{remoteKey, fetchRequestInit: {...init, body,
/// headers: [[name, value], …]}, isMultipartFormData: false}`, with the headers as
/// `new Request('', init).headers` lists them.
pub(crate) fn fetch_remote_payload(
    remote_key: &str,
    req: &RemoteRequest,
) -> Result<String, BridgeError> {
    let bodiless = matches!(req.method, Method::Get | Method::Head);
    if bodiless && req.body.is_some() {
        return Err(BridgeError::InvalidRequest(
            "Failed to construct 'Request': Request with GET/HEAD method cannot have body.".into(),
        ));
    }
    let mut headers = normalise(
        req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        Guard::Request,
    )
    .map_err(BridgeError::InvalidRequest)?;
    if req.body.is_some() {
        default_content_type(&mut headers);
    }
    // `null` on GET, the text otherwise (`""` without a body).
    let body = match req.method {
        Method::Get => None,
        _ => Some(req.body.as_deref().unwrap_or("")),
    };
    json::to_string(&FetchPayload {
        remote_key,
        fetch_request_init: FetchRequestInit {
            path: &req.path,
            method: req.method,
            body,
            headers: &headers,
        },
        is_multipart_form_data: false,
    })
    .map_err(BridgeError::encode)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FetchPayload<'a> {
    remote_key: &'a str,
    fetch_request_init: FetchRequestInit<'a>,
    is_multipart_form_data: bool,
}

/// `init` spread, then `body`, then the headers as `[[name, value], …]`.
#[derive(Serialize)]
struct FetchRequestInit<'a> {
    path: &'a str,
    method: Method,
    body: Option<&'a str>,
    headers: &'a [(String, String)],
}

/// What `requestRemote` resolves with, read the way a `Response` exposes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteResponse {
    pub status: u16,
    pub status_text: String,
    /// As `response.headers` lists them: lowercased, sorted, `set-cookie` dropped, and
    /// `content-type: text/plain;charset=UTF-8` added to a text body that has none.
    pub headers: Headers,
    /// `await response.text()`. For an attachment, the host's base64 text (not decoded).
    pub body: String,
    /// The host marked the body as a base64-encoded attachment.
    pub is_attachment: bool,
}

impl RemoteResponse {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Decodes the body (JSON `null` when empty) as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, json::Error> {
        json::from_str(if self.body.is_empty() {
            "null"
        } else {
            &self.body
        })
    }
}

/// Decodes the host's answer to `fetchRemote` the way `new Response(body || null, {headers,
/// status, statusText})` reads it.
pub(crate) fn decode_fetch_reply(reply: &str) -> Result<RemoteResponse, BridgeError> {
    let HostReply {
        body,
        headers,
        status,
        status_text,
        is_attachment,
        ..
    } = json::from_str(reply).map_err(BridgeError::decode)?;
    // `new Response(body || null, …)`: the host sends the body as text.
    let body = match body {
        None | Some(Json::Null) => None,
        Some(Json::String(text)) => Some(text),
        Some(_) => {
            return Err(BridgeError::Decode(
                "fetchRemote answered a body that is not text".into(),
            ))
        }
    };
    let status = status.unwrap_or(200);
    if !(200..=599).contains(&status) {
        return Err(BridgeError::Decode(
            "Failed to construct 'Response': The status provided (".to_owned()
                + &status.to_string()
                + ") is outside the range [200, 599].",
        ));
    }
    let body = body.unwrap_or_default();
    if !body.is_empty() && matches!(status, 101 | 103 | 204 | 205 | 304) {
        return Err(BridgeError::Decode(
            "Failed to construct 'Response': Response with null body status cannot have body"
                .into(),
        ));
    }
    let is_attachment = is_attachment.unwrap_or(false);
    let mut headers = normalise(headers.iter(), Guard::Response).map_err(BridgeError::Decode)?;
    // A string body gets a default content type; an attachment becomes a Blob typed by the
    // `content-type` header, which adds nothing new.
    if !body.is_empty() && !is_attachment {
        default_content_type(&mut headers);
    }
    Ok(RemoteResponse {
        status,
        status_text: status_text.unwrap_or_default(),
        headers: headers.into(),
        body,
        is_attachment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn invoke_payload_spreads_the_input_and_adds_the_invoke_type() {
        let p = invoke_payload(&InvokeRequest::new(Method::Get, "/whoami")).unwrap();
        assert_eq!(
            parse(&p),
            json!({"path": "/whoami", "method": "GET", "invokeType": "ui-remote-fetch"})
        );

        let headers = vec![("x-trace".to_owned(), "1".to_owned())];
        let body = json!({"title": "t"});
        let req = InvokeRequest::new(Method::Post, "/tasks")
            .with_body(&body)
            .with_headers(&headers);
        assert_eq!(
            parse(&invoke_payload(&req).unwrap()),
            json!({"path": "/tasks", "method": "POST", "headers": {"x-trace": "1"}, "body": {"title": "t"}, "invokeType": "ui-remote-fetch"})
        );
    }

    #[test]
    fn invoke_replies_decode_from_payload_or_error() {
        let ok = decode_invoke_reply(
            r#"{"success":true,"payload":{"status":200,"headers":{"x":["a","b"]},"body":{"ok":1}}}"#,
        )
        .unwrap();
        assert_eq!(ok.status, 200);
        assert_eq!(ok.headers.get("x"), Some("a,b"));
        assert_eq!(ok.json::<Value>().unwrap(), json!({"ok": 1}));

        // A non-2xx with JSON may come either way; both resolve.
        let e = decode_invoke_reply(
            r#"{"success":false,"error":{"status":404,"headers":{},"body":{"code":"x"}}}"#,
        )
        .unwrap();
        assert_eq!(e.status, 404);

        let none = decode_invoke_reply(r#"{"success":true,"payload":{"status":204,"headers":{}}}"#)
            .unwrap();
        assert!(none.body.is_none());
        let null = decode_invoke_reply(
            r#"{"success":true,"payload":{"status":200,"headers":{},"body":null}}"#,
        )
        .unwrap();
        assert_eq!(null.body.map(|b| b.to_text()).as_deref(), Some("null"));
    }

    #[test]
    fn an_error_object_without_status_is_the_error_it_names() {
        let e = decode_invoke_reply(r#"{"success":false,"error":{"message":"Remote could not verify the Forge Invocation Token"}}"#)
            .unwrap_err();
        assert_eq!(e.kind(), "fit_not_verified");
        assert_eq!(decode_invoke_reply("null").unwrap_err().kind(), "decode");
        assert_eq!(
            decode_invoke_reply(r#"{"success":true}"#)
                .unwrap_err()
                .kind(),
            "decode"
        );
    }

    #[test]
    fn typed_bodies_fail_as_decode_errors() {
        let raw = decode_invoke_reply(
            r#"{"success":true,"payload":{"status":200,"headers":{},"body":{"a":1}}}"#,
        )
        .unwrap();
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct B {
            b: u8,
        }
        assert_eq!(type_invoke_response::<B>(raw).unwrap_err().kind(), "decode");
    }

    #[test]
    fn fetch_payload_matches_the_bridge() {
        let get = RemoteRequest::new(Method::Get, "/whoami")
            .header("X-Trace", "a")
            .header("x-trace", "b");
        assert_eq!(
            parse(&fetch_remote_payload("team-tasks", &get).unwrap()),
            json!({"remoteKey": "team-tasks", "fetchRequestInit": {"path": "/whoami", "method": "GET", "body": null, "headers": [["x-trace", "a, b"]]}, "isMultipartFormData": false})
        );

        let post = RemoteRequest::new(Method::Post, "/tasks")
            .json(&json!({"t": 1}))
            .unwrap();
        assert_eq!(
            parse(&fetch_remote_payload("r", &post).unwrap())["fetchRequestInit"],
            json!({"path": "/tasks", "method": "POST", "body": "{\"t\":1}", "headers": [["content-type", "application/json"]]})
        );

        let text = RemoteRequest::new(Method::Put, "/x").body("hi");
        assert_eq!(
            parse(&fetch_remote_payload("r", &text).unwrap())["fetchRequestInit"]["headers"],
            json!([["content-type", "text/plain;charset=UTF-8"]])
        );

        let empty = RemoteRequest::new(Method::Delete, "/x");
        let p = parse(&fetch_remote_payload("r", &empty).unwrap());
        assert_eq!(p["fetchRequestInit"]["body"], json!(""));
        assert_eq!(p["fetchRequestInit"]["headers"], json!([]));

        let head = RemoteRequest::new(Method::Head, "/x");
        assert_eq!(
            parse(&fetch_remote_payload("r", &head).unwrap())["fetchRequestInit"]["body"],
            json!("")
        );
    }

    #[test]
    fn fetch_payload_refuses_what_request_refuses() {
        let e =
            fetch_remote_payload("r", &RemoteRequest::new(Method::Get, "/").body("x")).unwrap_err();
        assert_eq!(e.kind(), "invalid_request");
        let e = fetch_remote_payload(
            "r",
            &RemoteRequest::new(Method::Get, "/").header("a b", "x"),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "Failed to construct 'Request': Invalid name");
    }

    #[test]
    fn fetch_replies_read_like_a_response() {
        let r = decode_fetch_reply(
            r#"{"status":201,"statusText":"Created","headers":{"X-Z":"1","Set-Cookie":"a","A":["x","y"]},"body":"hi"}"#,
        )
        .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.status_text, "Created");
        assert_eq!(
            r.headers.into_vec(),
            vec![
                ("a".into(), "x,y".into()),
                ("content-type".into(), "text/plain;charset=UTF-8".into()),
                ("x-z".into(), "1".into())
            ]
        );
        assert_eq!(r.body, "hi");

        let empty = decode_fetch_reply(r#"{"status":204,"headers":{},"body":""}"#).unwrap();
        assert!(empty.headers.is_empty());
        assert_eq!(decode_fetch_reply(r#"{"headers":{}}"#).unwrap().status, 200);
        assert_eq!(
            decode_fetch_reply(r#"{"status":204,"body":"x"}"#)
                .unwrap_err()
                .kind(),
            "decode"
        );
        assert_eq!(
            decode_fetch_reply(r#"{"status":99}"#).unwrap_err().kind(),
            "decode"
        );
        assert_eq!(
            decode_fetch_reply(r#"{"status":200,"body":{"a":1}}"#)
                .unwrap_err()
                .kind(),
            "decode"
        );
        assert_eq!(
            decode_fetch_reply(r#"{"status":200,"body":null}"#)
                .unwrap()
                .body,
            ""
        );
    }
}
