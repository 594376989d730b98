//! Readiness and graceful shutdown, so a replica can be restarted behind a load balancer
//! without failing a request.
//!
//! On SIGTERM (or Ctrl-C), [`crate::startup::Application::run_until`]:
//!
//! 1. marks the replica [`Draining`]: `/readyz` answers 503 at once, and every response carries
//!    `Connection: close`, so keep-alive clients reconnect, and land on another replica;
//! 2. keeps serving everything that arrives for `SHUTDOWN_GRACE_SECS` (default 5): a load
//!    balancer only notices at its next health check, and sends requests until then;
//! 3. stops accepting, closes idle connections and lets requests in flight finish; the
//!    outbox worker and the retention job finish the pass they are in;
//! 4. exits 0. Whatever still runs `SHUTDOWN_TIMEOUT_SECS` (default 20) after the signal is cut
//!    off, with a warning, so the process is gone before an orchestrator's SIGKILL (30 s by
//!    default on Kubernetes and ECS).
//!
//! The grace period must exceed the balancer's time to mark a replica down (its check
//! interval times its fall count): README's HAProxy recipe checks every 500 ms and falls after
//! 2 failures, so about 1.5 s.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

/// Whether this replica is shutting down. Cloned into the state; set once, never unset.
#[derive(Clone, Debug, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// While draining, asks each client to close its connection after this response. hyper then
/// closes it once the response is written.
pub async fn close_connections_while_draining(
    State(draining): State<Draining>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if draining.is_draining() {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
