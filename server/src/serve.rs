//! The accept loop: HTTP/1.1 over hyper, with the limits that keep slow clients from holding
//! the server's connections and file descriptors, which every tenant shares.
//!
//! `axum::serve` sets no hyper timer, so hyper's header-read timeout is off, keep-alive
//! connections never expire and every connection is accepted. Here:
//!
//! - a request head must arrive within [`Limits::header_timeout`] (hyper's
//!   `header_read_timeout`). hyper restarts that clock whenever it waits for a head, so it also
//!   bounds an idle keep-alive connection;
//! - a connection on which no byte has moved and no handler has run for
//!   [`Limits::idle_timeout`] is dropped (our own watchdog: hyper has no idle timeout). That
//!   covers an idle keep-alive connection, and a client that stops reading its response, which
//!   would otherwise hold hyper's write, and the connection, forever;
//! - at most [`Limits::max_connections`] are served at once. The next one is not accepted until
//!   a slot frees, and waits in the kernel's listen backlog instead of taking a descriptor;
//! - a failing `accept` (EMFILE and the like) is logged, at most every few seconds, and retried
//!   after a short pause rather than ending the loop.
//!
//! Only HTTP/1.1, as with `axum::serve` under axum's default features: Forge and browsers use
//! it here, and HTTP/2 would pull in the `h2` crate for nobody.

use std::{
    convert::Infallible,
    future::Future,
    io,
    net::SocketAddr,
    pin::{pin, Pin},
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::Duration,
};

use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, server::conn::http1, Request};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{watch, OwnedSemaphorePermit, Semaphore},
    time::Instant,
};
use tower::ServiceExt as _;

use crate::configuration::Settings;

/// Pause after an `accept` error that is not about one connection (EMFILE, ENFILE, ENOBUFS):
/// retrying at once would spin while descriptors are short.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Least time between two log lines about the same trouble (accept errors, a full house).
const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// What one client may hold, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            header_timeout: settings.http_header_timeout,
            idle_timeout: settings.http_idle_timeout,
            max_connections: settings.http_max_connections,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets
/// in-flight requests finish, closes idle connections and returns once every connection has
/// ended. Handlers can extract `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    // One permit per connection, held by its task: the count of live connections, and at
    // shutdown what tells us they have all ended.
    let slots = Arc::new(Semaphore::new(max));
    // Sent once, at shutdown: every connection finishes its request and closes.
    let (stop_tx, stop_rx) = watch::channel(());
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut accept_errors = RateLimitedLog::default();
    let mut full_house = RateLimitedLog::default();
    let mut shutdown = pin!(shutdown);

    loop {
        if slots.available_permits() == 0 {
            if let Some(more) = full_house.record(Instant::now()) {
                tracing::warn!(
                    max_connections = max,
                    times_since_last_log = more,
                    "connection limit reached: new connections wait until one closes (HTTP_MAX_CONNECTIONS)"
                );
            }
        }
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = Arc::clone(&slots).acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            // The peer gave up before we accepted: nothing wrong with the listener.
            Err(e) if is_about_one_connection(&e) => continue,
            Err(e) => {
                if let Some(more) = accept_errors.record(Instant::now()) {
                    tracing::error!(error = %e, times_since_last_log = more, "accept failed; retrying shortly");
                }
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        tokio::spawn(connection(
            http.clone(),
            stream,
            peer,
            router.clone(),
            limits.idle_timeout,
            stop_rx.clone(),
            permit,
        ));
    }

    // Refuse new connections from here on, as axum::serve does.
    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(());
    // Every permit back means every connection has ended.
    let _ = slots.acquire_many(max as u32).await;
}

/// One connection, from accept to close; holds its slot until then.
async fn connection(
    http: http1::Builder,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    idle_timeout: Duration,
    mut stop: watch::Receiver<()>,
    _slot: OwnedSemaphorePermit,
) {
    // Small JSON answers: do not hold them back for Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let busy = Busy::start(&activity);
            let response = router.clone().oneshot(request);
            async move {
                let response: Result<_, Infallible> = response.await;
                drop(busy);
                response
            }
        })
    };
    let io = TokioIo::new(Tracked {
        stream,
        activity: Arc::clone(&activity),
    });
    let mut conn = pin!(http.serve_connection(io, service));
    let mut stopping = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    // Header timeouts, resets and malformed requests: the client's business.
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            // hyper's graceful shutdown closes an idle connection at once and a busy one once
            // its response is written: neither ends a request half-way.
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            // Nothing to lose: no handler is running and the client has neither sent nor
            // taken a byte for the whole timeout. Also what bounds a shutdown.
            () = activity.idle_for(idle_timeout) => {
                tracing::debug!(%peer, "dropping an idle connection");
                return;
            }
        }
    }
}

/// Whether an `accept` error concerns only the connection being accepted.
fn is_about_one_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Requests in flight on one connection, and when a byte last moved or a request ended.
struct Activity(Mutex<(usize, Instant)>);

impl Activity {
    fn new() -> Self {
        Self(Mutex::new((0, Instant::now())))
    }

    fn state(&self) -> (usize, Instant) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn touch(&self) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .1 = Instant::now();
    }

    /// Completes once no request has been in flight, and no byte has moved, for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            match self.state() {
                (0, since) if since.elapsed() >= idle => return,
                (0, since) => tokio::time::sleep_until(since + idle).await,
                // A request is running; look again later.
                _ => tokio::time::sleep(idle).await,
            }
        }
    }
}

/// A request in flight, from the head read to the response handed to hyper.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: &Arc<Activity>) -> Self {
        activity
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .0 += 1;
        Self(Arc::clone(activity))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut state = self
            .0
             .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *state = (state.0 - 1, Instant::now());
    }
}

/// The connection's socket, noting in its [`Activity`] every time bytes move.
struct Tracked {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Lets one log line through per [`LOG_INTERVAL`] and counts the ones it holds back, so a
/// flood of identical errors neither fills the disk nor goes unnoticed.
#[derive(Default)]
struct RateLimitedLog {
    last: Option<Instant>,
    held_back: u64,
}

impl RateLimitedLog {
    /// `Some(held back since the last line)` if this occurrence should be logged.
    fn record(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.duration_since(last) < LOG_INTERVAL => {
                self.held_back += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.held_back))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    #[test]
    fn repeated_errors_are_logged_once_per_interval_with_a_count() {
        let start = Instant::now();
        let mut log = RateLimitedLog::default();
        assert_eq!(log.record(start), Some(0));
        for ms in [1, 500, 4_999] {
            assert_eq!(log.record(start + Duration::from_millis(ms)), None);
        }
        assert_eq!(log.record(start + LOG_INTERVAL), Some(3));
        assert_eq!(
            log.record(start + LOG_INTERVAL + Duration::from_secs(1)),
            None
        );
    }

    #[test]
    fn only_peer_side_accept_errors_skip_the_backoff() {
        assert!(is_about_one_connection(
            &io::ErrorKind::ConnectionAborted.into()
        ));
        // EMFILE: the listener is fine, the process is out of descriptors.
        assert!(!is_about_one_connection(&io::Error::from_raw_os_error(24)));
    }

    /// A client that asks for a big answer and never reads it stalls hyper's write; the idle
    /// watchdog drops it, which frees its slot (the cap is 1) for the next client.
    #[tokio::test]
    async fn a_client_that_stops_reading_its_response_is_dropped_after_the_idle_timeout() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Far more than the socket buffers on both sides hold.
        let router = Router::new()
            .route("/big", get(|| async { vec![b'x'; 64 << 20] }))
            .route("/small", get(|| async { "ok" }));
        let limits = Limits {
            header_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(1),
            max_connections: 1,
        };
        let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, router, limits, async {
            let _ = stopped.await;
        }));

        let mut reader = TcpStream::connect(addr).await.unwrap();
        reader
            .write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 12];
        reader.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
        // From here on it reads nothing.

        let started = Instant::now();
        let mut next = TcpStream::connect(addr).await.unwrap();
        next.write_all(b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), next.read_to_end(&mut answer))
            .await
            .expect("the stalled connection still holds the only slot after 5 s")
            .unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 200"));
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "served after {:?}: the stalled connection was not holding the slot",
            started.elapsed()
        );
        drop(reader);
    }

    /// A request in flight when shutdown starts is answered; then `serve` returns and the port
    /// is closed.
    #[tokio::test]
    async fn shutdown_lets_the_request_in_flight_finish() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let started = Arc::new(tokio::sync::Notify::new());
        let router = Router::new().route(
            "/slow",
            get({
                let started = Arc::clone(&started);
                |ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                    started.notify_one();
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    peer.ip().to_string()
                }
            }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let limits = Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 8,
        };
        let server = tokio::spawn(serve(listener, router, limits, async {
            let _ = stopped.await;
        }));
        let request = tokio::spawn(reqwest::get(format!("http://{addr}/slow")));
        started.notified().await;
        stop.send(()).unwrap();

        let response = request
            .await
            .unwrap()
            .expect("the request in flight is answered");
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "127.0.0.1");
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("serve returns once the connection is done")
            .unwrap();
        assert!(TcpStream::connect(addr).await.is_err(), "still listening");
    }
}
