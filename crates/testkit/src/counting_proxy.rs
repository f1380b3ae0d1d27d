//! A loopback TCP proxy in front of a test server that records every HTTP/1.1 request passing
//! through it: method, path and the bytes of its head and body as they travelled on the wire
//! (a gzip upload counts compressed). Replies are relayed untouched. It lets a test see what a
//! real client really sent, e.g. that a second sync uploads no response body, without mocking
//! anything: the client talks to the proxy's URL, the proxy to the real server.
//!
//! Requests must carry a `Content-Length` (or no body); a chunked request body panics the
//! connection's task, which the client sees as a cut connection and the test as a missing
//! record.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request seen by the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// e.g. `POST`.
    pub method: String,
    /// Request target as sent, e.g. `/api/v1/responses/batch`.
    pub path: String,
    /// Bytes of the request line and headers (with the blank line).
    pub head_bytes: usize,
    /// Bytes of the body as sent (after any `Content-Encoding`).
    pub body_bytes: usize,
}

/// A running counting proxy; it stops accepting when dropped.
pub struct CountingProxy {
    /// Base URL to give the client instead of the server's, e.g. `http://127.0.0.1:41235`.
    pub url: String,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl CountingProxy {
    /// Starts a proxy on a random loopback port forwarding to `upstream` (a base URL such as
    /// `TestServer::url`, plain `http://` only). Call inside a Tokio runtime.
    pub async fn start(upstream: &str) -> CountingProxy {
        let target = upstream
            .strip_prefix("http://")
            .expect("the counting proxy forwards plain http:// only")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let target = target.clone();
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&target).await {
                        relay(client, server, log).await;
                    }
                });
            }
        });
        CountingProxy { url, seen, accept }
    }

    /// Every request seen so far, in order of arrival.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forgets the requests seen so far.
    pub fn clear(&self) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The requests seen so far whose path ends with `suffix` (query string excluded).
    pub fn requests_to(&self, suffix: &str) -> Vec<SeenRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.split('?').next().unwrap_or("").ends_with(suffix))
            .collect()
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Relays one connection: replies are copied as they come; requests are parsed head by head
/// and recorded before being forwarded.
async fn relay(client: TcpStream, server: TcpStream, log: Arc<Mutex<Vec<SeenRequest>>>) {
    let (mut client_rd, mut client_wr) = client.into_split();
    let (mut server_rd, mut server_wr) = server.into_split();
    let down = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_rd, &mut client_wr).await;
        let _ = client_wr.shutdown().await;
    });
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    'requests: loop {
        // Read until the end of the head.
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            match client_rd.read(&mut chunk).await {
                Ok(0) | Err(_) => break 'requests,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut words = head.split_whitespace();
        let method = words.next().unwrap_or("").to_string();
        let path = words.next().unwrap_or("").to_string();
        let header = |name: &str| {
            head.lines().skip(1).find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        };
        assert!(
            header("transfer-encoding").is_none(),
            "the counting proxy does not parse chunked request bodies ({method} {path})"
        );
        let body_len: usize = header("content-length")
            .map(|v| v.parse().expect("numeric Content-Length"))
            .unwrap_or(0);
        log.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(SeenRequest {
                method,
                path,
                head_bytes: head_end,
                body_bytes: body_len,
            });
        // Forward the head and exactly the body, keeping what follows for the next request.
        let mut to_send = head_end + body_len;
        loop {
            let take = to_send.min(buf.len());
            if take > 0 {
                if server_wr.write_all(&buf[..take]).await.is_err() {
                    break 'requests;
                }
                buf.drain(..take);
                to_send -= take;
            }
            if to_send == 0 {
                break;
            }
            match client_rd.read(&mut chunk).await {
                Ok(0) | Err(_) => break 'requests,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
    let _ = server_wr.shutdown().await;
    let _ = down.await;
}

/// Position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
