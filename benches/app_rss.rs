//! Memory of the running SIPAS Field app (not a test): resident set (VmRSS) and its anonymous
//! part (RssAnon: heaps, the JavaScript heap; memory nobody else shares) of the app process
//! and of each WebKit process it starts, from /proc/<pid>/status. The sum of VmRSS counts the
//! libraries the processes share (WebKitGTK, GTK) up to three times; the sum of RssAnon
//! leaves file pages out: the memory the app really takes lies between the two. (Pss and
//! USS are not used: they move with whatever else on the machine maps the same libraries,
//! e.g. `WebKitWebDriver` itself or other WebKit test runs.) Readings are taken
//!
//! 1. at its first screen (`document.body.dataset.ready`; the PIN screen `#screen-unlock`
//!    when there is one, which is then answered, and then again on the interview list),
//! 2. after filling one `sipas-6-groups@2026.1` interview through the real window (the required
//!    answers, 9 steps, up to the review screen without issues),
//! 3. after submitting it,
//!
//! each after the page has been idle for `SIPAS_SETTLE_MS` (default 3,000 ms), in
//! `SIPAS_RSS_RUNS` runs (default 3, each on a fresh database); the medians are printed.
//!
//! The window is driven with WebDriver (Debian's `WebKitWebDriver`, crates/testkit/src/webdriver.rs),
//! so WebKit runs with automation enabled. Needs an X display; run it through
//! `bash scripts/measure-app.sh`, which starts Xvfb and passes the binary to measure in
//! `SIPAS_APP_BIN` (default: `target/release/sipas-field`).
use sipas_testkit::webdriver;

use fantoccini::Client;
use fantoccini::key::Key;
use std::path::PathBuf;
use std::time::Duration;
use webdriver::{Driver, app_binary, click, js, visible, wait_js, wait_text};

/// PIN given to the unlock screen, if the app shows one.
const PIN: &str = "246810";

fn main() {
    if std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty()) {
        println!("app_rss: skipped, no DISPLAY (run bash scripts/measure-app.sh)");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run());
}

async fn run() {
    let binary = std::env::var_os("SIPAS_APP_BIN")
        .filter(|b| !b.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(app_binary);
    let env_num = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let settle = Duration::from_millis(env_num("SIPAS_SETTLE_MS", 3_000));
    let runs = env_num("SIPAS_RSS_RUNS", 3).max(1) as usize;
    println!(
        "binary: {}; {runs} runs, each reading {} ms after the last action",
        binary.display(),
        settle.as_millis()
    );
    let mut all: Vec<Vec<(String, Vec<Proc>)>> = Vec::new();
    for run in 1..=runs {
        let readings = one_interview(&binary, settle).await;
        let totals: Vec<String> = readings
            .iter()
            .map(|(_, tree)| mib(tree.iter().map(|p| p.rss_kib).sum()))
            .collect();
        println!("  run {run}: total VmRSS (MiB) at each reading: {totals:?}");
        all.push(readings);
    }

    println!();
    println!("median of {runs} runs, MiB, VmRSS / RssAnon");
    println!(
        "{:<34} {:>16} {:>18} {:>22} {:>16}",
        "", "sipas-field", "WebKitWebProcess", "WebKitNetworkProcess", "all processes"
    );
    let others: std::collections::BTreeSet<&str> = all
        .iter()
        .flatten()
        .flat_map(|(_, tree)| tree.iter().map(|p| p.comm.as_str()))
        .filter(|c| !KNOWN.iter().any(|k| c.starts_with(k)))
        .collect();
    for (j, (what, _)) in all[0].iter().enumerate() {
        let cell = |prefix: Option<&str>| {
            let pick = |tree: &[Proc]| {
                tree.iter()
                    .filter(|p| prefix.is_none_or(|k| p.comm.starts_with(k)))
                    .fold((0, 0), |(r, a), p| (r + p.rss_kib, a + p.anon_kib))
            };
            let rss = median(all.iter().map(|r| pick(&r[j].1).0).collect());
            let anon = median(all.iter().map(|r| pick(&r[j].1).1).collect());
            format!("{} / {}", mib(rss), mib(anon))
        };
        println!(
            "{what:<34} {:>16} {:>18} {:>22} {:>16}",
            cell(Some(KNOWN[0])),
            cell(Some(KNOWN[1])),
            cell(Some(KNOWN[2])),
            cell(None),
        );
    }
    if !others.is_empty() {
        println!("(also counted in \"all processes\": {others:?})");
    }
}

/// Process names (`comm`, 15 characters at most) of the app and its WebKit processes.
const KNOWN: [&str; 3] = ["sipas-field", "WebKitWebProces", "WebKitNetworkPr"];

/// Launches the app on a fresh database through WebDriver, fills one interview and submits
/// it, reading the app's processes at each stage.
async fn one_interview(binary: &std::path::Path, settle: Duration) -> Vec<(String, Vec<Proc>)> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("app.db");
    let driver = Driver::start(&[("SIPAS_DB", db.into_os_string())]);

    let c = driver.session(binary).await;
    wait_js(&c, "document.body.dataset.ready === 'true'", "app started").await;
    let pids = driver.app_pids();
    assert_eq!(pids.len(), 1, "one app process: {pids:?}");
    let pid = pids[0];

    let mut readings = Vec::new();
    // Either the interview list or a PIN screen comes first.
    wait_js(
        &c,
        &format!("{ASSIGNMENTS_VISIBLE} || {UNLOCK_VISIBLE}"),
        "first screen",
    )
    .await;
    let screen = js(&c, "document.body.dataset.screen || ''").await;
    readings.push((
        format!("first screen ({})", screen.as_str().unwrap_or("?")),
        read_after(pid, settle).await,
    ));
    if unlock_if_asked(&c).await {
        wait_js(&c, ASSIGNMENTS_VISIBLE, "interview list after the PIN").await;
        readings.push((
            "interview list (after the PIN)".to_string(),
            read_after(pid, settle).await,
        ));
    }
    wait_js(&c, ASSIGNMENTS_VISIBLE, "interview list").await;

    start_free_interview(&c).await;
    fill_required(&c).await;
    wait_js(
        &c,
        "document.getElementById('review-summary').dataset.issues === '0'",
        "review without issues",
    )
    .await;
    readings.push((
        "after filling one form (review)".to_string(),
        read_after(pid, settle).await,
    ));
    click(&c, "#submit").await;
    visible(&c, "#screen-done").await;
    readings.push((
        "after submitting it".to_string(),
        read_after(pid, settle).await,
    ));
    c.close().await.expect("end the session (closes the app)");
    driver.wait_apps_gone();
    readings
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// The interview list is on screen.
const ASSIGNMENTS_VISIBLE: &str = "(()=>{const e=document.getElementById('screen-assignments');\
     return !!e && !e.hidden && e.getClientRects().length>0;})()";

/// The PIN screen (ui/index.html `#screen-unlock`) is on screen.
const UNLOCK_VISIBLE: &str = "(()=>{const e=document.getElementById('screen-unlock');\
     return !!e && !e.hidden && e.getClientRects().length>0;})()";

/// If the PIN screen is showing, types the PIN (and, on a first start, its confirmation) and
/// submits it, then waits until the app is unlocked. Returns whether there was one.
async fn unlock_if_asked(c: &Client) -> bool {
    if js(c, UNLOCK_VISIBLE).await != serde_json::Value::Bool(true) {
        return false;
    }
    let pin = visible(c, "#unlock-pin").await;
    pin.clear().await.expect("clear");
    pin.send_keys(PIN).await.expect("type the PIN");
    if js(c, "!document.getElementById('unlock-confirm-field').hidden").await
        == serde_json::Value::Bool(true)
    {
        let confirm = visible(c, "#unlock-confirm").await;
        confirm.clear().await.expect("clear");
        confirm.send_keys(PIN).await.expect("type the PIN again");
    }
    click(c, "#unlock-submit").await;
    wait_js(
        c,
        "document.body.dataset.locked === 'false' && document.body.dataset.ready === 'true'",
        "app unlocked",
    )
    .await;
    true
}

async fn start_free_interview(c: &Client) {
    js(c, "(document.getElementById('free-interview').open = true)").await;
    js(
        c,
        "(document.getElementById('free-form').value = 'sipas-6-groups@2026.1')",
    )
    .await;
    click(c, "#start-free").await;
}

// ---- the steps of tests/app_window.rs (its helpers are private to that test), each click
// checked and every step saved before moving on

async fn type_answer(c: &Client, code: &str, text: &str) {
    let input = visible(c, &format!("#q-{code}")).await;
    input.clear().await.expect("clear");
    input
        .send_keys(&format!("{text}{}", char::from(Key::Tab)))
        .await
        .expect("type");
}

async fn choose(c: &Client, code: &str, value: &str) {
    let id = format!("q-{code}-{value}");
    let checked = format!("document.getElementById('{id}').checked");
    click_until(c, &format!("label[for=\"{id}\"]"), &checked).await;
}

async fn rate(c: &Client, code: &str, value: i64) {
    let checked = format!(
        "(document.querySelector('[data-item=\"{code}\"] [aria-checked=\"true\"]')||{{}}).dataset?.value === '{value}'"
    );
    click_until(
        c,
        &format!("[data-item=\"{code}\"] button[data-value=\"{value}\"]"),
        &checked,
    )
    .await;
}

/// Clicks `css` until `done` holds (3 tries, 2 s each). Once in 7 interviews a click on the
/// label of B8 was lost (B8 unanswered at review; cause not found, possibly the layout moving
/// under the click while an earlier save re-rendered the step): a lost click is now retried
/// and reported here rather than failing the run at the review.
async fn click_until(c: &Client, css: &str, done: &str) {
    for attempt in 1..=3 {
        click(c, css).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while std::time::Instant::now() < deadline {
            if js(c, done).await == serde_json::Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!("app_rss: click on {css} had no effect (attempt {attempt}), clicking again");
    }
    panic!("clicking {css} never gave {done}");
}

async fn saved(c: &Client) {
    wait_js(
        c,
        "document.getElementById('save-state').dataset.state === 'saved'",
        "answers saved",
    )
    .await;
}

async fn on_step(c: &Client, group: &str, indicator: &str) {
    visible(c, &format!("[data-step=\"{group}\"]")).await;
    wait_text(c, "#step-indicator", indicator).await;
}

async fn next(c: &Client, group: &str, indicator: &str) {
    saved(c).await;
    click(c, "#next").await;
    on_step(c, group, indicator).await;
}

/// The required answers of sipas-6-groups (B8 = "khong", so 9 steps), from step A to the
/// review screen.
async fn fill_required(c: &Client) {
    on_step(c, "A", "Bước 1/9").await;
    choose(c, "A1", "nam").await;
    type_answer(c, "A2", "45").await;
    next(c, "B", "Bước 2/9").await;
    type_answer(c, "B1", "Cấp giấy khai sinh").await;
    choose(c, "B8", "khong").await;
    let steps: [(&str, &str, &[&str]); 5] = [
        ("G1", "Bước 3/9", &["G1_1", "G1_2", "G1_3", "G1_4", "G1_5"]),
        ("G2", "Bước 4/9", &["G2_1", "G2_2", "G2_3", "G2_4"]),
        ("G3", "Bước 5/9", &["G3_1", "G3_2", "G3_3", "G3_4", "G3_5"]),
        ("G4", "Bước 6/9", &["G4_1", "G4_2", "G4_3", "G4_4"]),
        ("G6", "Bước 7/9", &["G6_1"]),
    ];
    for (group, indicator, items) in steps {
        next(c, group, indicator).await;
        for code in items {
            rate(c, code, 4).await;
        }
    }
    next(c, "E", "Bước 8/9").await;
    choose(c, "E1", "khong_co").await;
    next(c, "F", "Bước 9/9").await;
    type_answer(c, "F1", "Cán bộ nhiệt tình.").await;
    saved(c).await;
    click(c, "#next").await;
    visible(c, "#screen-review").await;
}

// ---- /proc

/// One process of the app's tree.
struct Proc {
    comm: String,
    rss_kib: u64,
    anon_kib: u64,
}

/// Waits `settle`, then reads the app process and all its descendants.
async fn read_after(pid: u32, settle: Duration) -> Vec<Proc> {
    tokio::time::sleep(settle).await;
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        if let Some(proc) = read_proc(p) {
            out.push(proc);
        }
        todo.extend(children(p));
    }
    assert!(!out.is_empty(), "app process {pid} not found");
    out
}

fn read_proc(pid: u32) -> Option<Proc> {
    let dir = PathBuf::from(format!("/proc/{pid}"));
    let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
    let field = |text: &str, name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let status = std::fs::read_to_string(dir.join("status")).ok()?;
    Some(Proc {
        comm: comm.trim().to_string(),
        rss_kib: field(&status, "VmRSS:"),
        anon_kib: field(&status, "RssAnon:"),
    })
}

fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}
