//! What can go wrong talking to the Forge host.

/// Failure of a bridge call. `Display` of [`BridgeError::Invoke`] and
/// [`BridgeError::Rejected`] is the host's own message, exactly as `@forge/bridge` would throw it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BridgeError {
    /// `globalThis.__bridge.callBridge` is missing: not running inside an Atlassian product
    /// (or `forge tunnel`). `@forge/bridge` throws this at module load; we return it per call.
    #[error("Unable to establish a connection with the Custom UI bridge: globalThis.__bridge.callBridge is missing. Forge apps only work in the context of Atlassian products.")]
    Unavailable,
    /// One of `invokeRemote`'s documented rejections (https://developer.atlassian.com/platform/forge/apis-reference/ui-api-bridge/invokeRemote/).
    #[error("{message}")]
    Invoke {
        kind: InvokeErrorKind,
        message: String,
    },
    /// The host rejected the call with any other message.
    #[error("{0}")]
    Rejected(String),
    /// The request cannot be sent: what `@forge/bridge` (or `new Request`) would throw
    /// synchronously, e.g. a body on GET or an invalid header name.
    #[error("{0}")]
    InvalidRequest(String),
    /// The host's answer does not have the documented shape, or the body not the expected type.
    #[error("unexpected answer from the Forge bridge: {0}")]
    Decode(String),
    /// `view.submit` or `view.open` refused, with `@forge/bridge`'s message:
    /// [`NOT_SUBMITTABLE`] when the host answered `submit` with `false` (the view is not a
    /// config view or a modal), [`NOT_OPENABLE`] when `open` answered `false` or failed. One
    /// variant holding the message, so a bundle links only the messages it can produce.
    #[error("{0}")]
    Refused(&'static str),
}

/// `view.submit`'s refusal (`@forge/bridge@7.2.0` `out/view/submit.js`).
pub const NOT_SUBMITTABLE: &str = "this resource's view is not submittable.";
/// `view.open`'s refusal (`@forge/bridge@7.2.0` `out/view/open.js`).
pub const NOT_OPENABLE: &str = "this resource's view is not openable.";

/// The documented `invokeRemote` rejections, told apart by their stable message prefixes. The
/// numbers inside the messages are parsed when present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeErrorKind {
    /// `Remote could not verify the Forge Invocation Token`: the remote answered 401.
    FitNotVerified,
    /// `Invalid response from remote - content-type header must be set to application/json and
    /// is currently: <header>. Status: <status>.`
    InvalidContentType {
        content_type: Option<String>,
        status: Option<u16>,
    },
    /// `Invalid response from remote - cannot parse body as JSON. Status: <status>.` (also a
    /// non-2xx answer without a body).
    CannotParseBody { status: Option<u16> },
    /// `Invalid response from remote - remote network error`.
    NetworkError,
    /// `Remote invocation timed out after <X> seconds`.
    Timeout { seconds: Option<u32> },
    /// `An unexpected error happened`.
    Unexpected,
}

const FIT: &str = "Remote could not verify the Forge Invocation Token";
const CONTENT_TYPE: &str =
    "Invalid response from remote - content-type header must be set to application/json and is currently: ";
const PARSE: &str = "Invalid response from remote - cannot parse body as JSON";
const NETWORK: &str = "Invalid response from remote - remote network error";
const TIMEOUT: &str = "Remote invocation timed out after ";
const UNEXPECTED: &str = "An unexpected error happened";
const STATUS: &str = ". Status: ";

impl InvokeErrorKind {
    /// Classifies a rejection message of `invokeRemote`; `None` for anything undocumented.
    pub fn parse(message: &str) -> Option<Self> {
        let m = message.trim();
        if m.starts_with(FIT) {
            Some(Self::FitNotVerified)
        } else if let Some(rest) = m.strip_prefix(CONTENT_TYPE) {
            let (content_type, status) = match rest.rfind(STATUS) {
                Some(i) => (&rest[..i], status_in(&rest[i + STATUS.len()..])),
                None => (rest, None),
            };
            Some(Self::InvalidContentType {
                content_type: Some(content_type.to_owned()),
                status,
            })
        } else if let Some(rest) = m.strip_prefix(PARSE) {
            Some(Self::CannotParseBody {
                status: rest.strip_prefix(STATUS).and_then(status_in),
            })
        } else if m.starts_with(NETWORK) {
            Some(Self::NetworkError)
        } else if let Some(rest) = m.strip_prefix(TIMEOUT) {
            Some(Self::Timeout {
                seconds: leading_number(rest),
            })
        } else if m.starts_with(UNEXPECTED) {
            Some(Self::Unexpected)
        } else {
            None
        }
    }

    /// A stable, snake_case name for logs and tests.
    pub fn name(&self) -> &'static str {
        match self {
            Self::FitNotVerified => "fit_not_verified",
            Self::InvalidContentType { .. } => "invalid_content_type",
            Self::CannotParseBody { .. } => "cannot_parse_body",
            Self::NetworkError => "network_error",
            Self::Timeout { .. } => "timeout",
            Self::Unexpected => "unexpected",
        }
    }
}

fn status_in(s: &str) -> Option<u16> {
    leading_number(s).and_then(|n| u16::try_from(n).ok())
}

fn leading_number(s: &str) -> Option<u32> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s[..end].parse().ok()
}

impl BridgeError {
    /// A payload the codec could not write: the caller's request is at fault.
    pub(crate) fn encode(e: crate::json::Error) -> Self {
        BridgeError::InvalidRequest(e.to_string())
    }

    /// An answer that does not read as the type expected.
    pub(crate) fn decode(e: crate::json::Error) -> Self {
        BridgeError::Decode(e.to_string())
    }

    /// An `invokeRemote` rejection: typed when documented, [`BridgeError::Rejected`] otherwise.
    pub fn from_invoke_rejection(message: String) -> Self {
        match InvokeErrorKind::parse(&message) {
            Some(kind) => Self::Invoke { kind, message },
            None => Self::Rejected(message),
        }
    }

    /// A stable, snake_case name for logs and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Invoke { kind, .. } => kind.name(),
            Self::Rejected(_) => "rejected",
            Self::InvalidRequest(_) => "invalid_request",
            Self::Decode(_) => "decode",
            Self::Refused(m) if *m == NOT_SUBMITTABLE => "not_submittable",
            Self::Refused(_) => "not_openable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(m: &str) -> Option<InvokeErrorKind> {
        InvokeErrorKind::parse(m)
    }

    #[test]
    fn documented_messages_map_to_their_kind() {
        use InvokeErrorKind::*;
        assert_eq!(
            kind("Remote could not verify the Forge Invocation Token"),
            Some(FitNotVerified)
        );
        assert_eq!(
            kind("Invalid response from remote - content-type header must be set to application/json and is currently: text/html; charset=utf-8. Status: 502."),
            Some(InvalidContentType { content_type: Some("text/html; charset=utf-8".into()), status: Some(502) })
        );
        assert_eq!(
            kind("Invalid response from remote - cannot parse body as JSON. Status: 500."),
            Some(CannotParseBody { status: Some(500) })
        );
        assert_eq!(
            kind("Invalid response from remote - cannot parse body as JSON"),
            Some(CannotParseBody { status: None })
        );
        assert_eq!(
            kind("Invalid response from remote - remote network error"),
            Some(NetworkError)
        );
        assert_eq!(
            kind("Remote invocation timed out after 25 seconds"),
            Some(Timeout { seconds: Some(25) })
        );
        assert_eq!(
            kind("Remote invocation timed out after X seconds"),
            Some(Timeout { seconds: None })
        );
        assert_eq!(kind("An unexpected error happened"), Some(Unexpected));
        assert_eq!(kind("Something else"), None);
    }

    #[test]
    fn the_message_is_kept_verbatim() {
        let m = "Remote invocation timed out after 25 seconds".to_owned();
        let e = BridgeError::from_invoke_rejection(m.clone());
        assert_eq!(e.to_string(), m);
        assert_eq!(e.kind(), "timeout");
        let e = BridgeError::from_invoke_rejection("boom".into());
        assert_eq!(e, BridgeError::Rejected("boom".into()));
        assert_eq!(e.to_string(), "boom");
    }
}
