//! Leptos server functions over the Forge bridge (feature `server-fn`).
//!
//! A Custom UI iframe cannot `fetch` its remote: Forge only lets it through the host, with
//! `invokeRemote` (proxied by Forge, which adds the FIT and the OAuth tokens) or `requestRemote`
//! (sent by the host page with a FIT and no OAuth tokens). So a `#[server]` function names one
//! of the two as its `client`:
//!
//! ```ignore
//! #[server(prefix = "", endpoint = "tasks", input = Post<BridgeJson>, output = Post<BridgeJson>,
//!          client = InvokeRemote)]
//! pub async fn create_task(title: String) -> Result<Task, ErrorBody> { … }
//! ```
//!
//! [`BridgeJson`] is the matching codec: `application/json`, written and read with the crate's
//! small [`crate::json`] codec in the bundle, and with serde_json on the remote (feature
//! `server`), so both ends agree on the text while each uses the JSON code that suits it.
//!
//! The clients talk to the host's bridge ([`crate::GlobalBridge`]) in the browser; in native
//! tests, to the host installed with [`crate::testing::serve`] (feature `testing`).

use std::{future::Future, marker::PhantomData};

use ::server_fn::{
    client::Client,
    error::{FromServerFnError, IntoAppError, ServerFnErrorErr},
    request::ClientReq,
    response::ClientRes,
    Bytes, ContentType, Decodes, Encodes, Format, FormatType,
};
use futures_core::Stream;
use serde::{de::DeserializeOwned, Serialize};

use crate::{json, Bridge, BridgeError, BridgeTransport, InvokeRequest, Method, RemoteRequest};

/// The `application/json` codec of server functions that go over the bridge.
pub struct BridgeJson;

impl ContentType for BridgeJson {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for BridgeJson {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for BridgeJson {
    type Error = CodecError;

    fn encode(value: &T) -> Result<Bytes, CodecError> {
        #[cfg(feature = "server")]
        let text = serde_json::to_vec(value).map_err(|e| CodecError(e.to_string()))?;
        #[cfg(not(feature = "server"))]
        let text = json::to_string(value)?.into_bytes();
        Ok(Bytes::from(text))
    }
}

impl<T: DeserializeOwned> Decodes<T> for BridgeJson {
    type Error = CodecError;

    fn decode(bytes: Bytes) -> Result<T, CodecError> {
        #[cfg(feature = "server")]
        return serde_json::from_slice(&bytes).map_err(|e| {
            // Keep "not JSON" (400) apart from "JSON of the wrong shape" (422), as axum's
            // `Json` extractor does: server_fn passes only the message on.
            CodecError(match e.classify() {
                serde_json::error::Category::Data => format!("{WRONG_SHAPE}{e}"),
                _ => e.to_string(),
            })
        });
        #[cfg(not(feature = "server"))]
        {
            let text = std::str::from_utf8(&bytes).map_err(|_| CodecError("not UTF-8".into()))?;
            // An empty body (a 204) reads as `null`, as `Response.json()` would not, but as the
            // remote's `()` answers mean.
            Ok(json::from_str(if text.trim().is_empty() {
                "null"
            } else {
                text
            })?)
        }
    }
}

/// A JSON request body, `POST`ed: `input = PostJson`.
pub type PostJson = ::server_fn::codec::Post<BridgeJson>;
/// A JSON request body, `PATCH`ed: `input = PatchJson`.
pub type PatchJson = ::server_fn::codec::Patch<BridgeJson>;
/// A JSON answer, whatever the request's method: `output = JsonAnswer`.
pub type JsonAnswer = ::server_fn::codec::Post<BridgeJson>;

/// How the message of a [`BridgeJson`] decoding error starts on the remote (feature `server`)
/// when the body is JSON but not of the expected shape (a missing or mistyped field), as
/// opposed to not JSON at all: an app's error type can answer 422 for one and 400 for the other.
pub const WRONG_SHAPE: &str = "JSON of the wrong shape: ";

/// Why [`BridgeJson`] could not write or read a value.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CodecError(String);

impl From<json::Error> for CodecError {
    fn from(e: json::Error) -> Self {
        Self(e.to_string())
    }
}

/// A `remotes[]` entry of the manifest: what `requestRemote` addresses.
pub trait Remote: 'static {
    /// Its `key`.
    const KEY: &'static str;
}

/// Sends a server function with `invokeRemote`: through Forge, which adds the FIT and the
/// OAuth tokens the module's `resolver.endpoint` asks for, and counts the call. For writes and
/// anything that calls Jira or Confluence.
pub struct InvokeRemote;

/// Sends a server function with `requestRemote` to the remote `R`: straight from the host page,
/// with a (cached) FIT and no OAuth tokens. Lower latency; for reads that need only the
/// verified identity.
pub struct RequestRemote<R>(PhantomData<R>);

/// A server function call, as the bridge sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeCall {
    pub method: Method,
    /// The path with its query, if any.
    pub path: String,
    /// The body and its content type (`application/json` for [`BridgeJson`]).
    pub body: Option<(String, String)>,
}

/// The remote's answer to a [`BridgeCall`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeAnswer {
    pub status: u16,
    /// JSON text (empty when there was no body).
    pub body: String,
}

fn method_of<E: FromServerFnError>(method: http::Method) -> Result<Method, E> {
    use http::Method as M;
    Ok(match method {
        M::GET => Method::Get,
        M::POST => Method::Post,
        M::PUT => Method::Put,
        M::PATCH => Method::Patch,
        M::DELETE => Method::Delete,
        other => return Err(unsupported(other.as_str())),
    })
}

fn unsupported<E: FromServerFnError>(what: &str) -> E {
    ServerFnErrorErr::UnsupportedRequestMethod(what.to_owned()).into_app_error()
}

impl<E: FromServerFnError> ClientReq<E> for BridgeCall {
    type FormData = ();

    fn try_new_req_query(
        path: &str,
        _content_type: &str,
        _accepts: &str,
        query: &str,
        method: http::Method,
    ) -> Result<Self, E> {
        let path = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        Ok(BridgeCall {
            method: method_of(method)?,
            path,
            body: None,
        })
    }

    fn try_new_req_text(
        path: &str,
        content_type: &str,
        _accepts: &str,
        body: String,
        method: http::Method,
    ) -> Result<Self, E> {
        Ok(BridgeCall {
            method: method_of(method)?,
            path: path.to_owned(),
            body: Some((body, content_type.to_owned())),
        })
    }

    fn try_new_req_bytes(
        path: &str,
        content_type: &str,
        accepts: &str,
        body: Bytes,
        method: http::Method,
    ) -> Result<Self, E> {
        let body = String::from_utf8(body.to_vec()).map_err(|_| {
            ServerFnErrorErr::Serialization("the body is not UTF-8 JSON".into()).into_app_error()
        })?;
        Self::try_new_req_text(path, content_type, accepts, body, method)
    }

    fn try_new_req_form_data(
        _path: &str,
        _accepts: &str,
        _content_type: &str,
        _body: (),
        _method: http::Method,
    ) -> Result<Self, E> {
        Err(unsupported("form data over the Forge bridge"))
    }

    fn try_new_req_multipart(
        _path: &str,
        _accepts: &str,
        _body: (),
        _method: http::Method,
    ) -> Result<Self, E> {
        Err(unsupported("multipart over the Forge bridge"))
    }

    fn try_new_req_streaming(
        _path: &str,
        _accepts: &str,
        _content_type: &str,
        _body: impl Stream<Item = Bytes> + Send + 'static,
        _method: http::Method,
    ) -> Result<Self, E> {
        Err(unsupported("streaming over the Forge bridge"))
    }
}

impl<E: FromServerFnError> ClientRes<E> for BridgeAnswer {
    async fn try_into_string(self) -> Result<String, E> {
        Ok(self.body)
    }

    async fn try_into_bytes(self) -> Result<Bytes, E> {
        Ok(Bytes::from(self.body))
    }

    fn try_into_stream(
        self,
    ) -> Result<impl Stream<Item = Result<Bytes, Bytes>> + Send + Sync + 'static, E> {
        Err::<Never, E>(unsupported("streaming over the Forge bridge"))
    }

    fn status(&self) -> u16 {
        self.status
    }

    fn status_text(&self) -> String {
        String::new()
    }

    fn location(&self) -> String {
        String::new()
    }

    fn has_redirect(&self) -> bool {
        false
    }
}

/// The stream type of the streams this client never makes.
enum Never {}

impl Stream for Never {
    type Item = Result<Bytes, Bytes>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        match *self {}
    }
}

/// What a failed bridge call becomes: the server function's "could not reach the server".
fn unreachable<E: FromServerFnError>(e: BridgeError) -> E {
    ServerFnErrorErr::Request(e.to_string()).into_app_error()
}

async fn invoke(call: BridgeCall) -> Result<BridgeAnswer, BridgeError> {
    // invokeRemote carries the body as a JSON value inside its payload, not as text: the
    // encoded body goes in as is.
    let body = match &call.body {
        Some((text, content_type)) if content_type == BridgeJson::CONTENT_TYPE => {
            Some(json::RawJson(text))
        }
        Some(_) => {
            return Err(BridgeError::InvalidRequest(
                "invokeRemote sends JSON bodies only: use BridgeJson".into(),
            ))
        }
        None => None,
    };
    let req = InvokeRequest {
        path: &call.path,
        method: call.method,
        headers: None,
        body: body.as_ref(),
    };
    let res = Bridge::new(Ambient).invoke_remote_raw(&req).await?;
    let body = res.body.map(|body| body.to_text()).unwrap_or_default();
    Ok(BridgeAnswer {
        status: res.status,
        body,
    })
}

async fn request(remote_key: &str, call: BridgeCall) -> Result<BridgeAnswer, BridgeError> {
    let mut req = RemoteRequest::new(call.method, call.path);
    if let Some((body, content_type)) = call.body {
        req = req.header("content-type", content_type).body(body);
    }
    let res = Bridge::new(Ambient)
        .request_remote(remote_key, &req)
        .await?;
    Ok(BridgeAnswer {
        status: res.status,
        body: res.body,
    })
}

impl<E: FromServerFnError + Send> Client<E> for InvokeRemote {
    type Request = BridgeCall;
    type Response = BridgeAnswer;

    fn send(call: BridgeCall) -> impl Future<Output = Result<BridgeAnswer, E>> + Send {
        one_thread(async move { invoke(call).await.map_err(unreachable) })
    }

    fn open_websocket(
        _path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl futures_sink::Sink<Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        no_websocket()
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        spawn(future)
    }
}

impl<R: Remote, E: FromServerFnError + Send> Client<E> for RequestRemote<R> {
    type Request = BridgeCall;
    type Response = BridgeAnswer;

    fn send(call: BridgeCall) -> impl Future<Output = Result<BridgeAnswer, E>> + Send {
        one_thread(async move { request(R::KEY, call).await.map_err(unreachable) })
    }

    fn open_websocket(
        _path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl futures_sink::Sink<Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        no_websocket()
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        spawn(future)
    }
}

/// What both clients answer to a websocket: the bridge carries none.
fn no_websocket<E: FromServerFnError>() -> std::future::Ready<Result<(Never, NeverSink), E>> {
    std::future::ready(Err(unsupported("websockets over the Forge bridge")))
}

/// The sink type of the websockets this client never opens.
enum NeverSink {}

impl futures_sink::Sink<Bytes> for NeverSink {
    type Error = ();

    fn poll_ready(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), ()>> {
        match *self {}
    }

    fn start_send(self: std::pin::Pin<&mut Self>, _: Bytes) -> Result<(), ()> {
        match *self {}
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), ()>> {
        match *self {}
    }

    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), ()>> {
        match *self {}
    }
}

/// The bridge's futures hold JS values, so they are not `Send`, while a server function's client
/// must return a `Send` future. They never leave the thread that made them, which `SendWrapper`
/// checks. (Marking them `Send` unsafely on single-threaded wasm saved only 311 B gzip.)
fn one_thread<F: Future>(future: F) -> impl Future<Output = F::Output> + Send {
    send_wrapper::SendWrapper::new(future)
}

fn spawn(future: impl Future<Output = ()> + 'static) {
    #[cfg(all(feature = "wasm", target_arch = "wasm32"))]
    wasm_bindgen_futures::spawn_local(future);
    #[cfg(not(all(feature = "wasm", target_arch = "wasm32")))]
    drop(future);
}

/// The bridge of wherever this runs: the host's in the browser, the installed scripted host in
/// native tests, none otherwise.
#[derive(Debug, Clone, Copy)]
struct Ambient;

impl BridgeTransport for Ambient {
    async fn call(&self, command: &str, payload: Option<&str>) -> Result<String, BridgeError> {
        #[cfg(all(feature = "wasm", target_arch = "wasm32"))]
        return crate::GlobalBridge.call(command, payload).await;
        #[cfg(all(
            feature = "testing",
            not(all(feature = "wasm", target_arch = "wasm32"))
        ))]
        return crate::testing::ambient_call(command, payload).await;
        #[allow(unreachable_code)]
        {
            let _ = (command, payload);
            Err(BridgeError::Unavailable)
        }
    }
}
