//! HTTP hygiene of the real `sipas-server` binary: every non-2xx answer under `/api/v1`
//! (404 and 405 included) is a problem body; OPTIONS answers `204` with `Allow`;
//! `Cache-Control: no-store` on every API answer; `Strict-Transport-Security` when serving
//! TLS (and only then).
use sipas_testkit::{fixture, raw_http, server};

use fixture::{enrol_device, seed_people};
use raw_http::{Answer, Req, send, send_on};
use server::{Backend, Options, TestServer};
use std::sync::Arc;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_and_no_store_on_sqlite() {
    problems_and_no_store(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_and_no_store_on_postgres() {
    problems_and_no_store(Backend::Postgres).await;
}

fn assert_no_store(a: &Answer, what: &str) {
    assert_eq!(a.header("cache-control"), Some("no-store"), "{what}: {a:?}");
}

async fn problems_and_no_store(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    let admin = people.admin.token().unwrap().to_string();
    let device = enrol_device(&server, &people).await;
    let device_token = device.token().unwrap().to_string();
    let url = &server.url;

    // Wrong methods: 405.1 with a problem body and the allowed methods.
    for (method, path) in [
        ("DELETE", "/api/v1/me"),
        ("PUT", "/api/v1/login"),
        ("PATCH", "/api/v1/responses/batch"),
        ("GET", "/api/v1/logout"),
    ] {
        let a = send(url, Req::new(method, path).token(&admin)).await;
        assert_eq!(a.status, 405, "{method} {path}");
        assert_eq!(a.problem(), "405.1", "{method} {path}");
        assert!(a.header("allow").is_some(), "{method} {path}: {a:?}");
        assert!(
            a.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{a:?}"
        );
        assert_no_store(&a, path);
    }
    // OPTIONS: what is allowed, no body needed.
    let a = send(url, Req::new("OPTIONS", "/api/v1/me")).await;
    assert_eq!(a.status, 204, "{a:?}");
    assert!(
        a.header("allow").is_some_and(|m| m.contains("GET")),
        "{a:?}"
    );
    assert_no_store(&a, "OPTIONS");
    // Unknown paths, with and without a token, inside and outside the API.
    for path in ["/api/v1/nope", "/api/v1/rounds/x/y/z", "/nope"] {
        for token in [None, Some(admin.as_str())] {
            let mut req = Req::new("GET", path);
            if let Some(t) = token {
                req = req.token(t);
            }
            let a = send(url, req).await;
            assert_eq!(a.problem(), "404.1", "{path}");
        }
    }
    let a = send(url, Req::new("OPTIONS", "/api/v1/nope")).await;
    assert_eq!(a.problem(), "404.1");
    assert_no_store(&a, "OPTIONS unknown");

    // no-store on answers that carry personal data or credentials, and on errors.
    let a = send(
        url,
        Req::new("GET", "/api/v1/pull?cursor=0").token(&device_token),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_no_store(&a, "pull");
    let a = send(
        url,
        Req::new("POST", "/api/v1/login").json(serde_json::json!({
            "username": server::ADMIN, "password": server::ADMIN_PASSWORD
        })),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_no_store(&a, "login");
    for (path, token) in [
        ("/api/v1/me", Some(&admin)),
        ("/api/v1/monitor/tasks", Some(&admin)),
        ("/api/v1/users", Some(&admin)),
        ("/api/v1/me", None),
    ] {
        let mut req = Req::new("GET", path);
        if let Some(t) = token {
            req = req.token(t);
        }
        let a = send(url, req).await;
        assert_no_store(&a, path);
    }
    // Plain HTTP: no HSTS (it would be ignored, and it must not pin a plain server).
    let a = send(url, Req::new("GET", "/api/v1/me").token(&admin)).await;
    assert_eq!(a.header("strict-transport-security"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_when_serving_tls() {
    let certs = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("certificate");
    let cert_pem = ck.cert.pem();
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let server = TestServer::start_with(
        Backend::Sqlite,
        Options {
            args: vec![
                "--tls-cert".into(),
                cert.display().to_string(),
                "--tls-key".into(),
                key.display().to_string(),
            ],
            client_root_pem: Some(cert_pem.clone().into_bytes()),
            ..Options::default()
        },
    )
    .expect("SQLite server");
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap())
        .unwrap();
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(config));
    let host = raw_http::authority(&server.url);
    for (method, path) in [
        ("GET", "/api/v1/me"),
        ("DELETE", "/api/v1/me"),
        ("GET", "/dashboard/"),
    ] {
        let tcp = tokio::net::TcpStream::connect(&host).await.unwrap();
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .expect("TLS handshake");
        let a = send_on(tls, &host, Req::new(method, path)).await;
        let hsts = a
            .header("strict-transport-security")
            .unwrap_or_else(|| panic!("{method} {path}: no HSTS: {a:?}"));
        let max_age: u64 = hsts
            .split(';')
            .find_map(|p| p.trim().strip_prefix("max-age="))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("max-age in {hsts:?}"));
        assert!(max_age >= 31_536_000, "{hsts}");
    }
}
