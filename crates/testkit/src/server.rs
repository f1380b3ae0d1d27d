//! Runs the real `sipas-server` binary for integration tests, on SQLite or PostgreSQL.
//!
//! * The binary is `<target>/debug/sipas-server`, found next to the running test executable
//!   (`target/debug/deps/<test>` → `target/debug`), or `$SIPAS_SERVER_BIN`. If it is missing
//!   or older than the server's sources it is built with `cargo build -p sipas-server`
//!   (`scripts/test.sh` builds the workspace beforehand, so that is a no-op there).
//! * SQLite: a file in a temporary directory. PostgreSQL: a fresh database per server, created
//!   through `$SIPAS_TEST_DATABASE_URL` (e.g. `postgres://sipas:sipas@127.0.0.1:5432/postgres`)
//!   and dropped afterwards ([`crate::pg::TestDatabase`]). Without that variable PostgreSQL
//!   tests are skipped with a message, or fail when `$CI` is set.
//! * The server listens on a random loopback port (plain HTTP, or HTTPS with
//!   [`Options::args`] `--tls-cert`/`--tls-key`). It logs at `RUST_LOG=debug` (see
//!   [`Options::rust_log`]); its stderr and stdout go to
//!   `$SIPAS_ARTIFACTS/logs/server-<pid>.log` (default `<repo>/artifacts/logs`), kept after
//!   the test so `scripts/check-logs.sh` can check that no personal data was logged, and
//!   printed when start-up fails. It is SIGKILLed on drop.

use crate::pg::TestDatabase;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tempfile::TempDir;

/// Password of the bootstrap admin (`admin`).
pub const ADMIN_PASSWORD: &str = "admin-password-123";
/// Username of the bootstrap admin.
pub const ADMIN: &str = "admin";

/// Where test servers (and the app under test) write their logs:
/// `$SIPAS_ARTIFACTS/logs`, default `<repo>/artifacts/logs`. Created if missing.
pub fn log_dir() -> PathBuf {
    let base = std::env::var_os("SIPAS_ARTIFACTS")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("artifacts"));
    let dir = base.join("logs");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("creating the log directory {}: {e}", dir.display()));
    dir
}

/// How a test server is started.
#[derive(Debug, Clone)]
pub struct Options {
    /// `RUST_LOG` of the server (default `debug`: the log check sees everything the server
    /// would ever print at that level).
    pub rust_log: String,
    /// Extra command-line arguments, e.g. `--tls-cert`, `--tls-key`.
    pub args: Vec<String>,
    /// The PEM certificate test clients must trust to reach an HTTPS server (its
    /// self-signed certificate or CA); `fixture::client` applies it.
    pub client_root_pem: Option<Vec<u8>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rust_log: "debug".into(),
            args: Vec::new(),
            client_root_pem: None,
        }
    }
}

impl Options {
    /// The defaults with `RUST_LOG=info`, the server's production level (for benchmarks:
    /// debug logging of every request costs about half the throughput).
    pub fn info_logs() -> Options {
        Options {
            rust_log: "info".into(),
            ..Options::default()
        }
    }
}

/// The storage backend of a test server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file.
    Sqlite,
    /// A fresh PostgreSQL database.
    Postgres,
}

/// Path of the `sipas-server` binary, building it if it is missing.
pub fn server_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("SIPAS_SERVER_BIN") {
            return PathBuf::from(p);
        }
        let exe = std::env::current_exe().expect("path of the test executable");
        let mut dir = exe
            .parent()
            .expect("test executable has a directory")
            .to_path_buf();
        if dir.ends_with("deps") {
            dir.pop();
        }
        let bin = dir.join(format!("sipas-server{}", std::env::consts::EXE_SUFFIX));
        let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
        let root = crate::repo_root();
        let sources = ["crates/server", "crates/core", "crates/protocol", "schemas"]
            .iter()
            .filter_map(|d| newest_mtime(&root.join(d)))
            .max();
        let stale = match (built, sources) {
            (None, _) => true,
            (Some(b), Some(s)) => s > b,
            (Some(_), None) => false,
        };
        if stale {
            eprintln!("building sipas-server (missing or older than its sources)");
            let cargo = std::env::var("CARGO")
                .ok()
                .or(option_env!("CARGO").map(String::from))
                .unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "-p", "sipas-server"])
                .current_dir(&root)
                .status()
                .expect("running cargo build -p sipas-server");
            assert!(
                status.success() && bin.exists(),
                "could not build sipas-server; run `cargo build -p sipas-server` first"
            );
        }
        bin
    })
    .clone()
}

/// The newest modification time of any file under `dir`.
fn newest_mtime(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest_mtime(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// Where a test server keeps its data (shared by the servers of [`TestServer::start_many`]).
enum Data {
    Sqlite {
        path: PathBuf,
        _shared: Option<Arc<TempDir>>,
    },
    Postgres(Arc<TestDatabase>),
}

impl Data {
    fn database_arg(&self) -> String {
        match self {
            Data::Sqlite { path, .. } => path.display().to_string(),
            Data::Postgres(db) => db.url().to_string(),
        }
    }
}

/// A handle that can SIGKILL the server from another task or thread.
#[derive(Clone)]
pub struct Killer(Arc<Mutex<Option<Child>>>);

impl Killer {
    /// SIGKILLs the server (if running) and reaps it. Returns whether it was running.
    pub fn kill(&self) -> bool {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match guard.take() {
            Some(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
                true
            }
            None => false,
        }
    }
}

/// A running `sipas-server` process.
pub struct TestServer {
    child: Arc<Mutex<Option<Child>>>,
    /// Base URL, e.g. `http://127.0.0.1:41234` (changes on restart).
    pub url: String,
    /// Storage backend.
    pub backend: Backend,
    data: Data,
    dir: TempDir,
    starts: u32,
    /// `--listen` argument of the next start.
    listen: String,
    options: Options,
    /// Log file of every start, oldest first.
    logs: Vec<PathBuf>,
}

impl TestServer {
    /// Starts a server on a new, empty database; `None` when the backend is unavailable
    /// (PostgreSQL without `$SIPAS_TEST_DATABASE_URL`, outside CI).
    pub fn start(backend: Backend) -> Option<TestServer> {
        Self::start_with(backend, Options::default())
    }

    /// Like [`TestServer::start`], with other [`Options`].
    pub fn start_with(backend: Backend, options: Options) -> Option<TestServer> {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = match backend {
            Backend::Sqlite => Data::Sqlite {
                path: dir.path().join("server.db"),
                _shared: None,
            },
            Backend::Postgres => Data::Postgres(Arc::new(TestDatabase::create()?)),
        };
        let mut server = TestServer {
            child: Arc::new(Mutex::new(None)),
            url: String::new(),
            backend,
            data,
            dir,
            starts: 0,
            listen: "127.0.0.1:0".into(),
            options,
            logs: Vec::new(),
        };
        server.spawn();
        Some(server)
    }

    /// The `--database` argument (SQLite path or PostgreSQL URL).
    pub fn database(&self) -> String {
        self.data.database_arg()
    }

    /// The SQLite file, for SQLite servers.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.data {
            Data::Sqlite { path, .. } => Some(path),
            Data::Postgres(_) => None,
        }
    }

    /// The PEM certificate clients must trust (HTTPS servers started with one).
    pub fn client_root_pem(&self) -> Option<&[u8]> {
        self.options.client_root_pem.as_deref()
    }

    /// The log files (stderr and stdout) of every start of this server, oldest first.
    pub fn log_paths(&self) -> &[PathBuf] {
        &self.logs
    }

    /// Everything this server has logged so far, over all its starts.
    pub fn log_text(&self) -> String {
        self.logs
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A temporary directory living as long as the server (for device stores etc.).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A handle to SIGKILL the server from elsewhere.
    pub fn killer(&self) -> Killer {
        Killer(self.child.clone())
    }

    /// SIGKILLs the server now.
    pub fn kill(&self) {
        self.killer().kill();
    }

    /// Replaces the extra command-line arguments the next (re)start passes.
    pub fn set_args(&mut self, args: Vec<String>) {
        self.options.args = args;
    }

    /// Kills the server if it is running and starts it again on the same database (on a new
    /// port: see [`TestServer::url`]).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Kills the server if it is running and starts it again on the same database and the
    /// same address, as a server coming back after an outage does.
    pub fn restart_same_address(&mut self) {
        self.kill();
        self.listen = self
            .url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .to_string();
        self.spawn();
    }

    /// Starts `n` servers on one new, empty database at the same moment (every process is
    /// launched before any is waited for, so their start-ups — migrations, seeds, the
    /// bootstrap admin — race), as several processes behind a load balancer do (issue 14).
    /// The database lives until the last of them is dropped. `None` as for
    /// [`TestServer::start`].
    pub fn start_many(backend: Backend, n: usize, options: Options) -> Option<Vec<TestServer>> {
        let data = match backend {
            Backend::Sqlite => {
                let shared = Arc::new(tempfile::tempdir().expect("temp dir"));
                Data::Sqlite {
                    path: shared.path().join("server.db"),
                    _shared: Some(shared),
                }
            }
            Backend::Postgres => Data::Postgres(Arc::new(TestDatabase::create()?)),
        };
        let mut servers: Vec<TestServer> = (0..n)
            .map(|_| TestServer {
                child: Arc::new(Mutex::new(None)),
                url: String::new(),
                backend,
                data: match &data {
                    Data::Sqlite { path, _shared } => Data::Sqlite {
                        path: path.clone(),
                        _shared: _shared.clone(),
                    },
                    Data::Postgres(db) => Data::Postgres(db.clone()),
                },
                dir: tempfile::tempdir().expect("temp dir"),
                starts: 0,
                listen: "127.0.0.1:0".into(),
                options: options.clone(),
                logs: Vec::new(),
            })
            .collect();
        let launched: Vec<Launch> = servers.iter_mut().map(TestServer::launch).collect();
        for (server, launch) in servers.iter_mut().zip(launched) {
            server.finish(launch);
        }
        Some(servers)
    }

    fn spawn(&mut self) {
        let launch = self.launch();
        self.finish(launch);
    }

    /// Starts the process; [`TestServer::finish`] waits until it listens.
    fn launch(&mut self) -> Launch {
        self.starts += 1;
        // Named after the pid once it is known (renaming keeps the child's open handle).
        let starting = log_dir().join(format!(
            "server-starting-{}.log",
            uuid::Uuid::now_v7().simple()
        ));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&starting)
            .unwrap_or_else(|e| panic!("server log file {}: {e}", starting.display()));
        let mut child = Command::new(server_binary())
            .args(["--database", &self.database()])
            .args(["--listen", &self.listen, "--bootstrap-admin", ADMIN])
            .args(&self.options.args)
            .env("SIPAS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", &self.options.rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log.try_clone().expect("server log handle")))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", server_binary().display()));
        let log_path = log_dir().join(format!("server-{}.log", child.id()));
        std::fs::rename(&starting, &log_path).expect("naming the server log");
        self.logs.push(log_path.clone());
        let stdout = child.stdout.take().expect("server stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut log = log;
            let mut lines = BufReader::new(stdout).lines();
            let mut sent = false;
            // Every stdout line goes to the log too; keep draining so the server never
            // blocks on a full pipe.
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                let _ = writeln!(log, "{line}");
                if !sent && let Some(rest) = line.strip_prefix("sipas-server listening on ") {
                    let _ = tx.send(rest.trim().to_string());
                    sent = true;
                }
            }
        });
        Launch {
            child,
            rx,
            log_path,
        }
    }

    /// Waits until a launched process listens (panics with its log if it does not).
    fn finish(&mut self, launch: Launch) {
        let Launch {
            mut child,
            rx,
            log_path,
        } = launch;
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => {
                self.url = url;
                *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let mut text = String::new();
                if let Ok(mut f) = std::fs::File::open(&log_path) {
                    let _ = f.read_to_string(&mut text);
                }
                panic!(
                    "sipas-server did not report 'listening on' (database {:?} backend); log \
                     {}:\n{text}",
                    self.backend,
                    log_path.display()
                );
            }
        }
    }
}

/// A process launched, not yet listening.
struct Launch {
    child: Child,
    rx: mpsc::Receiver<String>,
    log_path: PathBuf,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // The server first; its PostgreSQL database (if any) is dropped with `data`.
        self.kill();
    }
}

/// Runs the async test function `$name(backend: Backend)` (it starts the real server binary)
/// once on SQLite and once on PostgreSQL, as the tests `$name::on_sqlite` and
/// `$name::on_postgres`. The calling crate needs tokio with its `macros` feature.
#[macro_export]
macro_rules! server_on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                super::$name($crate::server::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                super::$name($crate::server::Backend::Postgres).await;
            }
        }
    };
}
