//! A typed Rust stand-in for `@forge/bridge`, talking to the host's
//! `globalThis.__bridge.callBridge(command, payload)` seam that `@forge/bridge` 7.2.0 itself uses (its `out/bridge.js`).
//!
//! In production the other end is Atlassian's host script, so every payload and every decoded
//! answer follows `@forge/bridge@7.2.0` exactly; `end2end/tests/bridge-conformance.spec.ts` runs
//! both against the same recording bridge and compares them.
//!
//! Layout: the protocol (payloads, header normalisation, answer decoding, error mapping, locale
//! normalisation) is plain Rust, tested natively. Payloads and answers are serde types, read and
//! written with the small codec [`json`] rather than serde_json, to keep the bundle
//! small. Only [`GlobalBridge`], the lookup of
//! `callBridge` and the Promise plumbing, needs wasm (feature `bridge`). Everything else is
//! generic over [`BridgeTransport`], so tests can script the host.
//!
//! ```no_run
//! use forge_bridge::{Bridge, BridgeError, BridgeTransport, Method, RemoteRequest};
//!
//! #[derive(serde::Deserialize)]
//! struct WhoAmI {
//!     principal: Option<String>,
//! }
//!
//! // In the panel, `Bridge::global()` (feature `wasm`); in native tests, a
//! // `testing::ScriptedHost`.
//! async fn who<T: BridgeTransport>(bridge: Bridge<T>) -> Result<Option<String>, BridgeError> {
//!     let ctx = bridge.get_context().await?;
//!     if !ctx.extension.is_issue_panel() {
//!         return Ok(None);
//!     }
//!     let res = bridge
//!         .request_remote("my-remote", &RemoteRequest::new(Method::Get, "/whoami"))
//!         .await?;
//!     let me: WhoAmI = res.json().map_err(|e| BridgeError::Decode(e.to_string()))?;
//!     Ok(me.principal)
//! }
//! ```
//!
//! Covered commands: `invoke` (as `invokeRemote`), `fetchRemote`, `getContext`,
//! `enableTheming`, `showFlag`/`closeFlag`, `navigate` (navigate, open), `reload`, `submit`
//! (`view.submit`) and `open` (`view.open`). Anything else can go through [`Bridge::call_raw`].

mod context;
mod error;
#[cfg(feature = "wasm")]
mod global;
mod headers;
pub mod json;
mod remote;
#[cfg(feature = "server-fn")]
pub mod server_fn;
mod submit;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod view;

use std::future::Future;

use serde::{de::DeserializeOwned, Serialize};

pub use crate::json::Json;
pub use context::{
    ensure_locale, Context, Entity, Extension, Theme, ISSUE_PANEL, MACRO, SUPPORTED_LOCALES,
};
pub use error::{BridgeError, InvokeErrorKind, NOT_OPENABLE, NOT_SUBMITTABLE};
#[cfg(feature = "wasm")]
pub use global::GlobalBridge;
pub use headers::Headers;
pub use remote::{InvokeRequest, InvokeResponse, RemoteRequest, RemoteResponse};
pub use view::{FlagId, FlagOptions, FlagType, Location, NavigationLocation};

/// HTTP method of a remote call, spelled as `@forge/bridge` sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
        }
    }
}

impl Serialize for Method {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

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

#[cfg(feature = "wasm")]
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
        context::decode_as(&self.transport.call(context::GET_CONTEXT, None).await?)
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
    use crate::testing::{run, ScriptedHost as Scripted};

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
}

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
