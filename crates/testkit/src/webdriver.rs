//! Driving the real SIPAS Field window: Debian's `WebKitWebDriver` started on a free port with
//! `TAURI_WEBVIEW_AUTOMATION=true`, launching the debug binary through the
//! `webkitgtk:browserOptions` capability, and a few polling helpers on top of fantoccini.
//! (See shared/reference/TAURI-ON-THIS-MACHINE.md, section 4.) The app writes its own log to
//! `$SIPAS_ARTIFACTS/logs/app-<pid>-<n>.log` (`SIPAS_LOG_FILE`), which
//! `scripts/check-logs.sh` checks for personal data.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::ffi::OsString;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// Whether the real-window test can run here: needs an X display. Without one the test fails
/// in CI (`CI` set) and is skipped on a developer machine.
pub fn display_available(test: &str) -> bool {
    if std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty()) {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: DISPLAY is not set; run the tests under `xvfb-run -a` (see scripts/test.sh)"
    );
    eprintln!("{test}: skipped, no DISPLAY (run under `xvfb-run -a cargo test` to include it)");
    false
}

/// `target/<profile>/sipas-field`, found next to the test executable
/// (`target/<profile>/deps/app_window-…`).
pub fn app_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    let deps = exe.parent().expect("deps dir");
    let profile_dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("profile dir")
    } else {
        deps
    };
    let bin = profile_dir.join("sipas-field");
    assert!(
        bin.is_file(),
        "{} not found: run cargo build -p sipas-field first",
        bin.display()
    );
    bin
}

/// Where screenshots go: `$SIPAS_ARTIFACTS`, else `<repo>/artifacts`.
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("SIPAS_ARTIFACTS")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("artifacts"));
    std::fs::create_dir_all(&dir).expect("create artifacts dir");
    dir
}

/// A running `WebKitWebDriver`; killed (with any app it launched) on drop.
pub struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    /// Starts `WebKitWebDriver` on a free local port. `env` is added to its environment, which
    /// it passes on to the app it launches (e.g. `SIPAS_DB`), together with `SIPAS_LOG_FILE`
    /// ([`Driver::app_log`]).
    pub fn start(env: &[(&str, OsString)]) -> Driver {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let logs = artifacts_dir().join("logs");
        std::fs::create_dir_all(&logs).expect("create the log directory");
        let log = logs.join(format!(
            "app-{}-{}.log",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut cmd = Command::new("WebKitWebDriver");
        cmd.arg(format!("--port={port}"))
            .arg("--host=127.0.0.1")
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            .env("SIPAS_LOG_FILE", &log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start WebKitWebDriver ({e}); install webkit2gtk-driver (scripts/setup.sh)"
            )
        });
        let driver = Driver { child, port, log };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "WebKitWebDriver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    /// The log file of the apps this driver launches (it may not exist before they log).
    pub fn app_log(&self) -> &Path {
        &self.log
    }

    /// The app's log so far (empty if it has written nothing).
    pub fn app_log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Opens a session, which launches the app `binary` in a new window.
    pub async fn session(&self, binary: &Path) -> Client {
        let caps = json!({
            "webkitgtk:browserOptions": { "binary": binary.to_str().expect("utf-8 path"), "args": [] }
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("WebDriver session with the SIPAS Field window")
    }

    /// Process ids of apps this driver launched that are still running.
    pub fn app_pids(&self) -> Vec<u32> {
        let me = self.child.id();
        let mut out = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid ...
            let Some((head, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let comm = head.split_once('(').map_or("", |(_, c)| c);
            let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
            let state = rest.split_whitespace().next().unwrap_or("");
            if ppid == Some(me)
                && comm.starts_with("sipas-field")
                && state != "Z"
                && let Ok(pid) = entry.file_name().to_string_lossy().parse()
            {
                out.push(pid);
            }
        }
        out
    }

    /// Waits until every app this driver launched has exited.
    pub fn wait_apps_gone(&self) {
        let deadline = Instant::now() + WAIT;
        while !self.app_pids().is_empty() {
            assert!(
                Instant::now() < deadline,
                "the app did not exit after the session ended"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        for pid in self.app_pids() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls the JavaScript expression `expr` until it is truthy; panics with `what` on timeout.
pub async fn wait_js(c: &Client, expr: &str, what: &str) {
    let deadline = Instant::now() + WAIT;
    let script = format!("return !!({expr});");
    loop {
        match c.execute(&script, vec![]).await {
            Ok(Value::Bool(true)) => return,
            Ok(_) => {}
            Err(e) => eprintln!("wait_js({what}): {e}"),
        }
        if Instant::now() >= deadline {
            let page = c
                .execute(
                    "return `[${document.body.dataset.screen}] ` + document.body.innerText.slice(0, 3000);",
                    vec![],
                )
                .await
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .unwrap_or_else(|e| format!("(page text unavailable: {e})"));
            panic!("timed out waiting for {what} ({expr}); the page shows:\n{page}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The result of a JavaScript expression.
pub async fn js(c: &Client, expr: &str) -> Value {
    c.execute(&format!("return ({expr});"), vec![])
        .await
        .unwrap_or_else(|e| panic!("js {expr}: {e}"))
}

/// The element matching `css`, once it is present and visible.
pub async fn visible(c: &Client, css: &str) -> Element {
    let q = serde_json::to_string(css).expect("css");
    wait_js(
        c,
        &format!(
            "(()=>{{const e=document.querySelector({q});return e&&e.getClientRects().length>0;}})()"
        ),
        &format!("{css} visible"),
    )
    .await;
    c.find(Locator::Css(css)).await.expect(css)
}

/// Clicks the element matching `css` once it is visible.
pub async fn click(c: &Client, css: &str) {
    visible(c, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Waits until the text of `css` contains `needle`.
pub async fn wait_text(c: &Client, css: &str, needle: &str) {
    let q = serde_json::to_string(css).expect("css");
    let n = serde_json::to_string(needle).expect("needle");
    wait_js(
        c,
        &format!(
            "(()=>{{const e=document.querySelector({q});return e&&e.textContent.includes({n});}})()"
        ),
        &format!("{css} to contain {needle:?}"),
    )
    .await;
}

/// Saves a screenshot after two animation frames, so WebKitGTK has painted the current DOM
/// (a screenshot taken right after a change can show an older paint).
pub async fn screenshot(c: &Client, path: &Path) {
    c.execute_async(
        "const done = arguments[arguments.length - 1];
         requestAnimationFrame(() => requestAnimationFrame(() => done(null)));",
        vec![],
    )
    .await
    .expect("two animation frames");
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(path, png).expect("write screenshot");
}
