//! Shared by the scale benchmarks (`benches/*.rs`): the runs asked for in the environment,
//! the repeat count, the client runtime, medians and a process's peak RSS.
use crate::server::Backend;

/// The (backend, size) pairs to run: sizes from `SIPAS_BENCH_SIZES` (comma-separated,
/// `default_sizes` when unset), backends from `SIPAS_BENCH_BACKENDS` (default
/// `sqlite,postgres`), SQLite first.
pub fn runs(default_sizes: &str) -> Vec<(Backend, usize)> {
    let sizes: Vec<usize> = std::env::var("SIPAS_BENCH_SIZES")
        .unwrap_or_else(|_| default_sizes.to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let backends =
        std::env::var("SIPAS_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    [Backend::Sqlite, Backend::Postgres]
        .into_iter()
        .filter(|b| backends.contains(&format!("{b:?}").to_lowercase()))
        .flat_map(|b| sizes.iter().map(move |&n| (b, n)))
        .collect()
}

/// The median of `v` (the upper one of an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[v.len() / 2]
}

/// Peak resident memory (`VmHWM`, MiB) of process `pid`; 0 when it cannot be read.
pub fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// Requests per endpoint: `SIPAS_BENCH_REPEAT` (default 3).
pub fn repeat() -> usize {
    std::env::var("SIPAS_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// The benchmarks' client runtime: two worker threads, as many as the machine's cores (the
/// server under test runs its own).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}
