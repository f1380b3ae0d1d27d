//! The web dashboard of supervisors and monitors: static files from `crates/server/dashboard/`
//! embedded in the binary and served under `/dashboard/` (`GET /` redirects there).
//!
//! Every dashboard answer carries a strict Content-Security-Policy (`default-src 'self'`, no
//! inline script or style, no framing), `nosniff` and `no-referrer`: the pages load nothing but
//! these files and talk to nothing but this server's `/api/v1`.
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// Content-Security-Policy of every dashboard answer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// The embedded files (`index.html` also answers `/dashboard/`). ES modules: `main.js` imports
/// the others; the page modules live under `pages/`.
const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../dashboard/index.html"),
    },
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../dashboard/style.css"),
    },
    Asset {
        name: "main.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/main.js"),
    },
    Asset {
        name: "api.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/api.js"),
    },
    Asset {
        name: "types.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/types.js"),
    },
    Asset {
        name: "widgets.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/widgets.js"),
    },
    Asset {
        name: "i18n.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/i18n.js"),
    },
    Asset {
        name: "pages/assignments.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/assignments.js"),
    },
    Asset {
        name: "pages/audit.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/audit.js"),
    },
    Asset {
        name: "pages/catalogues.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/catalogues.js"),
    },
    Asset {
        name: "pages/common.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/common.js"),
    },
    Asset {
        name: "pages/handover.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/handover.js"),
    },
    Asset {
        name: "pages/login.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/login.js"),
    },
    Asset {
        name: "pages/progress.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/progress.js"),
    },
    Asset {
        name: "pages/quarantine.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/quarantine.js"),
    },
    Asset {
        name: "pages/report.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/report.js"),
    },
    Asset {
        name: "pages/review.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/review.js"),
    },
    Asset {
        name: "pages/rounds.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/rounds.js"),
    },
    Asset {
        name: "pages/sample.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/sample.js"),
    },
    Asset {
        name: "pages/spot-checks.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/spot-checks.js"),
    },
    Asset {
        name: "pages/users.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/users.js"),
    },
    // --- results (issue 11, h-results) ---
    Asset {
        name: "pages/results.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/results.js"),
    },
    Asset {
        name: "i18n-results.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/i18n-results.js"),
    },
    // --- Biểu mẫu page (issue 12, h-formpub) ---
    Asset {
        name: "i18n-forms.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/i18n-forms.js"),
    },
    Asset {
        name: "pages/forms.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../dashboard/pages/forms.js"),
    },
];

/// Routes `/`, `/dashboard` and `/dashboard/{file}` (also `/dashboard/pages/{file}`).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard/") }))
        .route("/dashboard", get(|| async { Redirect::to("/dashboard/") }))
        .route("/dashboard/", get(|| async { asset("index.html") }))
        .route(
            "/dashboard/{*file}",
            get(|Path(file): Path<String>| async move { asset(&file) }),
        )
}

fn asset(name: &str) -> Response {
    let security = [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            security,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            )],
            a.body,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            security,
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
    fn every_asset_is_embedded_and_typed() {
        for a in ASSETS {
            assert!(!a.body.is_empty(), "{} is empty", a.name);
            assert!(a.content_type.contains("charset=utf-8"));
        }
        let r = asset("style.css");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/css; charset=utf-8");
        assert!(
            r.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .starts_with("default-src 'self'")
        );
        assert_eq!(asset("../Cargo.toml").status(), StatusCode::NOT_FOUND);
        assert_eq!(
            asset("pages/../../Cargo.toml").status(),
            StatusCode::NOT_FOUND
        );
        // Every file of the dashboard folder is embedded (a new page module must be listed).
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/dashboard");
        let mut missing = Vec::new();
        for sub in ["", "pages"] {
            for entry in std::fs::read_dir(format!("{dir}/{sub}")).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name().into_string().unwrap();
                let served = if sub.is_empty() {
                    name.clone()
                } else {
                    format!("{sub}/{name}")
                };
                let ext_ok =
                    name.ends_with(".js") || name.ends_with(".css") || name.ends_with(".html");
                if entry.path().is_file() && ext_ok && !ASSETS.iter().any(|a| a.name == served) {
                    missing.push(served);
                }
            }
        }
        assert!(missing.is_empty(), "not embedded: {missing:?}");
    }
}
