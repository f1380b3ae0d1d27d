//! Shared by the server's in-process HTTP tests (`crates/server/tests/http_*.rs`): one reply
//! of the axum router driven with `tower::ServiceExt::oneshot`, with JSON and problem helpers.
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// Sends one request through the router (bearer `token` and extra `headers` if given) and
/// collects the whole reply.
pub async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    headers: &[(header::HeaderName, &str)],
    body: Body,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.header(k, *v);
    }
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

/// One reply of the router.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not the expected JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn value(&self) -> Value {
        self.json()
    }

    /// The problem code, checking that the status matches it.
    pub fn problem(&self) -> String {
        let v = self.value();
        let code = v["code"].as_str().expect("a problem body").to_owned();
        assert_eq!(
            code.split('.').next().unwrap(),
            self.status.as_str(),
            "status and code agree: {v}"
        );
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(v["message_vi"].as_str().is_some_and(|m| !m.is_empty()));
        code
    }

    pub fn expect(self, status: StatusCode) -> Reply {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }
}

/// Signs `username` in through the router (`POST /api/v1/login`); the session token.
pub async fn login(app: &Router, username: &str, password: &str) -> String {
    let reply = send(
        app,
        Method::POST,
        "/api/v1/login",
        None,
        &[(header::CONTENT_TYPE, "application/json")],
        Body::from(serde_json::json!({"username": username, "password": password}).to_string()),
    )
    .await
    .expect(StatusCode::OK);
    reply.json::<Value>()["token"]
        .as_str()
        .expect("a session token")
        .to_owned()
}
