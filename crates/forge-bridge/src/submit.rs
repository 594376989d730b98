//! `view.submit(payload)` and `view.open()` (`@forge/bridge@7.2.0` `out/view/submit.js`,
//! `out/view/open.js`): what a macro's config view saves with, and what a macro opens its config
//! with.
//!
//! Both answer with a boolean where only `false` means something: the host refused because the
//! view cannot do that (a macro's own view is not submittable; a config view or an issue panel is
//! not openable).

use super::error::{BridgeError, NOT_OPENABLE, NOT_SUBMITTABLE};
use serde::Serialize;

use crate::json;

pub(crate) const SUBMIT: &str = "submit";
pub(crate) const OPEN: &str = "open";

/// `{"config": <config>}`: what a macro config view submits, and what Confluence saves as the
/// macro's `extension.config`.
pub(crate) fn config_payload<C: Serialize + ?Sized>(config: &C) -> Result<String, BridgeError> {
    #[derive(Serialize)]
    struct Payload<'a, C: ?Sized> {
        config: &'a C,
    }
    to_text(&Payload { config })
}

pub(crate) fn to_text<T: Serialize + ?Sized>(payload: &T) -> Result<String, BridgeError> {
    json::to_string(payload).map_err(BridgeError::encode)
}

/// `submit`: `false` is [`NOT_SUBMITTABLE`]; any other answer is success. A host
/// rejection keeps its own message (`@forge/bridge` does not catch it).
pub(crate) fn decode_submit(reply: Result<String, BridgeError>) -> Result<(), BridgeError> {
    // The transport answers `JSON.stringify`'s text: `false` is exactly that.
    match reply?.as_str() {
        "false" => Err(BridgeError::Refused(NOT_SUBMITTABLE)),
        _ => Ok(()),
    }
}

/// `open`'s answer (`callBridge('open')`, no payload): `false` and every failure of the call are [`NOT_OPENABLE`], as
/// `@forge/bridge` catches them all into that one error. A missing bridge stays
/// [`BridgeError::Unavailable`] (`@forge/bridge` would already have thrown at load).
pub(crate) fn decode_open(reply: Result<String, BridgeError>) -> Result<(), BridgeError> {
    match reply {
        Ok(r) if r != "false" => Ok(()),
        Err(BridgeError::Unavailable) => Err(BridgeError::Unavailable),
        _ => Err(BridgeError::Refused(NOT_OPENABLE)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Json;

    #[test]
    fn the_config_payload_wraps_the_config() {
        let team = Json::Object(vec![("team".into(), Json::String("Core \"UI\"".into()))]);
        assert_eq!(
            config_payload(&team).unwrap(),
            r#"{"config":{"team":"Core \"UI\""}}"#
        );
    }

    #[test]
    fn only_false_refuses_a_submit() {
        for ok in ["null", "true", "{}", "0", "\"false\""] {
            assert_eq!(decode_submit(Ok(ok.into())), Ok(()), "{ok}");
        }
        let e = decode_submit(Ok("false".into())).unwrap_err();
        assert_eq!(e, BridgeError::Refused(NOT_SUBMITTABLE));
        assert_eq!(e.to_string(), "this resource's view is not submittable.");
        assert_eq!(e.kind(), "not_submittable");
        // The host's own rejection passes through unchanged.
        assert_eq!(
            decode_submit(Err(BridgeError::Rejected("boom".into()))),
            Err(BridgeError::Rejected("boom".into()))
        );
    }

    #[test]
    fn every_failure_of_open_is_not_openable() {
        for ok in ["null", "true", "{}"] {
            assert_eq!(decode_open(Ok(ok.into())), Ok(()), "{ok}");
        }
        for reply in [
            Ok("false".to_owned()),
            Err(BridgeError::Rejected("boom".into())),
            Err(BridgeError::Decode("x".into())),
        ] {
            let e = decode_open(reply).unwrap_err();
            assert_eq!(e, BridgeError::Refused(NOT_OPENABLE));
            assert_eq!(e.to_string(), "this resource's view is not openable.");
            assert_eq!(e.kind(), "not_openable");
        }
        assert_eq!(
            decode_open(Err(BridgeError::Unavailable)),
            Err(BridgeError::Unavailable)
        );
    }
}
