//! A typed Rust stand-in for `@forge/bridge`, talking to the host's
//! `globalThis.__bridge.callBridge(command, payload)` seam that `@forge/bridge` 7.2.0 itself uses (its `out/bridge.js`).
//!
//! In production the other end is Atlassian's host script, so every payload and every decoded
//! answer follows `@forge/bridge@7.2.0` exactly; `end2end/tests/bridge-conformance.spec.ts` runs
//! both against the same recording bridge and compares them.
//!
//! Layout: the protocol (payloads, header normalisation, answer decoding, error mapping, locale
//! normalisation) is plain Rust, tested natively. Payloads and answers are serde types, read and
//! written with the small codec [`crate::json`] rather than serde_json, to keep the bundle
//! small. Only [`GlobalBridge`], the lookup of
//! `callBridge` and the Promise plumbing, needs wasm (feature `bridge`). Everything else is
//! generic over [`BridgeTransport`], so tests can script the host.
//!
//! ```ignore
//! let bridge = Bridge::global();
//! let ctx = bridge.get_context().await?;
//! let api = RemoteClient::new(bridge, "team-tasks");
//! let health = api.healthz().await?;
//! ```
//!
//! Covered commands: `invoke` (as `invokeRemote`), `fetchRemote`, `getContext`,
//! `enableTheming`, `showFlag`/`closeFlag`, `navigate` (navigate, open), `reload`, `submit`
//! (`view.submit`) and `open` (`view.open`). Anything else can go through [`Bridge::call_raw`].

mod client;
mod context;
mod error;
#[cfg(feature = "bridge")]
mod global;
mod headers;
mod remote;
mod submit;
mod view;

use std::future::Future;

use serde::{de::DeserializeOwned, Serialize};

pub use crate::json::Json;
pub use client::{decode_answer, ApiError, Call, RemoteClient};
pub use context::{
    ensure_locale, Context, Entity, Extension, Theme, ISSUE_PANEL, MACRO, SUPPORTED_LOCALES,
};
pub use error::{BridgeError, InvokeErrorKind, NOT_OPENABLE, NOT_SUBMITTABLE};
#[cfg(feature = "bridge")]
pub use global::GlobalBridge;
pub use headers::Headers;
pub use remote::{InvokeRequest, InvokeResponse, RemoteRequest, RemoteResponse};
pub use view::{FlagId, FlagOptions, FlagType, Location, NavigationLocation};

/// The host seam: `callBridge(command, payload)`.
pub trait BridgeTransport {
    /// Calls `command` with `payload` given as JSON text (`None`: called with no payload
    /// argument at all). Resolves with the host's answer as JSON text (`null` for `undefined`).
    /// A rejection or throw becomes [`BridgeError::Rejected`] with its message; a missing bridge
    /// [`BridgeError::Unavailable`].
    fn call(
        &self,
        command: &str,
        payload: Option<&str>,
    ) -> impl Future<Output = Result<String, BridgeError>>;
}

/// The Forge bridge API over a transport. Cheap to clone when the transport is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bridge<T> {
    transport: T,
}

#[cfg(feature = "bridge")]
impl Bridge<GlobalBridge> {
    /// The host's bridge, looked up on each call: a missing one is
    /// [`BridgeError::Unavailable`], never a panic or a throw at load time.
    pub const fn global() -> Self {
        Bridge {
            transport: GlobalBridge,
        }
    }
}

impl<T: BridgeTransport> Bridge<T> {
    pub const fn new(transport: T) -> Self {
        Bridge { transport }
    }

    /// Any command, untyped: the escape hatch for commands this module does not cover.
    pub async fn call_raw(
        &self,
        command: &str,
        payload: Option<&str>,
    ) -> Result<String, BridgeError> {
        self.transport.call(command, payload).await
    }

    /// `invokeRemote(req)`, with serde types: the body serialised, the answer's body decoded as
    /// `R`. A non-2xx answer with a JSON body resolves too: check `status`.
    pub async fn invoke_remote<B: Serialize, R: DeserializeOwned>(
        &self,
        req: &InvokeRequest<'_, B>,
    ) -> Result<InvokeResponse<R>, BridgeError> {
        remote::type_invoke_response(self.invoke_remote_raw(req).await?)
    }

    /// `invokeRemote(req)`, with the answer's body left as [`Json`].
    pub async fn invoke_remote_raw<B: Serialize>(
        &self,
        req: &InvokeRequest<'_, B>,
    ) -> Result<InvokeResponse<Json>, BridgeError> {
        let payload = remote::invoke_payload(req)?;
        let reply = match self.transport.call(remote::INVOKE, Some(&payload)).await {
            Ok(reply) => reply,
            Err(BridgeError::Rejected(message)) => {
                return Err(BridgeError::from_invoke_rejection(message))
            }
            Err(e) => return Err(e),
        };
        remote::decode_invoke_reply(&reply)
    }

    /// `requestRemote(remoteKey, req)`, read as a `Response` would be.
    pub async fn request_remote(
        &self,
        remote_key: &str,
        req: &RemoteRequest,
    ) -> Result<RemoteResponse, BridgeError> {
        let payload = remote::fetch_remote_payload(remote_key, req)?;
        let reply = self
            .transport
            .call(remote::FETCH_REMOTE, Some(&payload))
            .await?;
        remote::decode_fetch_reply(&reply)
    }

    /// `view.getContext()`: a round trip each time, locale normalised.
    pub async fn get_context(&self) -> Result<Context, BridgeError> {
        context::decode_context(&self.transport.call(context::GET_CONTEXT, None).await?)
    }

    /// `view.getContext()`, read as the caller's own type: only the members `C` names are
    /// decoded, and each decoded member costs wasm, so a bundle that needs three fields can
    /// read three. The locale is as the host sent it; [`ensure_locale`] normalises it.
    pub async fn get_context_as<C: DeserializeOwned>(&self) -> Result<C, BridgeError> {
        let reply = self.transport.call(context::GET_CONTEXT, None).await?;
        crate::json::from_str::<Option<C>>(&reply)
            .map_err(|e| BridgeError::Decode(e.to_string()))?
            .ok_or_else(|| BridgeError::Decode("getContext answered null".into()))
    }

    /// `view.theme.enable()`.
    pub async fn enable_theming(&self) -> Result<(), BridgeError> {
        self.transport
            .call(view::ENABLE_THEMING, None)
            .await
            .map(drop)
    }

    /// `showFlag(options)`; resolves once the host has shown it.
    pub async fn show_flag(&self, options: &FlagOptions) -> Result<Flag<T>, BridgeError>
    where
        T: Clone,
    {
        let payload = view::show_flag_payload(options)?;
        self.transport.call(view::SHOW_FLAG, Some(&payload)).await?;
        Ok(Flag {
            bridge: self.clone(),
            id: options.id.clone(),
        })
    }

    /// `router.navigate(location)`: same tab.
    pub async fn navigate(&self, location: impl Into<Location>) -> Result<(), BridgeError> {
        let payload = view::navigate_payload(&location.into(), false)?;
        self.transport
            .call(view::NAVIGATE, Some(&payload))
            .await
            .map(drop)
    }

    /// `router.open(location)`: new tab.
    pub async fn open(&self, location: impl Into<Location>) -> Result<(), BridgeError> {
        let payload = view::navigate_payload(&location.into(), true)?;
        self.transport
            .call(view::NAVIGATE, Some(&payload))
            .await
            .map(drop)
    }

    /// `router.reload()`.
    pub async fn reload(&self) -> Result<(), BridgeError> {
        self.transport.call(view::RELOAD, None).await.map(drop)
    }

    /// `view.submit(payload)`, `payload` any JSON: what a macro config view (or a modal) saves
    /// with. [`BridgeError::Refused`] with [`NOT_SUBMITTABLE`] when the host answers `false`.
    pub async fn submit<P: Serialize + ?Sized>(&self, payload: &P) -> Result<(), BridgeError> {
        let payload = submit::to_text(payload)?;
        submit::decode_submit(self.transport.call(submit::SUBMIT, Some(&payload)).await)
    }

    /// `view.submit({config})`: saves a macro's configuration from its config view; the macro
    /// then reads it back as `getContext().extension.config` (and the remote as the FIT's
    /// `context.extension.config`).
    pub async fn submit_config<C: Serialize + ?Sized>(
        &self,
        config: &C,
    ) -> Result<(), BridgeError> {
        let payload = submit::config_payload(config)?;
        submit::decode_submit(self.transport.call(submit::SUBMIT, Some(&payload)).await)
    }

    /// `view.open()`: a macro opens its config view. Every failure is [`BridgeError::Refused`]
    /// with [`NOT_OPENABLE`], as in `@forge/bridge`. (Not [`Bridge::open`], which is
    /// `router.open`.)
    pub async fn open_view(&self) -> Result<(), BridgeError> {
        submit::decode_open(self.transport.call(submit::OPEN, None).await)
    }
}

/// A shown flag.
#[derive(Debug, Clone)]
pub struct Flag<T> {
    bridge: Bridge<T>,
    id: FlagId,
}

impl<T: BridgeTransport> Flag<T> {
    pub fn id(&self) -> &FlagId {
        &self.id
    }

    /// `flag.close()`.
    pub async fn close(&self) -> Result<(), BridgeError> {
        let payload = view::close_flag_payload(&self.id)?;
        self.bridge
            .transport
            .call(view::CLOSE_FLAG, Some(&payload))
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    //! The generic API against a scripted host.

    use super::*;
    use crate::routes::Method;
    use std::{
        cell::RefCell,
        collections::VecDeque,
        pin::pin,
        task::{Context as TaskContext, Poll, Waker},
    };

    type Reply = Result<String, BridgeError>;

    #[derive(Default)]
    struct Scripted {
        calls: RefCell<Vec<(String, Option<String>)>>,
        replies: RefCell<VecDeque<Reply>>,
    }

    impl Scripted {
        fn replying(replies: impl IntoIterator<Item = Reply>) -> Self {
            Self {
                replies: RefCell::new(replies.into_iter().collect()),
                ..Self::default()
            }
        }
    }

    impl BridgeTransport for &Scripted {
        async fn call(&self, command: &str, payload: Option<&str>) -> Result<String, BridgeError> {
            self.calls
                .borrow_mut()
                .push((command.to_owned(), payload.map(str::to_owned)));
            self.replies
                .borrow_mut()
                .pop_front()
                .unwrap_or(Ok("null".into()))
        }
    }

    /// The scripted transport never suspends, so one poll finishes any future here.
    fn run<F: Future>(f: F) -> F::Output {
        match pin!(f).poll(&mut TaskContext::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("a scripted call suspended"),
        }
    }

    #[test]
    fn invoke_rejections_are_typed() {
        let host = Scripted::replying([Err(BridgeError::Rejected(
            "Remote could not verify the Forge Invocation Token".into(),
        ))]);
        let bridge = Bridge::new(&host);
        let e = run(bridge
            .invoke_remote::<(), serde_json::Value>(&InvokeRequest::new(Method::Get, "/whoami")))
        .unwrap_err();
        assert_eq!(e.kind(), "fit_not_verified");
        assert_eq!(host.calls.borrow()[0].0, "invoke");
    }

    #[test]
    fn the_context_reads_as_the_callers_type() {
        #[derive(serde::Deserialize)]
        struct Mine {
            locale: String,
        }
        let host = Scripted::replying([
            Ok(r#"{"locale":"en_GB","extension":{}}"#.into()),
            Ok("null".into()),
        ]);
        let bridge = Bridge::new(&host);
        assert_eq!(
            run(bridge.get_context_as::<Mine>()).unwrap().locale,
            "en_GB"
        );
        assert_eq!(
            run(bridge.get_context_as::<Mine>()).err().map(|e| e.kind()),
            Some("decode")
        );
    }

    #[test]
    fn get_context_sends_no_payload() {
        let host = Scripted::replying([Ok(
            r#"{"locale":"en_GB","extension":{"type":"macro"}}"#.into()
        )]);
        let ctx = run(Bridge::new(&host).get_context()).unwrap();
        assert_eq!(ctx.locale, "en-GB");
        assert_eq!(*host.calls.borrow(), vec![("getContext".to_owned(), None)]);
    }

    #[test]
    fn submit_and_open_send_what_forge_bridge_sends() {
        let host = Scripted::replying([
            Ok("true".into()),
            Ok("null".into()),
            Ok("false".into()),
            Ok("null".into()),
            Ok("false".into()),
        ]);
        let bridge = Bridge::new(&host);
        let team = Json::Object(vec![("team".into(), Json::String("Forge".into()))]);
        run(async {
            bridge.submit_config(&team).await.unwrap();
            bridge.submit(&Json::Array(vec![])).await.unwrap();
            assert_eq!(
                bridge.submit(&team).await,
                Err(BridgeError::Refused(NOT_SUBMITTABLE))
            );
            bridge.open_view().await.unwrap();
            assert_eq!(
                bridge.open_view().await,
                Err(BridgeError::Refused(NOT_OPENABLE))
            );
        });
        let calls = host.calls.borrow();
        let sent =
            |command: &str, payload: Option<&str>| (command.to_owned(), payload.map(str::to_owned));
        assert_eq!(
            *calls,
            vec![
                sent("submit", Some(r#"{"config":{"team":"Forge"}}"#)),
                sent("submit", Some("[]")),
                sent("submit", Some(r#"{"team":"Forge"}"#)),
                // `callBridge('open')`: no payload argument at all.
                sent("open", None),
                sent("open", None),
            ]
        );
    }

    #[test]
    fn a_flag_closes_by_id() {
        let host = Scripted::default();
        let bridge = Bridge::new(&host);
        run(async {
            let flag = bridge.show_flag(&FlagOptions::new("f")).await.unwrap();
            flag.close().await.unwrap();
        });
        let calls = host.calls.borrow();
        assert_eq!(calls[0].0, "showFlag");
        assert_eq!(
            calls[1],
            ("closeFlag".to_owned(), Some(r#"{"id":"f"}"#.to_owned()))
        );
    }

    #[test]
    fn the_client_picks_the_transport_of_the_operation() {
        let host = Scripted::replying([Ok(
            r#"{"status":200,"statusText":"OK","headers":{"content-type":"application/json"},"body":"{\"status\":\"ok\",\"version\":\"0.1.0\"}"}"#.into(),
        )]);
        let api = RemoteClient::new(Bridge::new(&host), "team-tasks");
        let health = run(api.healthz()).unwrap();
        assert_eq!(health.version, "0.1.0");
        let calls = host.calls.borrow();
        assert_eq!(calls[0].0, "fetchRemote");
        assert_eq!(
            calls[0].1.as_deref(),
            Some(
                r#"{"remoteKey":"team-tasks","fetchRequestInit":{"path":"/healthz","method":"GET","body":null,"headers":[]},"isMultipartFormData":false}"#
            )
        );
    }

    #[test]
    fn the_client_reports_remote_errors_with_their_body() {
        let host = Scripted::replying([Ok(
            r#"{"status":403,"headers":{"content-type":"application/json"},"body":"{\"code\":\"forbidden\",\"message\":\"no\"}"}"#.into(),
        )]);
        let api = RemoteClient::new(Bridge::new(&host), "team-tasks");
        match run(api.whoami()).unwrap_err() {
            ApiError::Remote { status, error } => {
                assert_eq!(status, 403);
                assert_eq!(error.code, "forbidden");
            }
            e => panic!("{e:?}"),
        }
    }
}
