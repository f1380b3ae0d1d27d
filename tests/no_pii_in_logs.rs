//! No personal data and no credential in any log line: the real `sipas-server` binary runs
//! the full field workflow (`sipas_testkit::workflow`) at `RUST_LOG=trace`, the most it can
//! print, on SQLite and on PostgreSQL; its captured stderr and stdout must hold none of the
//! fixture's names, addresses and phone numbers, no answer text, and no token, enrolment
//! code or password. (`scripts/check-logs.sh` checks every test's server logs the same way.)
use sipas_testkit::{fixture, server, workflow};

use fixture::PII_MARKERS;
use server::{Backend, Options, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_hold_no_personal_data_on_sqlite() {
    check(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_hold_no_personal_data_on_postgres() {
    check(Backend::Postgres).await;
}

async fn check(backend: Backend) {
    let options = Options {
        rust_log: "trace".into(),
        ..Options::default()
    };
    let Some(server) = TestServer::start_with(backend, options) else {
        return;
    };
    let w = workflow::full_workflow(&server, "2026-LOG-1").await;
    let log = server.log_text();
    // The log is really there, at trace level, and covers the workflow.
    assert!(log.contains("sipas-server listening on"), "{log}");
    assert!(
        log.contains("TRACE") && log.contains("DEBUG"),
        "not at trace level"
    );
    for event in [
        "device enrolled",
        "batch",
        "review decision",
        "spot-check findings",
    ] {
        assert!(log.contains(event), "no '{event}' line in the log");
    }

    let mut forbidden: Vec<String> = PII_MARKERS.iter().map(|s| s.to_string()).collect();
    forbidden.extend([
        fixture::contact_name(0),
        fixture::contact_address(1),
        fixture::contact_phone(2),
        // Free text typed into answers and reviews.
        "Thủ tục hành chính số".into(),
        "Người trả lời nói nhầm mức".into(),
        "Không gặp người trả lời".into(),
    ]);
    forbidden.extend(w.secrets());
    for path in server.log_paths() {
        let text = std::fs::read_to_string(path).unwrap();
        for (n, line) in text.lines().enumerate() {
            for f in &forbidden {
                assert!(
                    !line.contains(f.as_str()),
                    "{}:{}: holds {f:?}: {line}",
                    path.display(),
                    n + 1
                );
            }
        }
    }
    eprintln!(
        "{backend:?}: {} log lines checked for {} forbidden strings",
        log.lines().count(),
        forbidden.len()
    );
}
