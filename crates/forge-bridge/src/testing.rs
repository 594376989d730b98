//! A scripted host for native tests of code that uses the bridge: it records every
//! `callBridge` call and answers from a queue (`null` once the queue is empty). Enabled with
//! the `testing` feature.
//!
//! ```
//! use forge_bridge::{testing::{run, ScriptedHost}, Bridge};
//!
//! let host = ScriptedHost::replying([Ok(r#"{"locale":"en_US"}"#.to_owned())]);
//! let ctx = run(Bridge::new(&host).get_context()).unwrap();
//! assert_eq!(ctx.locale, "en-US");
//! assert_eq!(host.calls.borrow()[0], ("getContext".to_owned(), None));
//! ```

use std::{
    cell::RefCell,
    collections::VecDeque,
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
};

use crate::{BridgeError, BridgeTransport};

/// One answer of the host: its JSON text, or how the call failed.
pub type Reply = Result<String, BridgeError>;

/// A host that answers from a script.
#[derive(Debug, Default)]
pub struct ScriptedHost {
    /// Every call so far: the command and its payload text.
    pub calls: RefCell<Vec<(String, Option<String>)>>,
    /// What the next calls answer, in order.
    pub replies: RefCell<VecDeque<Reply>>,
}

impl ScriptedHost {
    pub fn replying(replies: impl IntoIterator<Item = Reply>) -> Self {
        Self {
            replies: RefCell::new(replies.into_iter().collect()),
            ..Self::default()
        }
    }
}

impl BridgeTransport for &ScriptedHost {
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

/// Runs a future that never suspends (the scripted host never does) to its end.
///
/// # Panics
/// If the future suspends.
pub fn run<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a scripted call suspended"),
    }
}

thread_local! {
    /// The host [`serve`] installed: what server functions' clients talk to in native tests.
    static AMBIENT: RefCell<Option<std::rc::Rc<ScriptedHost>>> = const { RefCell::new(None) };
}

/// Runs `f` with `host` as the bridge of this thread, so server functions sent with
/// `server_fn::InvokeRemote`/`RequestRemote` (feature `server-fn`) reach it. The previous host
/// comes back afterwards.
pub fn serve<R>(host: std::rc::Rc<ScriptedHost>, f: impl FnOnce() -> R) -> R {
    let before = AMBIENT.with(|a| a.replace(Some(host)));
    let out = f();
    AMBIENT.with(|a| a.replace(before));
    out
}

#[cfg(feature = "server-fn")]
pub(crate) async fn ambient_call(command: &str, payload: Option<&str>) -> Reply {
    match AMBIENT.with(|a| a.borrow().clone()) {
        Some(host) => (&*host).call(command, payload).await,
        None => Err(BridgeError::Unavailable),
    }
}
