//! `sipas-server`: the SIPAS Field central server.
//!
//! ```text
//! sipas-server [--config /etc/sipas-server/config.toml]
//!              [--database PATH|postgres://…] [--listen 127.0.0.1:8080]
//!              [--tls-cert CERT.pem --tls-key KEY.pem] [--bootstrap-admin NAME] [--demo]
//!              [--min-n-floor 10] [--recovery-public-key recovery.pub]
//! sipas-server backup [--config F] [--database PATH] --out BACKUP.db
//! sipas-server restore [--config F] [--database PATH] --from BACKUP.db
//! sipas-server recovery-keygen --out DIR
//! sipas-server recovery-code --key recovery.key --request REQUEST
//! sipas-server recover-device --key recovery.key --store device.db [--enrolment F] --out F.sipas
//! ```
//! After binding it prints exactly one line `sipas-server listening on http://ADDR` (or
//! `https://ADDR` with `--tls-cert`/`--tls-key`) to stdout. Logs go to stderr (`RUST_LOG`
//! filters them); they carry ids and counts only, never personal data or credentials.
//!
//! `--config` names a TOML file with the keys `database`, `listen`, `tls_cert`, `tls_key`,
//! `min_n_floor`, `recovery_public_key` ([`sipas_server::ops::Config`]); a flag (or its
//! environment variable) overrides the same key of the file. `backup` and `restore` are
//! [`sipas_server::ops::backup_sqlite`] and [`sipas_server::ops::restore_sqlite`].
#![forbid(unsafe_code)]

use anyhow::{Context, bail};
use clap::Parser;
use sipas_protocol::roles::Role;
use sipas_server::app::{AppState, router};
use sipas_server::demo::{ensure_user, seed_demo};
use sipas_server::extract::PeerAddr;
use sipas_server::forms::FormRegistry;
use sipas_server::ops;
use sipas_server::storage::open_store;
use sipas_server::tls::{TlsListener, server_config};
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

/// SIPAS Field central server: sync API, rounds, review and SIPAS index.
///
/// Settings come from the flags (or their environment variables), then from the `--config`
/// file, then from the defaults.
#[derive(Debug, Parser)]
#[command(name = "sipas-server", version)]
struct Args {
    /// TOML configuration file (keys: database, listen, tls_cert, tls_key, min_n_floor,
    /// recovery_public_key); flags override it.
    #[arg(long, env = "SIPAS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// SQLite file path, or a postgres:// URL [default: sipas-server.db].
    #[arg(long, env = "SIPAS_DATABASE")]
    database: Option<String>,
    /// Address to listen on (port 0 picks a free port) [default: 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Serve HTTPS with this PEM certificate chain (server certificate first); needs
    /// --tls-key. Without both, plain HTTP (only behind a TLS-terminating proxy or on a
    /// trusted network).
    #[arg(long, value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM")]
    tls_key: Option<PathBuf>,
    /// Create this admin user if missing; password from env SIPAS_ADMIN_PASSWORD.
    #[arg(long, value_name = "USERNAME")]
    bootstrap_admin: Option<String>,
    /// Seed demo users, a demo round with sample rows, and print an enrolment code.
    #[arg(long)]
    demo: bool,
    /// Smallest `min_n` of any report: values with a smaller base are always suppressed, and
    /// a lower `min_n` asked for is raised to this [default: 10].
    #[arg(long, env = "SIPAS_MIN_N_FLOOR")]
    min_n_floor: Option<usize>,
    /// Compute GET index / report by re-reading every counted response (the reference path
    /// from before the answer counts; for benchmarks and checks) instead of from the counts.
    #[arg(long, env = "SIPAS_INDEX_FROM_RESPONSES", hide = true)]
    index_from_responses: bool,
    /// The PIN-recovery public key file (from `sipas-server recovery-keygen`), sent to
    /// devices at enrolment.
    #[arg(long, env = "SIPAS_RECOVERY_PUBLIC_KEY", value_name = "FILE")]
    recovery_public_key: Option<PathBuf>,
    /// Reverse proxies (IP addresses) in front of this server whose `X-Forwarded-For` names
    /// the client for the throttles (several servers behind one proxy: README "Several
    /// servers"). Repeat the flag or separate with commas.
    #[arg(
        long = "trusted-proxy",
        env = "SIPAS_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "IP"
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
}

/// The settings of one start: flags over the configuration file over the defaults.
struct Settings {
    database: String,
    listen: SocketAddr,
    tls: Option<(PathBuf, PathBuf)>,
    min_n_floor: usize,
    recovery_public_key: Option<PathBuf>,
}

impl Args {
    fn settings(&self) -> anyhow::Result<Settings> {
        let config = load_config(self.config.as_deref())?;
        let tls = match (
            self.tls_cert.clone().or(config.tls_cert),
            self.tls_key.clone().or(config.tls_key),
        ) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (Some(_), None) => bail!("--tls-cert (tls_cert) needs --tls-key (tls_key)"),
            (None, Some(_)) => bail!("--tls-key (tls_key) needs --tls-cert (tls_cert)"),
        };
        Ok(Settings {
            database: self
                .database
                .clone()
                .or(config.database)
                .unwrap_or_else(|| ops::DEFAULT_DATABASE.to_owned()),
            listen: match self.listen.or(config.listen) {
                Some(a) => a,
                None => ops::DEFAULT_LISTEN.parse()?,
            },
            tls,
            min_n_floor: self
                .min_n_floor
                .or(config.min_n_floor)
                .unwrap_or(sipas_server::app::DEFAULT_MIN_N_FLOOR),
            recovery_public_key: self
                .recovery_public_key
                .clone()
                .or(config.recovery_public_key),
        })
    }
}

fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<ops::Config> {
    Ok(match path {
        Some(p) => ops::Config::load(p)?,
        None => ops::Config::default(),
    })
}

/// `sipas-server backup`: a consistent copy of the SQLite database while the server runs.
#[derive(Debug, Parser)]
#[command(name = "sipas-server backup")]
struct BackupArgs {
    /// The server's configuration file (its `database` key names what to back up).
    #[arg(long, env = "SIPAS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// The SQLite file to back up (overrides the configuration file) [default: sipas-server.db].
    #[arg(long, env = "SIPAS_DATABASE")]
    database: Option<String>,
    /// The backup file to write; must not exist yet.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// `sipas-server restore`: a backup into an empty SQLite database (stop the server first).
#[derive(Debug, Parser)]
#[command(name = "sipas-server restore")]
struct RestoreArgs {
    /// The server's configuration file (its `database` key names the target).
    #[arg(long, env = "SIPAS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// The SQLite file to restore into: missing, empty, or without tables (overrides the
    /// configuration file) [default: sipas-server.db].
    #[arg(long, env = "SIPAS_DATABASE")]
    database: Option<String>,
    /// The backup file (from `sipas-server backup`).
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
}

/// Runs `backup` / `restore` when `argv[1]` names one.
fn run_ops_tool(argv: &[String]) -> Option<anyhow::Result<()>> {
    let tool = argv.get(1)?.as_str();
    let database = |flag: &Option<String>, config: &Option<PathBuf>| -> anyhow::Result<String> {
        Ok(flag
            .clone()
            .or(load_config(config.as_deref())?.database)
            .unwrap_or_else(|| ops::DEFAULT_DATABASE.to_owned()))
    };
    match tool {
        "backup" => Some((|| {
            let args = BackupArgs::parse_from(&argv[1..]);
            let db = database(&args.database, &args.config)?;
            if ops::is_postgres(&db) {
                return Err(ops::OpsError::Postgres { tool: "backup" }.into());
            }
            let facts = ops::backup_sqlite(std::path::Path::new(&db), &args.out)?;
            println!(
                "backup written: {} ({} bytes, schema version {}, {} responses)",
                args.out.display(),
                facts.bytes,
                facts.schema_version,
                facts.responses
            );
            Ok(())
        })()),
        "restore" => Some((|| {
            let args = RestoreArgs::parse_from(&argv[1..]);
            let db = database(&args.database, &args.config)?;
            if ops::is_postgres(&db) {
                return Err(ops::OpsError::Postgres { tool: "restore" }.into());
            }
            let facts = ops::restore_sqlite(&args.from, std::path::Path::new(&db))?;
            println!(
                "restored into {db} ({} bytes, schema version {}, {} responses); start the server on it",
                facts.bytes, facts.schema_version, facts.responses
            );
            Ok(())
        })()),
        _ => None,
    }
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
    // Operations (issue 14): `backup`, `restore`.
    if let Some(outcome) = run_ops_tool(&argv) {
        return outcome;
    }
    let args = Args::parse();
    let settings = args.settings()?;
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
    let tls = match &settings.tls {
        Some((cert, key)) => Some(server_config(cert, key)?),
        None => None,
    };

    let recovery_public_key = settings
        .recovery_public_key
        .as_deref()
        .map(sipas_server::recovery::read_public_key_file)
        .transpose()?;

    let store = open_store(&settings.database)
        .await
        .context("opening the database")?;
    let forms = FormRegistry::builtin().context("loading the built-in questionnaires")?;
    let mut state = AppState::new(store, forms);
    state.min_n_floor = settings.min_n_floor;
    state.index_from_responses = args.index_from_responses;
    state.recovery_public_key = recovery_public_key;
    state.tls = tls.is_some();
    state.tls_fingerprint = settings
        .tls
        .as_ref()
        .and_then(|(cert, _)| sipas_server::tls::self_signed_fingerprint(cert));
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

    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
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
    if !args.trusted_proxies.is_empty() {
        // Issue 14: the client address behind a trusted reverse proxy (throttles only).
        let trusted = sipas_server::shared_state::TrustedProxies(std::sync::Arc::new(
            args.trusted_proxies.clone(),
        ));
        app = app.layer(axum::middleware::from_fn_with_state(
            trusted,
            sipas_server::shared_state::forwarded_for,
        ));
    }
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
