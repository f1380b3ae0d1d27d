//! Request extraction with problem answers: bodies read under a size limit (gzip accepted),
//! JSON parsed into `400.1`, path and query values parsed into `400.3`.
//!
//! Handlers check the caller's role *before* reading the body or using path and query values,
//! so a forbidden caller gets `403.1` and never makes the server read, decompress or parse
//! anything.
use crate::problem::{ApiError, ApiResult};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
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

/// Reads the whole body, at most `limit` bytes after decoding any `Content-Encoding: gzip`.
///
/// * more than `limit` bytes on the wire or after decoding → `413.2`;
/// * another content encoding or a corrupt gzip stream → `400.4`.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Bytes> {
    let gzip = match headers.get(header::CONTENT_ENCODING) {
        None => false,
        Some(v) => match v.to_str().map(|s| s.trim().to_ascii_lowercase()) {
            Ok(s) if s.is_empty() || s == "identity" => false,
            Ok(s) if s == "gzip" || s == "x-gzip" => true,
            _ => {
                return Err(ApiError::new(
                    ProblemCode::BadEncoding,
                    "Unsupported Content-Encoding; send the body plain or gzip-compressed.",
                    "Kiểu nén không được hỗ trợ; hãy gửi dữ liệu không nén hoặc nén gzip.",
                ));
            }
        },
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit, false));
    }
    let raw = read_limited(body, limit).await?;
    if !gzip {
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
