//! A minimal HTTP/1.1 client for tests that need what `ApiClient` hides: any method, the
//! status and headers of every answer, empty bodies, and a chosen source address (loopback
//! `127.x.y.z`) to stand for different client addresses. One request per connection.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// One answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body (chunked transfer decoded).
    pub body: Vec<u8>,
}

impl Answer {
    /// The first header named `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (panics with the body if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The problem code of a non-2xx answer, checking the problem shape: `code` agrees with
    /// the status, and `message` and `message_vi` are not empty.
    pub fn problem(&self) -> String {
        let v = self.json();
        let code = v["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no problem code in {v}"))
            .to_string();
        assert_eq!(
            code.split('.').next().unwrap(),
            self.status.to_string(),
            "status and code agree: {v}"
        );
        for field in ["message", "message_vi"] {
            assert!(
                v[field].as_str().is_some_and(|m| !m.is_empty()),
                "{field} in {v}"
            );
        }
        code
    }
}

/// A request.
#[derive(Debug, Clone)]
pub struct Req<'a> {
    /// Method, e.g. `POST`.
    pub method: &'a str,
    /// Path with query, e.g. `/api/v1/me`.
    pub path: &'a str,
    /// Bearer token.
    pub token: Option<&'a str>,
    /// JSON body.
    pub json: Option<serde_json::Value>,
    /// Source address (a loopback address), or the default.
    pub from: Option<Ipv4Addr>,
}

impl<'a> Req<'a> {
    /// `method path`, nothing else.
    pub fn new(method: &'a str, path: &'a str) -> Self {
        Req {
            method,
            path,
            token: None,
            json: None,
            from: None,
        }
    }

    /// With a bearer token.
    pub fn token(mut self, token: &'a str) -> Self {
        self.token = Some(token);
        self
    }

    /// With a JSON body.
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.json = Some(body);
        self
    }

    /// From source address `from`.
    pub fn from(mut self, from: Ipv4Addr) -> Self {
        self.from = Some(from);
        self
    }
}

/// `host:port` of a base URL such as `http://127.0.0.1:1234`.
pub fn authority(base_url: &str) -> String {
    base_url
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_string()
}

/// Sends `req` over plain HTTP to `base_url` and reads the whole answer.
pub async fn send(base_url: &str, req: Req<'_>) -> Answer {
    let addr: SocketAddr = authority(base_url).parse().expect("host:port");
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(from) = req.from {
        socket
            .bind(SocketAddr::new(IpAddr::V4(from), 0))
            .unwrap_or_else(|e| panic!("binding {from}: {e}"));
    }
    let stream = socket.connect(addr).await.expect("connect");
    send_on(stream, &authority(base_url), req).await
}

/// Sends `req` on an open stream (plain or TLS) to `host` and reads the whole answer.
pub async fn send_on<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    host: &str,
    req: Req<'_>,
) -> Answer {
    let body = req.json.map(|j| j.to_string()).unwrap_or_default();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        req.method,
        req.path,
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    if let Some(t) = req.token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    let mut raw = Vec::new();
    // A TLS peer may end without close_notify after `Connection: close`: keep what arrived.
    let _ = stream.read_to_end(&mut raw).await;
    parse(&raw)
}

fn parse(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&data[..eol]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .unwrap_or_else(|_| panic!("bad chunk size {size_text:?}"));
        data = &data[eol + 2..];
        if size == 0 || data.len() < size {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[(size + 2).min(data.len())..];
    }
}
