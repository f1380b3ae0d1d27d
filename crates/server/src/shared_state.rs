//! Several server processes on one database (issue 14): what each process caches and how it
//! learns that another process changed it. Before every `/api/v1` request,
//! [`refresh_caches`] reads the version counters of `shared_versions` (one small query) and
//!
//! * reloads the form registry when the `forms` counter moved ([`crate::forms`]);
//! * lets the unit tree cached by [`crate::scope::unit_tree`] go when the `units` counter
//!   moved.
//!
//! Everything else a request depends on is read from the database each time (sessions,
//! device tokens and revocations, throttles — see [`crate::ratelimit`] —, rounds,
//! assignments, responses, spot-check tasks, hand-over records). The one other per-process
//! memory, [`crate::last_sync::LastSync`], only skips redundant writes of a device's sync
//! time and is safe per process.
use crate::app::AppState;
use crate::problem::ApiError;
use crate::storage::StoreError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;

/// Brings the caches of this process up to the database's version counters.
pub async fn refresh(state: &AppState) -> Result<(), StoreError> {
    let versions = state.store.shared_versions().await?;
    state
        .forms
        .refresh(state.store.as_ref(), versions.forms)
        .await?;
    // Counters only grow: a request that read an older number never moves it back.
    state
        .units_version
        .fetch_max(versions.units, Ordering::SeqCst);
    Ok(())
}

/// Middleware of the `/api/v1` routes: [`refresh`], then the handler.
pub async fn refresh_caches(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Err(e) = refresh(&state).await {
        return ApiError::from(e).into_response();
    }
    next.run(req).await
}

/// Reverse proxies in front of the server whose `X-Forwarded-For` is believed
/// (`--trusted-proxy`): several processes behind one proxy would otherwise see every client
/// at the proxy's address, and the per-address throttles would count everyone together.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub std::sync::Arc<Vec<std::net::IpAddr>>);

/// The last address of the `X-Forwarded-For` headers: the one the (trusted) proxy added.
/// Earlier entries come from the client and are never believed.
fn last_forwarded(headers: &axum::http::HeaderMap) -> Option<std::net::IpAddr> {
    let last = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|v| !v.is_empty())?;
    last.parse().ok()
}

/// Middleware (outermost): when the TCP peer is a trusted proxy, the client address the
/// throttles see ([`crate::extract::ClientIp`]) is the last `X-Forwarded-For` address. A
/// request from anywhere else keeps its peer address, whatever headers it carries.
pub async fn forwarded_for(
    State(trusted): State<TrustedProxies>,
    mut req: Request,
    next: Next,
) -> Response {
    use crate::extract::PeerAddr;
    use axum::extract::ConnectInfo;
    let peer = req
        .extensions()
        .get::<ConnectInfo<PeerAddr>>()
        .map(|c| c.0.0.ip().to_canonical());
    if let Some(peer) = peer
        && trusted.0.contains(&peer)
        && let Some(client) = last_forwarded(req.headers())
    {
        req.extensions_mut()
            .insert(ConnectInfo(PeerAddr(std::net::SocketAddr::new(client, 0))));
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ClientIp, PeerAddr};
    use axum::Router;
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::routing::get;
    use std::net::{IpAddr, SocketAddr};
    use tower::ServiceExt;

    async fn client_of(peer: &str, forwarded: &[&str]) -> String {
        let trusted = TrustedProxies(std::sync::Arc::new(vec!["10.0.0.9".parse().unwrap()]));
        let app = Router::new()
            .route(
                "/",
                get(|ClientIp(ip): ClientIp| async move { format!("{ip:?}") }),
            )
            .layer(axum::middleware::from_fn_with_state(trusted, forwarded_for));
        let mut req = axum::http::Request::builder().uri("/");
        for f in forwarded {
            req = req.header("x-forwarded-for", *f);
        }
        let mut req = req.body(Body::empty()).unwrap();
        let peer: IpAddr = peer.parse().unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(PeerAddr(SocketAddr::new(peer, 40000))));
        let answer = app.oneshot(req).await.unwrap();
        let body = axum::body::to_bytes(answer.into_body(), 1024)
            .await
            .unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    /// Two states on one database file stand for two processes: a unit import and a
    /// published form through one are seen by the other at its next refresh.
    #[tokio::test]
    async fn caches_follow_the_version_counters() {
        use crate::app::AppState;
        use crate::forms::FormRegistry;
        use crate::storage::{CatalogueImport, FormStatus, ServerStore, SqliteStore};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let open = || -> Arc<dyn ServerStore> { Arc::new(SqliteStore::open(&path).unwrap()) };
        let (a, b) = (
            AppState::new(open(), FormRegistry::builtin().unwrap()),
            AppState::new(open(), FormRegistry::builtin().unwrap()),
        );
        crate::catalogue::seed_if_empty(a.store.as_ref())
            .await
            .unwrap();
        for s in [&a, &b] {
            s.forms.reload(s.store.as_ref()).await.unwrap();
            refresh(s).await.unwrap();
        }
        let tree = crate::scope::unit_tree(&b).await.unwrap();
        let mut unit = tree.units()[0].clone();
        unit.code = "99999".into();
        unit.name = "Tỉnh Thử Nghiệm".into();
        unit.level = sipas_core::units::UnitLevel::Province;
        unit.parent_code = None;
        assert!(tree.units().iter().all(|u| u.code != "99999"));
        a.store
            .import_catalogues(&[CatalogueImport::Units(vec![unit])], None)
            .await
            .unwrap();
        // A form published through `a`.
        let mut form = crate::forms::FormRegistry::builtin().unwrap().entries()[0]
            .1
            .form
            .as_ref()
            .clone();
        form.version = "2099.1-shared".into();
        let c = crate::forms::canonical(&serde_json::to_value(&form).unwrap());
        let new = crate::storage::NewFormVersion {
            form_id: form.form_id.clone(),
            version: form.version.clone(),
            content_hash: c.content_hash,
            definition: c.definition,
            source_xlsx: None,
            title_vi: form.title.vi.clone(),
            uploaded_by: None,
        };
        assert!(
            a.store
                .insert_form_version(&new, FormStatus::Published)
                .await
                .unwrap()
        );
        // `b` still has its caches until its next request…
        assert!(b.forms.get(&form.key()).is_none());
        // …which refreshes them first.
        refresh(&b).await.unwrap();
        assert!(b.forms.get(&form.key()).is_some());
        let tree = crate::scope::unit_tree(&b).await.unwrap();
        assert!(tree.units().iter().any(|u| u.code == "99999"));
    }

    #[tokio::test]
    async fn only_a_trusted_proxy_names_the_client() {
        // The trusted proxy's last entry is the client; a forged earlier entry is ignored.
        assert_eq!(
            client_of("10.0.0.9", &["1.2.3.4, 203.0.113.7"]).await,
            "Some(203.0.113.7)"
        );
        assert_eq!(
            client_of("::ffff:10.0.0.9", &["1.2.3.4", "203.0.113.8"]).await,
            "Some(203.0.113.8)"
        );
        // Anyone else keeps their own address, whatever they claim.
        assert_eq!(
            client_of("198.51.100.1", &["203.0.113.7"]).await,
            "Some(198.51.100.1)"
        );
        // A trusted proxy without (or with a malformed) header: the proxy's address.
        assert_eq!(client_of("10.0.0.9", &[]).await, "Some(10.0.0.9)");
        assert_eq!(client_of("10.0.0.9", &["nonsense"]).await, "Some(10.0.0.9)");
    }
}
