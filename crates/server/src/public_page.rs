//! The public self-completion page (issue 15): `GET /s/{code}` (personal one-time link) and
//! `GET /o/{token}` (an agency's open link) serve the same static page from
//! `crates/server/public/`, which loads the questionnaire runner from `/ui/*.js` and talks
//! only to this server: no third-party resource, no inline script or style, the dashboard's
//! strict Content-Security-Policy. The JSON endpoints beside it are in
//! [`crate::handlers::self_links`]; every answer of them is `no-store`.
use crate::app::AppState;
use crate::dashboard::CONTENT_SECURITY_POLICY;
use crate::handlers::self_links as h;
use axum::Router;
use axum::extract::{Path, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "self.html",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../public/self.html"),
    },
    Asset {
        name: "self.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../public/self.js"),
    },
    Asset {
        name: "self.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../public/self.css"),
    },
];

/// The page and its endpoints.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/s/{code}", get(|| async { asset("self.html") }))
        .route("/s/{code}/form", get(h::personal_form))
        .route("/s/{code}/response", post(h::personal_response))
        .route("/o/{token}", get(|| async { asset("self.html") }))
        .route("/o/{token}/form", get(h::open_form))
        .route("/o/{token}/device", post(h::open_device))
        .route("/o/{token}/response", post(h::open_response))
        .route(
            "/public/{file}",
            get(|Path(file): Path<String>| async move { asset(&file) }),
        )
        .layer(axum::middleware::from_fn(security))
}

/// Security headers on every answer of the public page; JSON answers are never cached.
async fn security(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    let json = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if json { "no-store" } else { "no-cache" }),
    );
    res
}

/// A request path as logged: the code or token of `/s/{code}…`, `/o/{token}…`,
/// `/api/v1/self-links/{code}/…` and `/api/v1/open-links/{token}/…` replaced by `***` (they
/// open a questionnaire, like a credential); every other path unchanged.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in ["/s/", "/o/", "/api/v1/self-links/", "/api/v1/open-links/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{prefix}***{tail}").into();
        }
    }
    path.into()
}

fn asset(name: &str) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            )],
            a.body,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            "Không tìm thấy / Not found",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_tokens_never_reach_the_log() {
        assert_eq!(loggable_path("/s/M9MK2SSJSY/response"), "/s/***/response");
        assert_eq!(loggable_path("/o/ABCDEFGHJKMNPQRS"), "/o/***");
        assert_eq!(
            loggable_path("/api/v1/self-links/M9MK2SSJSY/revoke"),
            "/api/v1/self-links/***/revoke"
        );
        assert_eq!(
            loggable_path("/api/v1/rounds/R/self-links"),
            "/api/v1/rounds/R/self-links"
        );
        assert_eq!(loggable_path("/public/self.js"), "/public/self.js");
    }

    #[test]
    fn every_page_file_is_embedded_and_nothing_else_is_served() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/public");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(
                ASSETS.iter().any(|a| a.name == name),
                "not embedded: {name}"
            );
        }
        assert_eq!(asset("../Cargo.toml").status(), StatusCode::NOT_FOUND);
        let html = std::str::from_utf8(ASSETS[0].body).unwrap();
        assert!(!html.contains("<script>") && !html.contains("style="));
        assert!(!html.contains("http://") && !html.contains("https://"));
    }
}
