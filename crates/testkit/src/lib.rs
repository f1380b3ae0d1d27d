//! Shared test support of SIPAS Field, used as a dev-dependency by the integration tests in
//! `tests/`, the benchmarks in `benches/` and the server's own tests in `crates/server/tests`:
//!
//! * [`server`]: runs the real `sipas-server` binary on SQLite or PostgreSQL;
//! * [`fixture`]: seeds a test server over HTTP and reads back what it stored;
//! * [`workflow`]: one full field workflow touching every kind of state change;
//! * [`raw_http`]: a minimal HTTP/1.1 client showing everything `ApiClient` hides;
//! * [`counting_proxy`]: a loopback proxy recording every request's path and bytes;
//! * [`reply`]: one request through the server's axum router in-process, and its reply;
//! * [`webdriver`]: drives the real SIPAS Field window through `WebKitWebDriver`;
//! * [`database`]: an empty SQLite or PostgreSQL database for in-process stores, and
//!   [`on_both_backends!`] to run a test on each;
//! * [`pg`]: the one PostgreSQL helper (admin URL from `$SIPAS_TEST_DATABASE_URL`, a fresh
//!   database per test, dropped afterwards).

pub mod bench;
pub mod counting_proxy;
pub mod database;
pub mod fixture;
pub mod pg;
pub mod raw_http;
pub mod reply;
pub mod server;
pub mod webdriver;
pub mod workflow;

use std::path::{Path, PathBuf};

/// The repository's root directory (two levels above this crate's manifest).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/testkit lies two levels below the repository root")
        .to_path_buf()
}
