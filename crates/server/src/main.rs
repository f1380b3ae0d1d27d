//! `sipas-server`: the SIPAS Field central server.
//!
//! ```text
//! sipas-server [--database PATH|postgres://…] [--listen 127.0.0.1:8080]
//!              [--tls-cert CERT.pem --tls-key KEY.pem] [--bootstrap-admin NAME] [--demo]
//!              [--min-n-floor 10] [--recovery-public-key recovery.pub]
//! sipas-server recovery-keygen --out DIR
//! sipas-server recovery-code --key recovery.key --request REQUEST
//! sipas-server recover-device --key recovery.key --store device.db [--enrolment F] --out F.sipas
//! ```
//! After binding it prints exactly one line `sipas-server listening on http://ADDR` (or
//! `https://ADDR` with `--tls-cert`/`--tls-key`) to stdout. Logs go to stderr (`RUST_LOG`
//! filters them); they carry ids and counts only, never personal data or credentials.
#![forbid(unsafe_code)]

use anyhow::{Context, bail};
use clap::Parser;
use sipas_protocol::roles::Role;
use sipas_server::app::{AppState, router};
use sipas_server::demo::{ensure_user, seed_demo};
use sipas_server::extract::PeerAddr;
use sipas_server::forms::FormRegistry;
use sipas_server::storage::open_store;
use sipas_server::tls::{TlsListener, server_config};
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

/// SIPAS Field central server: sync API, rounds, review and SIPAS index.
#[derive(Debug, Parser)]
#[command(name = "sipas-server", version)]
struct Args {
    /// SQLite file path, or a postgres:// URL.
    #[arg(long, env = "SIPAS_DATABASE", default_value = "sipas-server.db")]
    database: String,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve HTTPS with this PEM certificate chain (server certificate first); needs
    /// --tls-key. Without both, plain HTTP (only behind a TLS-terminating proxy or on a
    /// trusted network).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Create this admin user if missing; password from env SIPAS_ADMIN_PASSWORD.
    #[arg(long, value_name = "USERNAME")]
    bootstrap_admin: Option<String>,
    /// Seed demo users, a demo round with sample rows, and print an enrolment code.
    #[arg(long)]
    demo: bool,
    /// Smallest `min_n` of any report: values with a smaller base are always suppressed, and
    /// a lower `min_n` asked for is raised to this.
    #[arg(long, env = "SIPAS_MIN_N_FLOOR", default_value_t = sipas_server::app::DEFAULT_MIN_N_FLOOR)]
    min_n_floor: usize,
    /// Compute GET index / report by re-reading every counted response (the reference path
    /// from before the answer counts; for benchmarks and checks) instead of from the counts.
    #[arg(long, env = "SIPAS_INDEX_FROM_RESPONSES", hide = true)]
    index_from_responses: bool,
    /// The PIN-recovery public key file (from `sipas-server recovery-keygen`), sent to
    /// devices at enrolment.
    #[arg(long, env = "SIPAS_RECOVERY_PUBLIC_KEY", value_name = "FILE")]
    recovery_public_key: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(log_filter())
        .init();
    // Offline PIN-recovery tools (issue 13): `recovery-keygen`, `recovery-code`,
    // `recover-device`.
    let argv: Vec<String> = std::env::args().collect();
    if let Some(outcome) = sipas_server::recovery::run_tool(&argv) {
        return outcome;
    }
    let args = Args::parse();
    // Check the bootstrap password before touching the database.
    let admin_password = match &args.bootstrap_admin {
        Some(_) => {
            let password = std::env::var("SIPAS_ADMIN_PASSWORD")
                .context("--bootstrap-admin needs the password in env SIPAS_ADMIN_PASSWORD")?;
            if password.chars().count() < 8 {
                bail!("SIPAS_ADMIN_PASSWORD must have at least 8 characters");
            }
            Some(password)
        }
        None => None,
    };

    // Check the certificate before touching the database, too.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(server_config(cert, key)?),
        _ => None,
    };

    let recovery_public_key = args
        .recovery_public_key
        .as_deref()
        .map(sipas_server::recovery::read_public_key_file)
        .transpose()?;

    let store = open_store(&args.database)
        .await
        .context("opening the database")?;
    let forms = FormRegistry::builtin().context("loading the built-in questionnaires")?;
    let mut state = AppState::new(store, forms);
    state.min_n_floor = args.min_n_floor;
    state.index_from_responses = args.index_from_responses;
    state.recovery_public_key = recovery_public_key;
    state.tls = tls.is_some();
    state.tls_fingerprint = args
        .tls_cert
        .as_deref()
        .and_then(sipas_server::tls::self_signed_fingerprint);
    tracing::info!(backend = state.store.backend(), "store open");
    // Published forms (issue 12): the built-ins are seeded as published, then the registry
    // reads every stored version.
    let seeded_forms = sipas_server::forms::seed_builtins(state.store.as_ref())
        .await
        .context("seeding the built-in questionnaires")?;
    state
        .forms
        .reload(state.store.as_ref())
        .await
        .context("loading the published questionnaires")?;
    tracing::info!(
        seeded = seeded_forms,
        forms = state.forms.keys().len(),
        "questionnaires loaded"
    );
    // Catalogues (issue 10): the unit and field seeds go into empty catalogues.
    let seeded = sipas_server::catalogue::seed_if_empty(state.store.as_ref())
        .await
        .context("loading the catalogue seeds")?;
    tracing::info!(
        units = seeded.units,
        fields = seeded.fields,
        procedures = seeded.procedures,
        "catalogue seeds loaded into empty catalogues"
    );

    if let (Some(username), Some(password)) = (&args.bootstrap_admin, admin_password) {
        let (user, created) = ensure_user(&state, username, "Quản trị", Role::Admin, &password)
            .await
            .context("creating the admin")?;
        if user.role != Role::Admin {
            bail!("user {username} exists with role {}", user.role.as_str());
        }
        tracing::info!(user_id = %user.id, created, "bootstrap admin");
    }

    let mut out = std::io::stdout().lock();
    let mut demo_code = None;
    let state_fingerprint = state.tls_fingerprint.clone();
    if args.demo {
        let demo = seed_demo(&state).await.context("seeding the demo")?;
        writeln!(out, "demo round: {}", demo.round_id)?;
        for u in &demo.users {
            match &u.password {
                Some(p) => writeln!(
                    out,
                    "demo user: {} ({}) password: {p}",
                    u.user.username,
                    u.user.role.as_str()
                )?,
                None => writeln!(
                    out,
                    "demo user: {} ({}) already existed; password unchanged",
                    u.user.username,
                    u.user.role.as_str()
                )?,
            }
        }
        writeln!(
            out,
            "demo enrolment code for 'surveyor': {} (valid until {})",
            demo.enrolment_code.code,
            demo.enrolment_code.expires_at.to_rfc3339()
        )?;
        demo_code = Some(demo.enrolment_code.code.clone());
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    if let Some(code) = &demo_code {
        // The one line a surveyor pastes into the app (API.md, "Enrolment payload").
        let scheme = if tls.is_some() { "https" } else { "http" };
        let payload = sipas_protocol::enrol::EnrolPayload {
            server: format!("{scheme}://{addr}"),
            code: code.clone(),
            cert_sha256: state_fingerprint.clone(),
        }
        .encode();
        writeln!(out, "demo enrolment payload for 'surveyor': {payload}")?;
    }
    // Client addresses reach the handlers for the enrolment throttle (never the logs).
    let mut app = router(state);
    if tls.is_some() {
        app = app.layer(axum::middleware::from_fn(sipas_server::hygiene::hsts));
    }
    let app = app.into_make_service_with_connect_info::<PeerAddr>();
    match tls {
        Some(config) => {
            let listener = TlsListener::new(listener, config).context("starting TLS")?;
            writeln!(out, "sipas-server listening on https://{addr}")?;
            out.flush()?;
            drop(out);
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .context("serving")?;
        }
        None => {
            writeln!(out, "sipas-server listening on http://{addr}")?;
            out.flush()?;
            drop(out);
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .context("serving")?;
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// The log filter: `RUST_LOG` (default `info`), except that libraries which would print
/// query parameters or payloads at debug level are capped at `info` whatever `RUST_LOG`
/// says: `tokio_postgres` logs every statement's parameters (names, addresses, phone
/// numbers, token hashes) at debug. Logs carry no personal data, even with `RUST_LOG=trace`.
fn log_filter() -> tracing_subscriber::EnvFilter {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    for capped in ["tokio_postgres=info", "postgres=info", "rustls=info"] {
        if let Ok(directive) = capped.parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Resolves on ctrl-c or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
