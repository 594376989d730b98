//! The host's listeners answer only requests addressed to themselves.
//!
//! Binding to loopback keeps other machines out, but not other web pages: a page on
//! `http://evil.example` can make its own name resolve to 127.0.0.1 (DNS rebinding) and then
//! call the host as if same-origin, e.g. to mint tokens through the invocation service. Such a
//! request still names `evil.example` in its `Host` header, so anything but the listener's own
//! loopback address is refused.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The `Host` values a listener on `addr` accepts: `127.0.0.1:<port>` (the address itself),
/// `localhost:<port>` and, for an IPv6 loopback listener, `[::1]:<port>`.
#[derive(Clone, Debug)]
pub struct OwnHost(Arc<Vec<String>>);

impl OwnHost {
    pub fn of(addr: SocketAddr) -> Self {
        let port = addr.port();
        let ip = match addr {
            SocketAddr::V4(v4) => v4.ip().to_string(),
            SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
        };
        Self(Arc::new(vec![
            format!("{ip}:{port}"),
            format!("localhost:{port}"),
        ]))
    }

    fn allows(&self, host: &str) -> bool {
        self.0.iter().any(|own| own.eq_ignore_ascii_case(host))
    }
}

/// Middleware: 421 for a request whose `Host` is not this listener's.
pub async fn own_host_only(State(own): State<OwnHost>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if own.allows(host) {
        return next.run(request).await;
    }
    tracing::warn!(host = ?host.chars().take(100).collect::<String>(), "local Forge host: refused a request for another host");
    (
        StatusCode::MISDIRECTED_REQUEST,
        "The local Forge host answers only requests addressed to its own loopback address.",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listeners_own_names_are_allowed() {
        let own = OwnHost::of("127.0.0.1:3100".parse().unwrap());
        for ok in ["127.0.0.1:3100", "localhost:3100", "LOCALHOST:3100"] {
            assert!(own.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example:3100",
            "127.0.0.1:3101",
            "127.0.0.1",
            "localhost",
            "",
            "127.0.0.1:3100.evil.example",
        ] {
            assert!(!own.allows(bad), "{bad}");
        }
        let v6 = OwnHost::of("[::1]:3100".parse().unwrap());
        assert!(v6.allows("[::1]:3100"));
    }
}
