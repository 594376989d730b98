//! The only wasm part: `globalThis.__bridge.callBridge`, looked up on every call.
//!
//! Payloads cross as JSON text through `JSON.parse`, answers come back through
//! `JSON.stringify`, so the crate's text codec (`json`) is the only JSON code in the bundle.

use js_sys::{Function, Promise, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{BridgeError, BridgeTransport};

/// The host's bridge. `@forge/bridge` grabs `callBridge` when its modules load and throws if it
/// is missing; this looks it up when called, so loading never fails and a missing bridge is
/// [`BridgeError::Unavailable`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GlobalBridge;

fn call_bridge_fn() -> Result<Function, BridgeError> {
    let bridge = Reflect::get(&js_sys::global(), &JsValue::from_str("__bridge"))
        .map_err(|_| BridgeError::Unavailable)?;
    if bridge.is_undefined() || bridge.is_null() {
        return Err(BridgeError::Unavailable);
    }
    Reflect::get(&bridge, &JsValue::from_str("callBridge"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or(BridgeError::Unavailable)
}

/// The message of whatever was thrown: an `Error`'s `message`, a string as is.
fn message_of(thrown: &JsValue) -> String {
    if let Some(s) = thrown.as_string() {
        return s;
    }
    if thrown.is_object() {
        if let Some(m) = Reflect::get(thrown, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
        {
            return m;
        }
    }
    JSON::stringify(thrown)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

impl BridgeTransport for GlobalBridge {
    async fn call(&self, command: &str, payload: Option<&str>) -> Result<String, BridgeError> {
        let call_bridge = call_bridge_fn()?;
        let command = JsValue::from_str(command);
        // `callBridge` is called as a plain function, like `@forge/bridge` does.
        let returned = match payload {
            None => call_bridge.call1(&JsValue::UNDEFINED, &command),
            Some(json) => {
                let payload =
                    JSON::parse(json).map_err(|e| BridgeError::InvalidRequest(message_of(&e)))?;
                call_bridge.call2(&JsValue::UNDEFINED, &command, &payload)
            }
        }
        .map_err(|e| BridgeError::Rejected(message_of(&e)))?;
        // `await` semantics: a non-Promise answer resolves as itself.
        let reply = JsFuture::from(Promise::resolve(&returned))
            .await
            .map_err(|e| BridgeError::Rejected(message_of(&e)))?;
        if reply.is_undefined() {
            return Ok("null".into());
        }
        JSON::stringify(&reply)
            .map_err(|e| BridgeError::Decode(message_of(&e)))?
            .as_string()
            .ok_or_else(|| BridgeError::Decode("the answer is not JSON".into()))
    }
}
