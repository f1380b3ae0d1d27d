//! [`ApiClient`]: the HTTP client of the SIPAS Field `/api/v1` API.
//!
//! * uploads are gzip-compressed JSON (`Content-Encoding: gzip`);
//! * every request has a timeout ([`DEFAULT_TIMEOUT`] unless set with
//!   [`ApiClient::with_timeout`]);
//! * an error reply with a [`Problem`] body becomes [`SyncError::Server`], one without becomes
//!   [`SyncError::HttpStatus`], and network failures and timeouts become
//!   [`SyncError::Unreachable`].
//!
//! * HTTPS servers are verified against the operating system's trusted roots, plus any CA
//!   or self-signed certificate added with [`ApiClient::with_root_certificate_pem`] (e.g. a
//!   province's own server certificate).
//!
//! The bearer token is never printed: [`ApiClient`]'s `Debug` output redacts it.
use crate::error::SyncError;
use flate2::Compression;
use flate2::write::GzEncoder;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sipas_protocol::API_PREFIX;
use sipas_protocol::problem::Problem;
use sipas_protocol::wire::{
    AssignmentStatus, EnrolRequest, EnrolResponse, LoginRequest, LoginResponse, PullResponse,
    UploadBatch, UploadResult,
};
use std::fmt;
use std::io::Write;
use std::time::Duration;
use uuid::Uuid;

/// Timeout of one request (connect, send, receive) unless set otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait for a TCP/TLS connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Body of `POST /assignments/{id}/status`.
#[derive(Debug, Serialize)]
struct StatusBody {
    status: AssignmentStatus,
}

/// The server's answer to [`ApiClient::set_assignment_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReply {
    /// The assignment.
    pub id: Uuid,
    /// Its status on the server now.
    pub status: AssignmentStatus,
}

/// Client of one SIPAS Field server, optionally holding a bearer token (device or session).
#[derive(Clone)]
pub struct ApiClient {
    base_url: String,
    token: Option<String>,
    http: reqwest::Client,
    timeout: Duration,
    extra_roots: Vec<reqwest::Certificate>,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("extra_roots", &self.extra_roots.len())
            .finish_non_exhaustive()
    }
}

/// Installs `ring` as the process-wide rustls crypto provider unless one is installed already.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing one is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

impl ApiClient {
    /// A client of the server at `base_url` (e.g. `https://sipas.example.vn`, without the
    /// `/api/v1` prefix), with the [`DEFAULT_TIMEOUT`] per request and no token.
    pub fn new(base_url: &str) -> Result<ApiClient, SyncError> {
        ApiClient::with_timeout(base_url, DEFAULT_TIMEOUT)
    }

    /// Like [`ApiClient::new`] with another per-request timeout.
    pub fn with_timeout(base_url: &str, timeout: Duration) -> Result<ApiClient, SyncError> {
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(SyncError::Config {
                detail: "the server address must start with https:// (or http:// for a test \
                         server)"
                    .into(),
            });
        }
        Ok(ApiClient {
            http: build_http(timeout, &[])?,
            base_url,
            token: None,
            timeout,
            extra_roots: Vec::new(),
        })
    }

    /// The same client also trusting the CA or self-signed certificate(s) in `pem` (one or
    /// more `CERTIFICATE` blocks) for HTTPS, in addition to the system's roots: for a server
    /// whose certificate is not issued by a public CA. The server's host name must still
    /// match the certificate. A `pem` without a certificate is [`SyncError::Config`].
    pub fn with_root_certificate_pem(mut self, pem: &[u8]) -> Result<ApiClient, SyncError> {
        let bad = |detail: String| SyncError::Config {
            detail: format!(
                "the server certificate to trust is not a PEM certificate ({detail}); use the \
                 .pem / .crt file your supervisor gave you"
            ),
        };
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| bad(error_chain(&e)))?;
        if certs.is_empty() {
            return Err(bad("no CERTIFICATE block".into()));
        }
        self.extra_roots.extend(certs);
        self.http = build_http(self.timeout, &self.extra_roots)?;
        Ok(self)
    }

    /// The same client trusting exactly one server certificate: the one whose DER encoding
    /// has SHA-256 `sha256_hex` (64 hex digits, as in the enrolment payload's `cert_sha256`).
    /// For a province's server with a self-signed certificate: the fingerprint comes with
    /// the enrolment code, so nobody has to copy a certificate file. The handshake signature
    /// is still checked against that certificate; any other certificate is refused (the
    /// error mentions "certificate"), whatever the system's roots say. Bad hex is
    /// [`SyncError::Config`].
    pub fn with_pinned_sha256(mut self, sha256_hex: &str) -> Result<ApiClient, SyncError> {
        let pin = parse_sha256_hex(sha256_hex).ok_or_else(|| SyncError::Config {
            detail: "the server certificate fingerprint must be 64 hexadecimal digits".into(),
        })?;
        install_crypto_provider();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| SyncError::Config {
                detail: format!("TLS setup failed: {e}"),
            })?
            .dangerous()
            .with_custom_certificate_verifier(std::sync::Arc::new(PinnedCertificate {
                sha256: pin,
                provider,
            }))
            .with_no_client_auth();
        self.http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(CONNECT_TIMEOUT))
            .user_agent(concat!("sipas-field/", env!("CARGO_PKG_VERSION")))
            .tls_backend_preconfigured(config)
            .build()
            .map_err(|e| SyncError::Config {
                detail: format!("HTTP client setup failed: {}", error_chain(&e)),
            })?;
        Ok(self)
    }

    /// The same client with a bearer token (as returned by [`ApiClient::enrol`]).
    pub fn with_token(mut self, token: impl Into<String>) -> ApiClient {
        self.token = Some(token.into());
        self
    }

    /// Replaces (or clears) the bearer token.
    pub fn set_token(&mut self, token: Option<String>) {
        self.token = token;
    }

    /// The bearer token, if any (store it in the device's secure storage, never in logs).
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The server address this client talks to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /enrol`: redeems a one-time enrolment code for this device. On success the
    /// returned device token is also kept in this client.
    pub async fn enrol(
        &mut self,
        code: &str,
        device_name: &str,
    ) -> Result<EnrolResponse, SyncError> {
        self.enrol_with_key(code, device_name, None).await
    }

    /// Like [`ApiClient::enrol`], also registering the device's Ed25519 public key (standard
    /// base64) with which it signs offline hand-over files.
    pub async fn enrol_with_key(
        &mut self,
        code: &str,
        device_name: &str,
        public_key: Option<&str>,
    ) -> Result<EnrolResponse, SyncError> {
        let req = EnrolRequest {
            code: code.to_string(),
            device_name: device_name.to_string(),
            public_key: public_key.map(str::to_string),
        };
        let out: EnrolResponse = self.request_json(self.post("/enrol").json(&req)).await?;
        self.token = Some(out.token.clone());
        Ok(out)
    }

    /// `POST /login`: username and password (dashboard users); keeps the session token.
    pub async fn login(
        &mut self,
        username: &str,
        password: &str,
    ) -> Result<LoginResponse, SyncError> {
        let req = LoginRequest {
            username: username.to_string(),
            password: password.to_string(),
        };
        let out: LoginResponse = self.request_json(self.post("/login").json(&req)).await?;
        self.token = Some(out.token.clone());
        Ok(out)
    }

    /// `GET /pull?cursor=N`: assignments and review decisions changed since `cursor`.
    pub async fn pull(&self, cursor: i64) -> Result<PullResponse, SyncError> {
        self.require_token()?;
        self.get_json(&format!("/pull?cursor={cursor}")).await
    }

    /// `POST /responses/batch` with a gzip-compressed JSON body: one acknowledgement per
    /// record, in the order sent.
    pub async fn upload(&self, batch: &UploadBatch) -> Result<UploadResult, SyncError> {
        self.require_token()?;
        let body = gzip_json(batch)?;
        self.request_json(
            self.post("/responses/batch")
                .header(CONTENT_TYPE, "application/json")
                .header(CONTENT_ENCODING, "gzip")
                .body(body),
        )
        .await
    }

    /// `POST /assignments/{id}/status`: reports a field outcome recorded on the device (the
    /// server takes only the status, not the surveyor's note). `collected` is refused by the
    /// server: it follows from the uploaded response.
    pub async fn set_assignment_status(
        &self,
        id: Uuid,
        status: AssignmentStatus,
    ) -> Result<StatusReply, SyncError> {
        self.require_token()?;
        self.post_json(&format!("/assignments/{id}/status"), &StatusBody { status })
            .await
    }

    /// `GET` any API path (relative to `/api/v1`, query included) and decode its JSON reply.
    pub async fn get_json<R: DeserializeOwned>(&self, path: &str) -> Result<R, SyncError> {
        self.request_json(self.http.get(self.url(path))).await
    }

    /// `GET` any API path and return the raw reply body (e.g. a CSV export).
    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>, SyncError> {
        self.request(self.http.get(self.url(path))).await
    }

    /// `POST` a JSON body to any API path and decode its JSON reply.
    pub async fn post_json<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, SyncError> {
        self.request_json(self.post(path).json(body)).await
    }

    /// `POST` a raw body with the given content type (e.g. `text/csv`) and decode the reply.
    pub async fn post_bytes<R: DeserializeOwned>(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<R, SyncError> {
        self.request_json(
            self.post(path)
                .header(CONTENT_TYPE, content_type)
                .body(body),
        )
        .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{API_PREFIX}{path}", self.base_url)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path))
    }

    fn require_token(&self) -> Result<(), SyncError> {
        match self.token {
            Some(_) => Ok(()),
            None => Err(SyncError::NotEnrolled),
        }
    }

    async fn request_json<R: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<R, SyncError> {
        let body = self.request(req).await?;
        serde_json::from_slice(&body).map_err(|e| SyncError::BadReply {
            detail: e.to_string(),
        })
    }

    /// Sends the request (with the token, if any) and returns the body of a 2xx reply.
    async fn request(&self, req: reqwest::RequestBuilder) -> Result<Vec<u8>, SyncError> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.map_err(transport_error)?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(transport_error)?;
        if status.is_success() {
            Ok(body.to_vec())
        } else {
            Err(error_from_reply(status.as_u16(), &body))
        }
    }
}

/// The HTTP client: per-request `timeout`, rustls (`ring`) verifying against the system's
/// roots plus `extra_roots`.
fn build_http(
    timeout: Duration,
    extra_roots: &[reqwest::Certificate],
) -> Result<reqwest::Client, SyncError> {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(CONNECT_TIMEOUT))
        .user_agent(concat!("sipas-field/", env!("CARGO_PKG_VERSION")))
        .tls_certs_merge(extra_roots.iter().cloned())
        .build()
        .map_err(|e| SyncError::Config {
            detail: format!("HTTP client setup failed: {}", error_chain(&e)),
        })
}

/// 32 bytes from 64 hex digits (upper or lower case, `:` separators allowed).
pub fn parse_sha256_hex(hex: &str) -> Option<[u8; 32]> {
    let digits: Vec<u8> = hex
        .trim()
        .bytes()
        .filter(|b| *b != b':')
        .map(|b| (b as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in digits.chunks(2).enumerate() {
        out[i] = (pair[0] << 4) | pair[1];
    }
    Some(out)
}

/// Accepts exactly the server certificate with a given SHA-256 (see
/// [`ApiClient::with_pinned_sha256`]); handshake signatures are verified as usual.
#[derive(Debug)]
struct PinnedCertificate {
    sha256: [u8; 32],
    provider: std::sync::Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use sha2::{Digest, Sha256};
        if Sha256::digest(end_entity.as_ref()).as_slice() == self.sha256 {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Serialises `value` as JSON and gzip-compresses it.
pub fn gzip_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, SyncError> {
    let encode = |e: &dyn fmt::Display| SyncError::Encode {
        detail: e.to_string(),
    };
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    serde_json::to_writer(&mut gz, value).map_err(|e| encode(&e))?;
    gz.flush().map_err(|e| encode(&e))?;
    gz.finish().map_err(|e| encode(&e))
}

/// The error for a non-2xx reply: [`SyncError::Server`] when the body is a [`Problem`],
/// else [`SyncError::HttpStatus`].
pub fn error_from_reply(status: u16, body: &[u8]) -> SyncError {
    match serde_json::from_slice::<Problem>(body) {
        Ok(problem) => SyncError::Server(problem),
        Err(_) => SyncError::HttpStatus { status },
    }
}

/// Maps a transport failure to [`SyncError::Unreachable`] (or `Config` for a bad request).
fn transport_error(e: reqwest::Error) -> SyncError {
    if e.is_builder() {
        return SyncError::Config {
            detail: error_chain(&e),
        };
    }
    let detail = if e.is_timeout() {
        "no reply in time".to_string()
    } else {
        error_chain(&e)
    };
    SyncError::Unreachable { detail }
}

/// The error and its sources, joined with ": " (URLs are left out: they may carry queries).
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p: &String| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    let joined = parts.join(": ");
    match e.url() {
        Some(url) => joined.replace(url.as_str(), "the server"),
        None => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use sipas_protocol::problem::ProblemCode;
    use std::io::Read;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn gzip_body_round_trips() {
        let batch = UploadBatch { records: vec![] };
        let bytes = gzip_json(&batch).unwrap();
        assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
        let back: UploadBatch = serde_json::from_slice(&gunzip(&bytes)).unwrap();
        assert_eq!(back, batch);

        let big: Vec<String> = (0..2000).map(|i| format!("câu trả lời {i}")).collect();
        let bytes = gzip_json(&big).unwrap();
        assert!(bytes.len() < serde_json::to_vec(&big).unwrap().len() / 3);
        let back: Vec<String> = serde_json::from_slice(&gunzip(&bytes)).unwrap();
        assert_eq!(back, big);
    }

    #[test]
    fn problem_bodies_become_server_errors() {
        let p = ProblemCode::BatchTooManyRecords
            .problem("too many", "quá nhiều")
            .with_details(serde_json::json!({ "max_records": 500 }));
        let body = serde_json::to_vec(&p).unwrap();
        match error_from_reply(413, &body) {
            SyncError::Server(got) => assert_eq!(got, p),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            error_from_reply(502, b"<html>Bad gateway</html>"),
            SyncError::HttpStatus { status: 502 }
        ));
        assert!(matches!(
            error_from_reply(500, b""),
            SyncError::HttpStatus { status: 500 }
        ));
    }

    #[test]
    fn bad_addresses_are_config_errors_and_debug_hides_the_token() {
        assert!(matches!(
            ApiClient::new("ftp://x"),
            Err(SyncError::Config { .. })
        ));
        let c = ApiClient::new("http://127.0.0.1:1/")
            .unwrap()
            .with_token("very-secret-token");
        assert_eq!(c.base_url(), "http://127.0.0.1:1");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("very-secret-token"), "{dbg}");
        assert!(dbg.contains("redacted"));
        let err = c
            .clone()
            .with_root_certificate_pem(b"not a certificate")
            .unwrap_err();
        assert!(matches!(err, SyncError::Config { .. }), "{err:?}");
        assert!(err.to_string().contains("PEM"), "{err}");
    }

    /// One raw HTTP/1.1 exchange: the request (head, body) as received, and a canned reply.
    async fn serve_once(listener: TcpListener, status: &str, reply: String) -> (String, Vec<u8>) {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            let n = sock.read(&mut chunk).await.unwrap();
            assert!(n > 0, "client closed early");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
        };
        let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let n = sock.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
        }
        let out = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{reply}",
            reply.len()
        );
        sock.write_all(out.as_bytes()).await.unwrap();
        sock.shutdown().await.unwrap();
        (head, buf[head_end..].to_vec())
    }

    #[tokio::test]
    async fn upload_sends_gzip_with_token_and_maps_problem_replies() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let problem = ProblemCode::Unauthenticated.problem("Sign in.", "Đăng nhập.");
        let server = tokio::spawn(serve_once(
            listener,
            "401 Unauthorized",
            serde_json::to_string(&problem).unwrap(),
        ));
        let client = ApiClient::new(&format!("http://{addr}"))
            .unwrap()
            .with_token("tok-123");
        let err = client
            .upload(&UploadBatch { records: vec![] })
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SyncError::Server(p) if *p == problem),
            "{err:?}"
        );
        assert!(!err.is_transient());
        let (head, body) = server.await.unwrap();
        let head = head.to_ascii_lowercase();
        assert!(head.starts_with("post /api/v1/responses/batch "), "{head}");
        assert!(head.contains("content-encoding: gzip"), "{head}");
        assert!(head.contains("authorization: bearer tok-123"), "{head}");
        let sent: UploadBatch = serde_json::from_slice(&gunzip(&body)).unwrap();
        assert!(sent.records.is_empty());
    }

    #[tokio::test]
    async fn unreachable_server_and_missing_token_are_reported() {
        // A port that was just free: nothing listens there.
        let addr = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let client =
            ApiClient::with_timeout(&format!("http://{addr}"), Duration::from_secs(2)).unwrap();
        assert!(matches!(client.pull(0).await, Err(SyncError::NotEnrolled)));
        let err = client.with_token("t").pull(0).await.unwrap_err();
        assert!(matches!(err, SyncError::Unreachable { .. }), "{err:?}");
        assert!(err.is_transient());
        assert!(!err.to_string().contains(&addr.to_string()), "{err}");
    }

    #[tokio::test]
    async fn a_reply_cut_short_is_unreachable_and_garbage_is_bad_reply() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            // First connection: announce 1000 bytes, send 10, hang up.
            let (mut s, _) = listener.accept().await.unwrap();
            let mut b = [0u8; 4096];
            let _ = s.read(&mut b).await.unwrap();
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{\"acks\":[")
                .await
                .unwrap();
            drop(s);
            // Second: a complete reply that is not the expected JSON.
            serve_once(listener, "200 OK", "{\"nope\":1}".into()).await
        });
        let client = ApiClient::new(&format!("http://{addr}"))
            .unwrap()
            .with_token("t");
        let batch = UploadBatch { records: vec![] };
        let err = client.upload(&batch).await.unwrap_err();
        assert!(matches!(err, SyncError::Unreachable { .. }), "{err:?}");
        let err = client.upload(&batch).await.unwrap_err();
        assert!(matches!(err, SyncError::BadReply { .. }), "{err:?}");
        assert!(err.is_transient());
        server.await.unwrap();
    }
}
