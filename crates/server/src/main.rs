//! `sipas-server`: the SIPAS Field central server.
//!
//! ```text
//! sipas-server [--database PATH|postgres://…] [--listen 127.0.0.1:8080]
//!              [--bootstrap-admin NAME] [--demo]
//! ```
//! After binding it prints exactly one line `sipas-server listening on http://ADDR` to
//! stdout. Logs go to stderr (`RUST_LOG` filters them); they carry ids and counts only.
#![forbid(unsafe_code)]

use anyhow::{Context, bail};
use clap::Parser;
use sipas_protocol::roles::Role;
use sipas_server::app::{AppState, router};
use sipas_server::demo::{ensure_user, seed_demo};
use sipas_server::forms::FormRegistry;
use sipas_server::storage::open_store;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;

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
    /// Create this admin user if missing; password from env SIPAS_ADMIN_PASSWORD.
    #[arg(long, value_name = "USERNAME")]
    bootstrap_admin: Option<String>,
    /// Seed demo users, a demo round with sample rows, and print an enrolment code.
    #[arg(long)]
    demo: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
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

    let store = open_store(&args.database)
        .await
        .context("opening the database")?;
    let forms = FormRegistry::builtin().context("loading the built-in questionnaires")?;
    let state = AppState::new(store, forms);
    tracing::info!(backend = state.store.backend(), "store open");

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
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    writeln!(out, "sipas-server listening on http://{addr}")?;
    out.flush()?;
    drop(out);

    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving")?;
    tracing::info!("stopped");
    Ok(())
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
