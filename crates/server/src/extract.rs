//! Request extraction with problem answers: bodies read under a size limit (gzip accepted),
//! JSON parsed into `400.1`, path and query values parsed into `400.3`.
//!
//! Handlers check the caller's role *before* reading the body or using path and query values,
//! so a forbidden caller gets `403.1` and never makes the server read, decompress or parse
//! anything.
use crate::problem::{ApiError, ApiResult};
use axum::body::{Body, Bytes};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::serve::IncomingStream;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use sipas_protocol::problem::ProblemCode;
use std::convert::Infallible;
use std::io::Read;

/// Body limit of ordinary JSON requests (everything but uploads and imports).
pub const MAX_JSON_BYTES: usize = 256 * 1024;

fn too_large(limit: usize, decompressed: bool) -> ApiError {
    let (en, vi) = if decompressed {
        ("after gzip decoding ", "sau khi giải nén ")
    } else {
        ("", "")
    };
    ApiError::new(
        ProblemCode::BodyTooLarge,
        format!(
            "Request body is larger {en}than the limit of {limit} bytes; send fewer or smaller \
             records per request."
        ),
        format!(
            "Dữ liệu gửi lên {vi}vượt quá giới hạn {limit} byte; hãy gửi ít bản ghi hơn mỗi lần."
        ),
    )
    .with_details(serde_json::json!({ "limit_bytes": limit, "decompressed": decompressed }))
}

fn bad_encoding() -> ApiError {
    ApiError::new(
        ProblemCode::BadEncoding,
        "Unsupported Content-Encoding; send the body plain or gzip-compressed.",
        "Kiểu nén không được hỗ trợ; hãy gửi dữ liệu không nén hoặc nén gzip.",
    )
}

/// Whether a `Content-Encoding` value means gzip (`Ok(true)`) or no compression
/// (`Ok(false)`: absent, empty or `identity`); anything else is `400.4`.
fn is_gzip(content_encoding: Option<&str>) -> ApiResult<bool> {
    match content_encoding.map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(s) if s.is_empty() || s == "identity" => Ok(false),
        Some(s) if s == "gzip" || s == "x-gzip" => Ok(true),
        Some(_) => Err(bad_encoding()),
    }
}

/// The `Content-Encoding` header as text (a value that is not visible ASCII becomes one that
/// [`decode_body`] refuses with `400.4`).
pub fn content_encoding(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"))
}

/// Reads the whole body, at most `limit` bytes after decoding any `Content-Encoding: gzip`.
///
/// * more than `limit` bytes on the wire or after decoding → `413.2`;
/// * another content encoding or a corrupt gzip stream → `400.4`.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Bytes> {
    let raw = read_raw_body(headers, body, limit).await?;
    decode_body(raw, content_encoding(headers), limit)
}

/// Reads the body as sent (still compressed), at most `limit` bytes (`413.2`). The content
/// encoding is checked first, so an unsupported one (`400.4`) is refused before reading.
pub async fn read_raw_body(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Bytes> {
    is_gzip(content_encoding(headers))?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit, false));
    }
    read_limited(body, limit).await
}

/// Decodes a body as sent with `content_encoding` (pure; no I/O): at most `limit` bytes
/// before and after gzip decoding (`413.2`), an unsupported encoding or a corrupt or
/// truncated gzip stream `400.4`.
pub fn decode_body(raw: Bytes, content_encoding: Option<&str>, limit: usize) -> ApiResult<Bytes> {
    if raw.len() > limit {
        return Err(too_large(limit, false));
    }
    if !is_gzip(content_encoding)? {
        return Ok(raw);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&raw[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| {
            ApiError::new(
                ProblemCode::BadEncoding,
                "The body is not valid gzip data.",
                "Dữ liệu nén gzip không hợp lệ.",
            )
        })?;
    if out.len() > limit {
        return Err(too_large(limit, true));
    }
    Ok(Bytes::from(out))
}

/// Collects body frames, failing with `413.2` as soon as more than `limit` bytes arrived.
async fn read_limited(mut body: Body, limit: usize) -> ApiResult<Bytes> {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            ApiError::new(
                ProblemCode::MalformedBody,
                "The request body could not be read.",
                "Không đọc được dữ liệu gửi lên.",
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(too_large(limit, false));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

/// Parses JSON into `T`; any syntax or shape error is `400.1` with its line and column.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            ProblemCode::MalformedBody,
            format!("The request body is not valid JSON of the expected shape: {e}"),
            "Dữ liệu gửi lên không phải JSON hợp lệ theo định dạng yêu cầu.",
        )
        .with_details(serde_json::json!({ "line": e.line(), "column": e.column() }))
    })
}

/// Reads a JSON body of at most [`MAX_JSON_BYTES`] into `T`.
pub async fn read_json<T: DeserializeOwned>(headers: &HeaderMap, body: Body) -> ApiResult<T> {
    let bytes = read_body(headers, body, MAX_JSON_BYTES).await?;
    parse_json(&bytes)
}

/// The address of the connected client, as connection info of the plain and the TLS
/// listener: serve with `router(..).into_make_service_with_connect_info::<PeerAddr>()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::SocketAddr);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, crate::tls::TlsListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, crate::tls::TlsListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

/// The IP address the request came from, when the server was started with [`PeerAddr`]
/// connection info (as `sipas-server` is); `None` otherwise (e.g. in-process tests). Behind a reverse proxy this is the proxy's address. Used only for
/// throttling, never logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<PeerAddr>>()
                .map(|c| c.0.0.ip()),
        ))
    }
}

/// Path parameters, parsed lazily: [`ApiPath::get`] gives the value or `400.3` (e.g. not a
/// UUID). Lazy so that handlers check the caller's role first.
#[derive(Debug)]
pub struct ApiPath<T>(ApiResult<T>);

impl<T> ApiPath<T> {
    /// The parsed value, or `400.3`.
    pub fn get(self) -> ApiResult<T> {
        self.0
    }
}

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiPath(
            Path::<T>::from_request_parts(parts, state)
                .await
                .map(|Path(v)| v)
                .map_err(|e| {
                    ApiError::invalid_input(
                        format!("Invalid value in the URL path: {}", e.body_text()),
                        "Giá trị trong đường dẫn không hợp lệ.",
                    )
                }),
        ))
    }
}

/// Query parameters, parsed lazily: [`ApiQuery::get`] gives the value or `400.3`.
#[derive(Debug)]
pub struct ApiQuery<T>(ApiResult<T>);

impl<T> ApiQuery<T> {
    /// The parsed value, or `400.3`.
    pub fn get(self) -> ApiResult<T> {
        self.0
    }
}

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiQuery(
            Query::<T>::from_request_parts(parts, state)
                .await
                .map(|Query(v)| v)
                .map_err(|e| {
                    ApiError::invalid_input(
                        format!("Invalid query parameter: {}", e.body_text()),
                        "Tham số truy vấn không hợp lệ.",
                    )
                }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[tokio::test]
    async fn plain_and_gzip_bodies_are_read_under_the_limit() {
        let h = HeaderMap::new();
        let b = read_body(&h, Body::from("hello"), 10).await.unwrap();
        assert_eq!(&b[..], b"hello");
        let err = read_body(&h, Body::from("hello world"), 10)
            .await
            .unwrap_err();
        assert_eq!(err.0.code, "413.2");

        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        let b = read_body(&h, Body::from(gzip(b"hello")), 100)
            .await
            .unwrap();
        assert_eq!(&b[..], b"hello");
        // small on the wire, too large once decoded
        let bomb = gzip(&vec![b'a'; 10_000]);
        assert!(bomb.len() < 1000);
        let err = read_body(&h, Body::from(bomb), 1000).await.unwrap_err();
        assert_eq!(err.0.code, "413.2");
        let err = read_body(&h, Body::from("not gzip"), 1000)
            .await
            .unwrap_err();
        assert_eq!(err.0.code, "400.4");

        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        let err = read_body(&h, Body::from("x"), 10).await.unwrap_err();
        assert_eq!(err.0.code, "400.4");
    }

    #[test]
    fn bad_json_is_400_1() {
        let err = parse_json::<Vec<u32>>(b"[1, 2").unwrap_err();
        assert_eq!(err.0.code, "400.1");
    }
}
