//! The typed client of the remote: one call per [`Operation`], over the transport it names.

use std::{future::Future, pin::Pin};

use forge_bridge::{Bridge, BridgeError, BridgeTransport, InvokeRequest, RemoteRequest};
use serde::de::DeserializeOwned;

use crate::{
    api::Health,
    json::{self, Json},
    routes::{Healthz, Operation, Transport, Whoami},
};

/// Failure of a typed call to the remote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError<E> {
    /// The call did not get an answer from the remote (no bridge, FIT refused, timeout, …).
    #[error(transparent)]
    Bridge(#[from] BridgeError),
    /// The remote answered with a non-2xx status and its error body.
    #[error("the remote answered {status}")]
    Remote { status: u16, error: E },
    /// The remote answered, but not with the operation's `Response` or `Error` type.
    #[error("the remote's answer ({status}) breaks the API contract: {message}")]
    Contract { status: u16, message: String },
}

/// The future of [`RemoteClient::call`].
pub type Call<'a, Op> = Pin<
    Box<
        dyn Future<Output = Result<<Op as Operation>::Response, ApiError<<Op as Operation>::Error>>>
            + 'a,
    >,
>;

/// Calls the remote's operations. `remote_key` names the `remotes[]` entry of the manifest;
/// `requestRemote` needs it (`invokeRemote` goes to the module's `resolver.endpoint`).
#[derive(Debug, Clone)]
pub struct RemoteClient<T> {
    bridge: Bridge<T>,
    remote_key: String,
}

#[cfg(feature = "bridge")]
impl RemoteClient<super::GlobalBridge> {
    /// Over the host's bridge; `remote_key` is usually [`crate::routes::REMOTE_KEY`].
    pub fn global(remote_key: impl Into<String>) -> Self {
        Self::new(Bridge::global(), remote_key)
    }
}

impl<T: BridgeTransport> RemoteClient<T> {
    pub fn new(bridge: Bridge<T>, remote_key: impl Into<String>) -> Self {
        Self {
            bridge,
            remote_key: remote_key.into(),
        }
    }

    pub fn remote_key(&self) -> &str {
        &self.remote_key
    }

    /// Sends `op` by its transport; decodes a 2xx answer as `Op::Response` and any other as
    /// `Op::Error`.
    ///
    /// Not an `async fn` on purpose: choosing the transport here, outside any state machine,
    /// lets the compiler drop the transport an operation does not use (a few KB of wasm each).
    pub fn call<'a, Op: Operation>(&'a self, op: &'a Op) -> Call<'a, Op> {
        match Op::TRANSPORT {
            Transport::InvokeRemote => Box::pin(self.call_invoke(op)),
            Transport::RequestRemote => Box::pin(self.call_request(op)),
        }
    }

    async fn call_invoke<Op: Operation>(
        &self,
        op: &Op,
    ) -> Result<Op::Response, ApiError<Op::Error>> {
        let path = op.path();
        let req = InvokeRequest {
            path: &path,
            method: Op::METHOD,
            headers: None,
            body: op.body(),
        };
        let res = self.bridge.invoke_remote_raw(&req).await?;
        decode_outcome(res.status, Ok(res.body.unwrap_or(Json::Null)))
    }

    async fn call_request<Op: Operation>(
        &self,
        op: &Op,
    ) -> Result<Op::Response, ApiError<Op::Error>> {
        let mut req = RemoteRequest::new(Op::METHOD, op.path());
        if let Some(body) = op.body() {
            req = req.json(body)?;
        }
        let res = self.bridge.request_remote(&self.remote_key, &req).await?;
        decode_outcome(res.status, body_json(Some(&res.body)))
    }

    /// `GET /healthz`.
    pub async fn healthz(&self) -> Result<Health, ApiError<<Healthz as Operation>::Error>> {
        self.call(&Healthz).await
    }

    /// `GET /whoami`.
    pub async fn whoami(
        &self,
    ) -> Result<<Whoami as Operation>::Response, ApiError<<Whoami as Operation>::Error>> {
        self.call(&Whoami).await
    }
}

/// How the client reads an answer to `Op`: 2xx as `Op::Response`, anything else as
/// `Op::Error` (an empty body reads as JSON `null`). Public so the server's contract test
/// decodes exactly as the panel does.
pub fn decode_answer<Op: Operation>(
    status: u16,
    body: Option<&str>,
) -> Result<Op::Response, ApiError<Op::Error>> {
    decode_outcome(status, body_json(body))
}

/// A body's JSON: `null` when there is none or it is blank.
fn body_json(body: Option<&str>) -> Result<Json, json::Error> {
    match body {
        Some(b) if !b.trim().is_empty() => Json::parse(b),
        _ => Ok(Json::Null),
    }
}

/// 2xx: the body as `R`; otherwise as `E`.
fn decode_outcome<R: DeserializeOwned, E: DeserializeOwned>(
    status: u16,
    body: Result<Json, json::Error>,
) -> Result<R, ApiError<E>> {
    let contract = |e: json::Error| ApiError::Contract {
        status,
        message: e.to_string(),
    };
    let body = body.map_err(contract)?;
    if (200..300).contains(&status) {
        json::from_value(body).map_err(contract)
    } else {
        let error = json::from_value(body).map_err(contract)?;
        Err(ApiError::Remote { status, error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorBody;

    fn decode_outcome<R: DeserializeOwned, E: DeserializeOwned>(
        status: u16,
        body: Option<&str>,
    ) -> Result<R, ApiError<E>> {
        super::decode_outcome(status, body_json(body))
    }

    #[test]
    fn outcomes_decode_by_status() {
        let ok: Result<Health, ApiError<ErrorBody>> =
            decode_outcome(200, Some(r#"{"status":"ok","version":"1"}"#));
        assert_eq!(ok.unwrap().status, "ok");

        let err: Result<Health, ApiError<ErrorBody>> =
            decode_outcome(404, Some(r#"{"code":"not_found","message":"no"}"#));
        assert_eq!(
            err.unwrap_err(),
            ApiError::Remote {
                status: 404,
                error: ErrorBody {
                    code: "not_found".into(),
                    message: "no".into()
                }
            }
        );

        let broken: Result<Health, ApiError<ErrorBody>> =
            decode_outcome(200, Some(r#"{"nope":1}"#));
        assert!(matches!(
            broken.unwrap_err(),
            ApiError::Contract { status: 200, .. }
        ));

        let unit: Result<(), ApiError<ErrorBody>> = decode_outcome(204, Some(""));
        assert!(unit.is_ok());
        let unit: Result<(), ApiError<ErrorBody>> = decode_outcome(204, None);
        assert!(unit.is_ok());
    }
}
