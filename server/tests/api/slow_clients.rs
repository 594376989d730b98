//! Slow clients cannot hold the server: the header-read timeout, the idle timeout and the
//! connection cap of `server::serve`, seen from raw loopback sockets.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::timeout,
};

use crate::helpers::{spawn_app_with, TestApp};

/// A request head without the blank line that ends it: the server waits for more.
const PARTIAL_HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n";

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

/// Far longer than any test here waits: the limit not under test never interferes.
const NEVER: Duration = Duration::from_secs(600);

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .expect("Failed to connect")
}

/// Reads until the server closes the connection (EOF or reset); what it sent, or `None` if
/// it is still open after `within`.
async fn read_until_closed(
    stream: &mut (impl AsyncReadExt + Unpin),
    within: Duration,
) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()
    .map(|()| received)
}

/// Reads one response to `GET /healthz` (its head, then `content-length` bytes of body).
async fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            let n = stream.read(&mut buf).await.expect("Failed to read");
            assert!(n > 0, "closed before the response was complete");
            received.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&received);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .expect("a content-length");
                if body.len() >= length {
                    return text.into_owned();
                }
            }
        }
    };
    timeout(Duration::from_secs(5), read)
        .await
        .expect("no response within 5 s")
}

/// Whether the server still holds the connection open (nothing to read, no EOF).
fn still_open(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    matches!(stream.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[tokio::test]
async fn a_request_head_that_is_not_complete_within_the_header_timeout_is_cut_off() {
    let app = spawn_app_with(|s| {
        s.http_header_timeout = Duration::from_secs(1);
        s.http_idle_timeout = NEVER;
    })
    .await;

    // One client pauses after a partial head; the other trickles a byte every 200 ms, which
    // would keep a per-read timeout from ever firing.
    let pausing = async {
        let mut stream = connect(&app).await;
        stream.write_all(PARTIAL_HEAD).await.unwrap();
        let start = Instant::now();
        let closed = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        (closed.is_some(), start.elapsed())
    };
    let trickling = async {
        let (mut read, mut write) = connect(&app).await.into_split();
        write.write_all(PARTIAL_HEAD).await.unwrap();
        let start = Instant::now();
        // Stops writing once the server has closed, but never ends: the read decides.
        let trickle = async {
            for byte in b"X-Slow: ".iter().cycle() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if write.write_all(&[*byte]).await.is_err() {
                    break;
                }
            }
            std::future::pending::<()>().await
        };
        tokio::select! {
            closed = read_until_closed(&mut read, Duration::from_secs(5)) => {
                (closed.is_some(), start.elapsed())
            }
            () = trickle => unreachable!(),
        }
    };
    let (pausing, trickling) = tokio::join!(pausing, trickling);

    for (who, (closed, after)) in [("pausing", pausing), ("trickling", trickling)] {
        assert!(closed, "{who}: still open after 5 s");
        assert!(
            after >= Duration::from_millis(900),
            "{who}: closed after {after:?}, before the 1 s timeout"
        );
        println!("{who} client cut off after {after:?}");
    }
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(|s| {
        s.http_header_timeout = Duration::from_secs(30);
        s.http_idle_timeout = Duration::from_secs(1);
    })
    .await;
    let mut stream = connect(&app).await;

    stream.write_all(HEALTHZ).await.unwrap();
    assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    // Idle for less than the timeout: the connection is reused.
    tokio::time::sleep(Duration::from_millis(400)).await;
    stream.write_all(HEALTHZ).await.unwrap();
    assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));

    let idle_since = Instant::now();
    let closed = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    let after = idle_since.elapsed();
    assert_eq!(
        closed,
        Some(vec![]),
        "still open 5 s after its last request"
    );
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}, before the 1 s idle timeout"
    );
    println!("idle connection closed after {after:?}");
}

/// hyper restarts its header-read clock whenever it waits for a head, so a keep-alive
/// connection is also closed after the header timeout, if that is the shorter one.
#[tokio::test]
async fn an_idle_keep_alive_connection_also_counts_against_the_header_timeout() {
    let app = spawn_app_with(|s| {
        s.http_header_timeout = Duration::from_secs(1);
        s.http_idle_timeout = NEVER;
    })
    .await;
    let mut stream = connect(&app).await;
    stream.write_all(HEALTHZ).await.unwrap();
    assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));

    let idle_since = Instant::now();
    let closed = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "still open 5 s after its last request");
    assert!(idle_since.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn five_hundred_slow_loris_connections_do_not_delay_a_normal_request() {
    const SLOW: usize = 500;
    // Each connection is two descriptors in this process (client and server side).
    raise_open_file_limit(4 * SLOW as libc::rlim_t + 1024);
    // HTTP_MAX_CONNECTIONS stays at its default, 1024.
    let app = spawn_app_with(|s| {
        s.http_header_timeout = Duration::from_secs(30);
        s.http_idle_timeout = NEVER;
    })
    .await;

    let mut slow = Vec::with_capacity(SLOW);
    for _ in 0..SLOW {
        let mut stream = connect(&app).await;
        stream.write_all(PARTIAL_HEAD).await.unwrap();
        slow.push(stream);
    }

    let start = Instant::now();
    let response = timeout(
        Duration::from_secs(2),
        app.client.get(app.url("/healthz")).send(),
    )
    .await
    .expect("/healthz not answered within 2 s")
    .expect("Failed to send the request");
    let took = start.elapsed();
    assert_eq!(response.status(), 200);
    println!("/healthz answered in {took:?} beside {SLOW} slow connections");

    // They were all still being held while /healthz was served.
    let open = slow.iter().filter(|s| still_open(s)).count();
    assert_eq!(open, SLOW, "slow connections closed early");
}

#[tokio::test]
async fn a_connection_beyond_the_cap_waits_until_one_closes() {
    const CAP: usize = 4;
    let app = spawn_app_with(|s| {
        s.http_header_timeout = Duration::from_secs(30);
        s.http_idle_timeout = NEVER;
        s.http_max_connections = CAP;
    })
    .await;
    let mut slow = Vec::new();
    for _ in 0..CAP {
        let mut stream = connect(&app).await;
        stream.write_all(PARTIAL_HEAD).await.unwrap();
        slow.push(stream);
    }

    // The kernel completes the handshake (listen backlog), but the server does not accept it.
    let mut next = connect(&app).await;
    next.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        timeout(Duration::from_secs(1), next.read(&mut buf))
            .await
            .is_err(),
        "a connection beyond the cap was served"
    );

    drop(slow.remove(0));
    let freed = Instant::now();
    let answer = read_until_closed(&mut next, Duration::from_secs(5))
        .await
        .expect("not served within 5 s of a slot freeing");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    println!("served {:?} after a slot freed", freed.elapsed());
    assert!(
        slow.iter().all(still_open),
        "the other slow connections were closed"
    );
}

/// Raises this process's soft open-file limit to `wanted` (at most the hard limit): the
/// common default of 1024 is too few for the 500-connection test.
fn raise_open_file_limit(wanted: libc::rlim_t) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < wanted {
            limit.rlim_cur = wanted.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
