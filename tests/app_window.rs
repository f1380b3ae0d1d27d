//! End-to-end test of the real SIPAS Field window (debug binary, WebKitGTK, WebDriver):
//! a walk-in interview (a round that takes them, pulled once, then offline) of
//! `sipas-6-groups` filled through the UI, with a range error,
//! skip logic, the app closed mid-form and reopened on the same step, then review, submit and
//! the Sync screen. Every session starts on the Unlock screen: the PIN is created on the first
//! run and entered after each restart (a wrong one keeps the app locked). Finally the
//! encrypted store file is checked directly, with the PIN, and raw (no plain personal data).
//!
//! Needs an X display (`xvfb-run -a cargo test`), `WebKitWebDriver` (Debian package
//! webkit2gtk-driver) and `cargo build -p sipas-field` first.
use sipas_testkit::{fixture, server, webdriver};

#[path = "support/app_steps.rs"]
mod app_steps;
use app_steps::{
    app_ready, next, on_step, rating_checked, saved, set_input, sync_now, type_answer, type_into,
    unlocked,
};

use fantoccini::Client;
use serde_json::Value;
use server::{Backend, Options, TestServer};
use sipas_core::response::Origin;
use sipas_store::Store;
use std::path::Path;
use std::time::Instant;
use webdriver::{
    Driver, app_binary, artifacts_dir, click, display_available, js, screenshot, visible, wait_js,
    wait_text,
};

/// Clicks WebKitWebDriver lost (seen about once in 16 runs) and sent again, in the current
/// scenario; printed (and appended to `<artifacts>/click-retries.txt`) when the scenario
/// ends ([`WindowTurn`]).
static CLICK_RETRIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The answer to `code` stored in the open draft (the most recently saved one), once no save
/// is in progress.
async fn stored_answer(c: &Client, code: &str) -> Value {
    wait_js(
        c,
        "document.getElementById('save-state').dataset.state !== 'saving'",
        "no save in progress",
    )
    .await;
    let code = serde_json::to_string(code).expect("json");
    c.execute_async(
        &format!(
            "const done = arguments[arguments.length - 1];
             const inv = window.__TAURI__.core.invoke;
             inv('list_drafts')
               .then((ds) => inv('get_draft', {{ draft_id: ds[0].id }}))
               .then((d) => done(d.answers[{code}] ?? null), (e) => done('error: ' + e));"
        ),
        vec![],
    )
    .await
    .expect("read the stored answer")
}

/// Whether a stored answer holds `want` (the value itself, or one of a multi-choice's).
fn answer_holds(stored: &Value, want: &Value) -> bool {
    stored == want || stored.as_array().is_some_and(|a| a.contains(want))
}

/// After `retries` lost clicks on item `code`, the page shows the answer: it must also be
/// what the app saved. If the page registered the click but the app did not save it, the
/// app (not the driver) dropped the click, and the test fails.
async fn check_retried_click(c: &Client, code: &str, want: Value, retries: usize) {
    if retries == 0 {
        return;
    }
    CLICK_RETRIES.fetch_add(retries, std::sync::atomic::Ordering::Relaxed);
    eprintln!("click on {code} lost by the driver, sent again ({retries}x)");
    let stored = stored_answer(c, code).await;
    assert!(
        answer_holds(&stored, &want),
        "the page shows {code} = {want} after {retries} repeated clicks, but the app saved \
         {stored}: the app, not the driver, dropped the click"
    );
}

/// Chooses an option of a single- or multi-choice item by clicking its label.
async fn choose(c: &Client, code: &str, value: &str) {
    let checked = format!("document.getElementById('q-{code}-{value}')?.checked === true");
    // WebKitWebDriver very rarely loses a click: check that the choice registered and click
    // again if not (counted, and then the saved answer is checked too).
    for retries in 0..3 {
        click(c, &format!("label[for=\"q-{code}-{value}\"]")).await;
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        if js(c, &checked).await == Value::Bool(true) {
            check_retried_click(c, code, Value::from(value), retries).await;
            return;
        }
    }
    wait_js(c, &checked, "the choice is registered").await;
    check_retried_click(c, code, Value::from(value), 3).await;
}

/// Presses a rating button.
async fn rate(c: &Client, code: &str, value: i64) {
    let expected = Value::from(value.to_string());
    for retries in 0..3 {
        click(
            c,
            &format!("[data-item=\"{code}\"] button[data-value=\"{value}\"]"),
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if rating_checked(c, code).await == expected {
            check_retried_click(c, code, Value::from(value), retries).await;
            return;
        }
    }
    assert_eq!(
        rating_checked(c, code).await,
        expected,
        "rating {code} registered"
    );
    check_retried_click(c, code, Value::from(value), 3).await;
}

/// The PIN the tests create. It must never appear in the app's log.
const PIN: &str = "246813";
/// The PIN the first scenario changes it to.
const NEW_PIN: &str = "Mã 135790";

/// The error the Rust side gives a command while the app is locked (`"allowed"` if it ran).
async fn command_while_locked(c: &Client) -> String {
    c.execute_async(
        "const done = arguments[arguments.length - 1];
         window.__TAURI__.core.invoke('list_drafts').then(() => done('allowed'), (e) => done(e && e.message_vi ? e.message_vi : String(e)));",
        vec![],
    )
    .await
    .expect("invoke list_drafts")
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// First run: the "Tạo mã PIN" screen. With `checks`, a too short PIN and two different
/// PINs are refused first, in Vietnamese; `shot` saves the screen.
async fn create_pin(c: &Client, checks: bool, shot: Option<&Path>) {
    visible(c, "#screen-unlock").await;
    wait_text(c, "#unlock-h", "Tạo mã PIN").await;
    if checks {
        assert_eq!(
            js(
                c,
                "getComputedStyle(document.querySelector('.main-nav')).display"
            )
            .await,
            Value::from("none"),
            "no navigation while locked"
        );
        assert!(command_while_locked(c).await.contains("Ứng dụng đang khóa"));
        type_into(c, "unlock-pin", "12345").await;
        type_into(c, "unlock-confirm", "12345").await;
        click(c, "#unlock-submit").await;
        wait_text(
            c,
            "#unlock-error",
            "Mã PIN phải có ít nhất 6 chữ số hoặc ký tự",
        )
        .await;
        type_into(c, "unlock-pin", PIN).await;
        type_into(c, "unlock-confirm", "246831").await;
        click(c, "#unlock-submit").await;
        wait_text(c, "#unlock-error", "Hai lần nhập mã PIN không khớp").await;
        if let Some(shot) = shot {
            screenshot(c, shot).await;
        }
    }
    type_into(c, "unlock-pin", PIN).await;
    type_into(c, "unlock-confirm", PIN).await;
    click(c, "#unlock-submit").await;
    unlocked(c).await;
}

/// A later run: the "Nhập mã PIN" screen (one field), unlocked with `pin`.
async fn enter_pin(c: &Client, pin: &str) {
    visible(c, "#screen-unlock").await;
    wait_text(c, "#unlock-h", "Nhập mã PIN").await;
    assert_eq!(
        js(c, "document.getElementById('unlock-confirm-field').hidden").await,
        Value::Bool(true)
    );
    type_into(c, "unlock-pin", pin).await;
    click(c, "#unlock-submit").await;
}

/// A wrong PIN is refused and the app stays locked (the commands too).
async fn wrong_pin_stays_locked(c: &Client, shot: Option<&Path>) {
    enter_pin(c, "999999").await;
    wait_text(c, "#unlock-error", "Mã PIN không đúng").await;
    assert_eq!(
        js(c, "document.body.dataset.locked").await,
        Value::from("true")
    );
    visible(c, "#screen-unlock").await;
    assert!(command_while_locked(c).await.contains("Ứng dụng đang khóa"));
    if let Some(shot) = shot {
        screenshot(c, shot).await;
    }
}

/// The bytes of the store file and its write-ahead log.
fn raw_store_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).expect("read the store file");
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The app's log says `expected` and holds no PIN and no fixture personal data.
fn check_app_log(driver: &Driver, expected: &[&str], secrets: &[&str]) {
    let log = driver.app_log_text();
    for line in expected {
        assert!(log.contains(line), "app log lacks {line:?}:\n{log}");
    }
    for secret in secrets.iter().chain(&[PIN]).chain(&fixture::PII_MARKERS) {
        assert!(
            !log.contains(secret),
            "the app log holds a secret or personal data"
        );
    }
}

/// One real window at a time: the tests share two cores with the rest of the suite.
static WINDOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A scenario's turn at the window: counts the clicks the driver lost from zero and prints
/// the count when the scenario ends (also when it fails).
struct WindowTurn {
    _guard: tokio::sync::MutexGuard<'static, ()>,
    scenario: &'static str,
}

/// Waits for the window ([`WINDOW`]) and starts counting click retries for `scenario`.
async fn one_window(scenario: &'static str) -> WindowTurn {
    let guard = WINDOW.lock().await;
    CLICK_RETRIES.store(0, std::sync::atomic::Ordering::Relaxed);
    WindowTurn {
        _guard: guard,
        scenario,
    }
}

impl Drop for WindowTurn {
    fn drop(&mut self) {
        use std::io::Write;
        let line = format!(
            "{}: click retries (clicks the driver lost): {}",
            self.scenario,
            CLICK_RETRIES.load(std::sync::atomic::Ordering::Relaxed)
        );
        eprintln!("{line}");
        // Also kept in the artifacts, as test output is hidden for passing tests.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(artifacts_dir().join("click-retries.txt"))
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// At phone width (360 px) nothing scrolls sideways and every visible control is a 44 px
/// touch target; saves a screenshot, then restores the window.
async fn phone_width_check(c: &Client, shot: &std::path::Path) {
    let (w, h) = c.get_window_size().await.expect("window size");
    c.set_window_size(360, 740).await.expect("resize to 360 px");
    wait_js(c, "window.innerWidth <= 360", "360 px viewport").await;
    assert_eq!(
        js(
            c,
            "document.documentElement.scrollWidth <= window.innerWidth"
        )
        .await,
        Value::Bool(true),
        "horizontal overflow at 360 px"
    );
    let small = js(
        c,
        "[...document.querySelectorAll('button, input, select, textarea, label.choice')]
           .filter(e => e.getClientRects().length && !e.closest('[hidden]'))
           .filter(e => { const r = e.getBoundingClientRect(); return r.height < 44 || r.width < 44; })
           .filter(e => !(e.type === 'radio' || e.type === 'checkbox'))
           .map(e => e.id || e.textContent.trim().slice(0, 30))",
    )
    .await;
    assert_eq!(small, serde_json::json!([]), "touch targets under 44 px");
    screenshot(c, shot).await;
    c.set_window_size(w as u32, h as u32)
        .await
        .expect("restore window size");
}

async fn count(c: &Client, css: &str) -> usize {
    let q = serde_json::to_string(css).expect("css");
    js(c, &format!("document.querySelectorAll({q}).length"))
        .await
        .as_u64()
        .map_or(0, |n| n as usize)
}

/// Answers only what sipas-6-groups requires (B8 = "khong", so 9 steps), from step A to the
/// review screen.
async fn fill_required(c: &Client) {
    on_step(c, "A", "Bước 1/9").await;
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
    next(c, "F", "Bước 9/9").await;
    saved(c).await;
    click(c, "#next").await;
    visible(c, "#screen-review").await;
}

/// Review without issues, submit, and open the Sync screen, where exactly `waiting_after`
/// records wait (this response and any field outcome not yet sent).
async fn submit_and_open_sync(c: &Client, waiting_after: usize) {
    wait_js(
        c,
        "document.getElementById('review-summary').dataset.issues === '0'",
        "review without issues",
    )
    .await;
    click(c, "#submit").await;
    visible(c, "#screen-done").await;
    click(c, "#done-sync").await;
    waiting(c, waiting_after).await;
}

/// Waits until exactly `n` records wait to be sent: the Sync screen says "`n` bản ghi chờ
/// đồng bộ" and, on an enrolled device, the header badge "`n` phiếu chờ gửi" (both count the
/// responses and the field outcomes not yet sent).
async fn waiting(c: &Client, n: usize) {
    wait_js(
        c,
        &format!(
            "(()=>{{const p=document.getElementById('sync-pending');
               const b=document.getElementById('net-badge');
               const page=p.dataset.pending==='{n}'&&p.textContent.startsWith('{n} bản ghi chờ đồng bộ');
               const badge=document.body.dataset.enrolled!=='true'
                 ||(b.dataset.waiting==='{n}'&&document.getElementById('net-waiting').textContent==='{n} phiếu chờ gửi');
               return page&&badge;}})()"
        ),
        &format!("exactly {n} waiting to be sent (Sync screen and badge)"),
    )
    .await;
}

#[tokio::test]
async fn interview_survives_restart_and_is_queued_for_sync() {
    if !display_available("app_window") {
        return;
    }
    let _one_window = one_window("interview_survives_restart_and_is_queued_for_sync").await;
    let started = Instant::now();
    let binary = app_binary();
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("app.db");
    let shots = artifacts_dir();
    // A round that takes walk-ins, with no assignment for this surveyor.
    let server = TestServer::start(Backend::Sqlite).expect("SQLite test server");
    let people = fixture::seed_people(&server).await;
    fixture::seed_walk_in_round(&people, "2026-HN-MOTCUA").await;
    let code = fixture::enrolment_code(&people).await;
    let driver = Driver::start(&[("SIPAS_DB", db.clone().into_os_string())]);

    // ---- first run: before any sync only a practice interview is offered
    let c = driver.session(&binary).await;
    app_ready(&c).await;
    create_pin(&c, true, Some(&shots.join("app-unlock-create.png"))).await;
    visible(&c, "#screen-assignments").await;
    // With no assignments on the device the free interview panel is open.
    wait_js(
        &c,
        "document.getElementById('free-interview').open",
        "free interview panel open",
    )
    .await;
    wait_js(
        &c,
        "document.getElementById('free-kind-walk_in').disabled \
         && document.getElementById('free-kind-practice').checked \
         && !document.getElementById('free-none').hidden",
        "only a practice interview before the round is known",
    )
    .await;
    // ---- enrol and pull the round, then go offline
    click(&c, "[data-nav=\"sync\"]").await;
    click(&c, "#open-enrol").await;
    set_input(&c, "enrol-url", &server.url).await;
    set_input(&c, "enrol-code", &code).await;
    click(&c, "#enrol-submit").await;
    wait_text(&c, "#sync-enrolment", "đã đăng ký").await;
    sync_now(&c).await;
    server.kill();
    click(&c, "[data-nav=\"assignments\"]").await;
    // Walk-ins are offered for that round (replacements are not); the unit is chosen by name.
    wait_js(
        &c,
        "!document.getElementById('free-kind-walk_in').disabled \
         && document.getElementById('free-kind-replacement').closest('label').hidden",
        "walk-ins offered, replacements not",
    )
    .await;
    click(&c, "#free-kind-walk_in").await;
    wait_js(
        &c,
        &format!(
            "document.getElementById('free-unit').selectedOptions[0].textContent === '{}' \
             && document.getElementById('free-unit').value === '{}' \
             && document.getElementById('free-form-field').hidden",
            fixture::UNIT_NAME,
            fixture::UNIT_CODE
        ),
        "the unit is listed by name",
    )
    .await;
    click(&c, "#start-free").await;
    // G5 is asked only when B8 = "co"; B8 is not answered yet, so 9 steps.
    on_step(&c, "A", "Bước 1/9").await;

    choose(&c, "A1", "nam").await;
    type_answer(&c, "A2", "17").await;
    wait_text(
        &c,
        "[data-issue-for=\"A2\"]",
        "Người trả lời phải từ 18 tuổi trở lên",
    )
    .await;
    wait_js(
        &c,
        "document.getElementById('save-state').dataset.state === 'invalid'",
        "17 refused",
    )
    .await;
    type_answer(&c, "A2", "30").await;
    saved(&c).await;
    wait_js(
        &c,
        "document.querySelector('[data-issue-for=\"A2\"]').hidden",
        "range message gone",
    )
    .await;
    // "Khác (ghi rõ)" reveals A3_other; choosing Kinh hides it again.
    choose(&c, "A3", "khac").await;
    visible(&c, "[data-item=\"A3_other\"]").await;
    choose(&c, "A3", "kinh").await;
    wait_js(
        &c,
        "document.querySelector('[data-item=\"A3_other\"]').hidden",
        "A3_other hidden",
    )
    .await;
    saved(&c).await;

    next(&c, "B", "Bước 2/9").await;
    type_answer(&c, "B1", "Đăng ký khai sinh").await;
    choose(&c, "B8", "co").await;
    saved(&c).await;
    wait_text(&c, "#step-indicator", "Bước 2/10").await;
    // Skip logic: no feedback given (B8 = khong) → group G5 is not a step any more.
    choose(&c, "B8", "khong").await;
    saved(&c).await;
    wait_text(&c, "#step-indicator", "Bước 2/9").await;

    next(&c, "G1", "Bước 3/9").await;
    for code in ["G1_1", "G1_2", "G1_3", "G1_4", "G1_5"] {
        rate(&c, code, 4).await;
    }
    saved(&c).await;
    next(&c, "G2", "Bước 4/9").await;
    rate(&c, "G2_1", 5).await;
    rate(&c, "G2_2", 3).await;
    saved(&c).await;
    screenshot(&c, &shots.join("app-form.png")).await;
    phone_width_check(&c, &shots.join("app-form-360.png")).await;

    // ---- close the app mid-form, then start it again on the same file
    c.close().await.expect("end the session (closes the app)");
    driver.wait_apps_gone();
    let c = driver.session(&binary).await;
    app_ready(&c).await;
    wrong_pin_stays_locked(&c, Some(&shots.join("app-unlock-wrong.png"))).await;
    enter_pin(&c, PIN).await;
    unlocked(&c).await;
    on_step(&c, "G2", "Bước 4/9").await;
    assert_eq!(rating_checked(&c, "G2_1").await, Value::from("5"));
    assert_eq!(rating_checked(&c, "G2_2").await, Value::from("3"));
    assert_eq!(rating_checked(&c, "G2_3").await, Value::Null);
    // Earlier steps kept their answers too.
    click(&c, "#prev").await;
    on_step(&c, "G1", "Bước 3/9").await;
    assert_eq!(rating_checked(&c, "G1_5").await, Value::from("4"));
    click(&c, "#prev").await;
    on_step(&c, "B", "Bước 2/9").await;
    assert_eq!(
        js(&c, "document.getElementById('q-B8-khong').checked").await,
        Value::Bool(true)
    );
    click(&c, "#prev").await;
    on_step(&c, "A", "Bước 1/9").await;
    assert_eq!(
        js(&c, "document.getElementById('q-A2').value").await,
        Value::from("30")
    );
    next(&c, "B", "Bước 2/9").await;
    next(&c, "G1", "Bước 3/9").await;
    next(&c, "G2", "Bước 4/9").await;

    // ---- finish the questionnaire
    rate(&c, "G2_3", 4).await;
    rate(&c, "G2_4", 4).await;
    next(&c, "G3", "Bước 5/9").await;
    for code in ["G3_1", "G3_2", "G3_3", "G3_4", "G3_5"] {
        rate(&c, code, 5).await;
    }
    next(&c, "G4", "Bước 6/9").await;
    for code in ["G4_1", "G4_2", "G4_3", "G4_4"] {
        rate(&c, code, 4).await;
    }
    next(&c, "G6", "Bước 7/9").await; // G5 skipped
    rate(&c, "G6_1", 9).await; // "Không trả lời"
    next(&c, "E", "Bước 8/9").await;
    choose(&c, "E1", "thong_tin").await;
    choose(&c, "E1", "khong_co").await; // exclusive: unticks the other option
    assert_eq!(
        js(&c, "document.getElementById('q-E1-thong_tin').checked").await,
        Value::Bool(false)
    );
    next(&c, "F", "Bước 9/9").await;
    type_answer(&c, "F1", "Cán bộ nhiệt tình.").await;
    saved(&c).await;

    // ---- review (also in English) and submit
    click(&c, "#next").await;
    visible(&c, "#screen-review").await;
    click(&c, "#lang-toggle").await;
    wait_text(&c, "#review-h", "Review before submitting").await;
    wait_text(&c, "#submit", "Submit").await;
    click(&c, "#lang-toggle").await;
    wait_text(&c, "#review-h", "Xem lại trước khi nộp").await;
    wait_js(
        &c,
        "document.getElementById('review-summary').dataset.issues === '0'",
        "review without issues",
    )
    .await;
    click(&c, "#submit").await;
    visible(&c, "#screen-done").await;
    click(&c, "#done-sync").await;
    waiting(&c, 1).await;
    screenshot(&c, &shots.join("app-sync.png")).await;

    // ---- "Khóa" closes the store and returns to the Unlock screen; the PIN opens it again
    click(&c, "#lock-btn").await;
    app_ready(&c).await;
    visible(&c, "#screen-unlock").await;
    assert!(
        command_while_locked(&c)
            .await
            .contains("Ứng dụng đang khóa")
    );
    enter_pin(&c, PIN).await;
    unlocked(&c).await;
    visible(&c, "#screen-assignments").await;

    // ---- change the PIN (Sync screen): the current one is checked, the data stays
    click(&c, "[data-nav=\"sync\"]").await;
    click(&c, "#open-pin").await;
    type_into(&c, "pin-old", "999999").await;
    type_into(&c, "pin-new", NEW_PIN).await;
    type_into(&c, "pin-confirm", NEW_PIN).await;
    click(&c, "#pin-submit").await;
    wait_text(&c, "#pin-error", "Mã PIN không đúng").await;
    type_into(&c, "pin-old", PIN).await;
    type_into(&c, "pin-new", NEW_PIN).await;
    type_into(&c, "pin-confirm", NEW_PIN).await;
    click(&c, "#pin-submit").await;
    wait_text(&c, "#pin-status", "Đã đổi mã PIN").await;
    click(&c, "#lock-btn").await;
    visible(&c, "#screen-unlock").await;
    enter_pin(&c, PIN).await;
    wait_text(&c, "#unlock-error", "Mã PIN không đúng").await;
    enter_pin(&c, NEW_PIN).await;
    unlocked(&c).await;
    click(&c, "[data-nav=\"sync\"]").await;
    waiting(&c, 1).await;
    c.close().await.expect("end the session");
    driver.wait_apps_gone();
    check_app_log(
        &driver,
        &[
            "new encrypted store created and unlocked",
            "unlock failed: wrong PIN",
            "store unlocked",
            "sipas-field: locked",
            "PIN change failed: wrong PIN",
            "PIN changed",
        ],
        &["Đăng ký khai sinh", "Cán bộ nhiệt tình", NEW_PIN, "135790"],
    );
    drop(driver);

    // ---- the file is encrypted: no answer in its bytes, and SQLite cannot read it
    let raw = raw_store_bytes(&db);
    assert!(!raw.starts_with(b"SQLite format 3"), "plain SQLite header");
    for text in ["Đăng ký khai sinh", "Cán bộ nhiệt tình"] {
        assert!(!contains(&raw, text), "answer text in the raw store file");
    }
    assert!(Store::open(&db).is_err(), "opened without the PIN");

    // ---- with the (new) PIN: one response and one pending upload, and no draft
    assert!(
        Store::open_encrypted(&db, PIN).is_err(),
        "the old PIN still opens it"
    );
    let store = Store::open_encrypted(&db, NEW_PIN).expect("open app.db with the PIN");
    let counts = store.outbox_counts().expect("outbox counts");
    assert_eq!(
        (
            counts.pending,
            counts.in_flight,
            counts.acked,
            counts.rejected
        ),
        (1, 0, 0, 0)
    );
    assert!(store.list_drafts().expect("drafts").is_empty());
    let responses = store.list_responses().expect("responses");
    assert_eq!(responses.len(), 1);
    let answers = serde_json::to_value(&responses[0].response.answers).expect("answers json");
    assert_eq!(answers["A2"], Value::from(30));
    assert_eq!(answers["B1"], Value::from("Đăng ký khai sinh"));
    assert_eq!(answers["E1"], serde_json::json!(["khong_co"]));
    assert_eq!(answers["G6_1"], Value::from(9));
    assert!(answers.get("G5_1").is_none(), "G5 was skipped");
    let r = &responses[0].response;
    assert_eq!(
        (r.origin, r.assignment_id, r.unit_code.as_str()),
        (Origin::WalkIn, None, fixture::UNIT_CODE),
        "a walk-in of the pulled round's unit"
    );
    eprintln!(
        "app_window: passed in {:.1} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
}

/// A walk-in interview started from the app in a round that takes them (unit chosen by
/// name) reaches the server, which creates its assignment and counts it apart.
#[tokio::test]
async fn walk_in_from_the_app_is_synced_and_counted_apart() {
    if !display_available("app_window") {
        return;
    }
    let _one_window = WINDOW.lock().await;
    let binary = app_binary();
    let server = TestServer::start(Backend::Sqlite).expect("SQLite test server");
    let people = fixture::seed_people(&server).await;
    let round = "2026-HN-WALKIN";
    fixture::seed_walk_in_round(&people, round).await;
    let code = fixture::enrolment_code(&people).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("app.db");
    let driver = Driver::start(&[("SIPAS_DB", db.clone().into_os_string())]);
    let c = driver.session(&binary).await;
    app_ready(&c).await;
    create_pin(&c, false, None).await;
    click(&c, "[data-nav=\"sync\"]").await;
    click(&c, "#open-enrol").await;
    set_input(&c, "enrol-url", &server.url).await;
    set_input(&c, "enrol-code", &code).await;
    click(&c, "#enrol-submit").await;
    wait_text(&c, "#sync-enrolment", "đã đăng ký").await;
    sync_now(&c).await;
    click(&c, "[data-nav=\"assignments\"]").await;
    js(
        &c,
        "(document.getElementById('free-interview').open = true)",
    )
    .await;
    click(&c, "#free-kind-walk_in").await;
    wait_js(
        &c,
        &format!(
            "document.getElementById('free-unit').selectedOptions[0].textContent === '{}'",
            fixture::UNIT_NAME
        ),
        "the unit is listed by name",
    )
    .await;
    click(&c, "#start-free").await;
    wait_text(&c, "#form-meta", "Một cửa").await;
    fill_required(&c).await;
    submit_and_open_sync(&c, 1).await;
    sync_now(&c).await;
    wait_js(
        &c,
        "document.getElementById('sync-pending').dataset.pending === '0'",
        "nothing left to send",
    )
    .await;
    c.close().await.expect("end the session");
    driver.wait_apps_gone();
    // Issue 10: `{round_id, by, total, rows: [{key = unit code, ...}]}`.
    let by_unit: Value = people
        .supervisor
        .get_json(&format!("/rounds/{round}/progress?by=unit"))
        .await
        .expect("progress by unit");
    let unit = by_unit["rows"]
        .as_array()
        .expect("rows in progress by unit")
        .iter()
        .find(|u| u["key"] == fixture::UNIT_CODE)
        .expect("the unit in progress");
    assert_eq!(
        (
            unit["synced"].as_u64(),
            unit["walk_in"].as_u64(),
            unit["assigned"].as_u64()
        ),
        (Some(1), Some(1), Some(0)),
        "{unit}"
    );
    assert_eq!(fixture::index_respondents(&people, round).await, 1);
}

/// Enrolment with a real `sipas-server`, pulling assignments, recording a non-response
/// outcome, interviewing an assignment, syncing it, and correcting it after the supervisor
/// sends it back (revision 2 reaches the server).
#[tokio::test]
async fn enrol_sync_and_correct_a_rejected_response() {
    if !display_available("app_window") {
        return;
    }
    let _one_window = one_window("enrol_sync_and_correct_a_rejected_response").await;
    let started = Instant::now();
    let binary = app_binary();
    let shots = artifacts_dir();
    // HTTPS with a self-signed certificate, which the surveyor pastes at enrolment.
    let certs = tempfile::tempdir().expect("tempdir");
    let (cert, key, pem) = self_signed(certs.path());
    let server = TestServer::start_with(
        Backend::Sqlite,
        Options {
            args: vec!["--tls-cert".into(), cert, "--tls-key".into(), key],
            client_root_pem: Some(pem.clone().into_bytes()),
            ..Options::default()
        },
    )
    .expect("SQLite test server");
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let people = fixture::seed_people(&server).await;
    let round = "2026-HN-E2E";
    let ids = fixture::seed_round(&people, round, 2).await;
    let code = fixture::enrolment_code(&people).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("app.db");
    let driver = Driver::start(&[("SIPAS_DB", db.clone().into_os_string())]);
    let c = driver.session(&binary).await;
    app_ready(&c).await;
    create_pin(&c, false, None).await;
    wait_text(&c, "#assignments-status", "Chưa có danh sách phỏng vấn").await;

    // ---- enrol with the one-time code, then pull the assignments. The server's certificate
    // is self-signed: without it, or with something else pasted, enrolment fails.
    click(&c, "[data-nav=\"sync\"]").await;
    wait_text(&c, "#sync-enrolment", "chưa đăng ký").await;
    click(&c, "#open-enrol").await;
    set_input(&c, "enrol-url", &server.url).await;
    set_input(&c, "enrol-code", &code).await;
    click(&c, "#enrol-submit").await;
    wait_text(&c, "#enrol-result", "Không xác minh được máy chủ").await;
    set_input(&c, "enrol-cert", "không phải chứng chỉ").await;
    click(&c, "#enrol-submit").await;
    wait_text(&c, "#enrol-result", "Chứng chỉ máy chủ không dùng được").await;
    set_input(&c, "enrol-cert", &pem).await;
    screenshot(&c, &shots.join("app-enrol-certificate.png")).await;
    click(&c, "#enrol-submit").await;
    wait_text(&c, "#sync-enrolment", "đã đăng ký").await;
    wait_text(&c, "#sync-enrolment", "chứng chỉ máy chủ").await;
    sync_now(&c).await;
    click(&c, "[data-nav=\"assignments\"]").await;
    wait_js(
        &c,
        "document.querySelectorAll('[data-assignment]').length === 2",
        "2 assignments pulled",
    )
    .await;
    // Search without accents finds the respondent by name.
    set_input(&c, "search", "bao mat 1").await;
    wait_js(
        &c,
        "document.querySelectorAll('[data-assignment]').length === 1",
        "search narrows to 1",
    )
    .await;
    set_input(&c, "search", "").await;
    wait_js(
        &c,
        "document.querySelectorAll('[data-assignment]').length === 2",
        "search cleared",
    )
    .await;

    // ---- a non-response outcome with a note
    let (absent, interviewed) = (ids[0], ids[1]);
    let card = |id: uuid::Uuid| format!("[data-assignment=\"{id}\"]");
    click(&c, &format!("{} [data-action=\"outcome\"]", card(absent))).await;
    click(&c, &format!("label[for=\"out-{absent}-absent\"]")).await;
    set_input(&c, &format!("note-{absent}"), "Hẹn quay lại chiều mai").await;
    click(
        &c,
        &format!("{} form.outcome button[type=\"submit\"]", card(absent)),
    )
    .await;
    // The default filter shows only unfinished assignments; "all" shows the outcome.
    wait_js(
        &c,
        "document.querySelectorAll('[data-assignment]').length === 1",
        "absent one leaves the open list",
    )
    .await;
    js(
        &c,
        "(()=>{const s=document.getElementById('status-filter');s.value='';s.dispatchEvent(new Event('change'));return true;})()",
    )
    .await;
    visible(&c, &format!("{}[data-status=\"absent\"]", card(absent))).await;
    wait_text(&c, &card(absent), "Hẹn quay lại chiều mai").await;
    screenshot(&c, &shots.join("app-assignments.png")).await;

    // ---- interview the other assignment, submit and sync it
    click(
        &c,
        &format!("{} [data-action=\"start\"]", card(interviewed)),
    )
    .await;
    wait_text(&c, "#form-meta", round).await;
    fill_required(&c).await;
    // The response and the "absent" outcome above.
    submit_and_open_sync(&c, 2).await;
    sync_now(&c).await;
    wait_text(&c, "#sync-pending", "Không có bản ghi nào chờ đồng bộ").await;
    let on_server = fixture::server_records(&server, round);
    assert_eq!(on_server.len(), 1, "{on_server:?}");
    let (response_id, revision, _) = on_server.iter().next().cloned().expect("one record");
    assert_eq!(revision, 1);
    assert_eq!(count(&c, "[data-assignment]").await, 2);

    // ---- the supervisor sends it back; the correction becomes revision 2
    let _: serde_json::Value = people
        .supervisor
        .post_json(
            &format!("/responses/{response_id}/1/decision"),
            &serde_json::json!({
                "decision": "rejected",
                "comment": "Hỏi lại câu G2_1",
                "item_comments": { "G2_1": "Người trả lời nói nhầm mức" }
            }),
        )
        .await
        .expect("supervisor rejects");
    sync_now(&c).await;
    click(&c, "[data-nav=\"responses\"]").await;
    let rcard = format!("[data-response=\"{response_id}\"]");
    visible(&c, &format!("{rcard}[data-status=\"rejected\"]")).await;
    wait_text(&c, &rcard, "Người trả lời nói nhầm mức").await;
    wait_text(&c, &rcard, "Hỏi lại câu G2_1").await;
    screenshot(&c, &shots.join("app-rejected.png")).await;
    click(&c, &format!("{rcard} [data-action=\"reopen\"] button")).await;
    on_step(&c, "G2", "Bước 4/9").await; // opens at the commented question
    assert_eq!(rating_checked(&c, "G2_1").await, Value::from("4"));
    rate(&c, "G2_1", 2).await;
    saved(&c).await;
    click(&c, "#to-review").await;
    visible(&c, "#screen-review").await;
    submit_and_open_sync(&c, 1).await;
    sync_now(&c).await;
    wait_text(&c, "#sync-pending", "Không có bản ghi nào chờ đồng bộ").await;
    let revisions: Vec<u32> = fixture::server_records(&server, round)
        .into_iter()
        .filter(|(id, _, _)| *id == response_id)
        .map(|(_, rev, _)| rev)
        .collect();
    assert_eq!(revisions, vec![1, 2]);
    click(&c, "[data-nav=\"responses\"]").await;
    visible(&c, &format!("{rcard}[data-status=\"synced\"]")).await;
    wait_text(&c, &rcard, "Bản 2").await;
    c.close().await.expect("end the session");
    driver.wait_apps_gone();

    // ---- the respondents' contacts are on the device, but only encrypted
    let raw = raw_store_bytes(&db);
    for i in 0..2 {
        for pii in [
            fixture::contact_name(i),
            fixture::contact_address(i),
            fixture::contact_phone(i),
        ] {
            assert!(!contains(&raw, &pii), "contact data in the raw store file");
        }
    }
    let store = Store::open_encrypted(&db, PIN).expect("open app.db with the PIN");
    let contact = store
        .get_contact(interviewed)
        .expect("read contact")
        .expect("contact kept during the spot-check window");
    assert!(
        [fixture::contact_name(0), fixture::contact_name(1)]
            .contains(contact.respondent_name.as_ref().expect("name")),
        "the contact is readable with the PIN"
    );
    drop(store);
    let enrolment =
        std::fs::read_to_string(tmp.path().join("app.enrolment.json")).expect("enrolment file");
    let token = serde_json::from_str::<Value>(&enrolment).expect("enrolment json")["token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("app.server-cert.pem")).expect("saved cert"),
        pem.trim()
    );
    check_app_log(
        &driver,
        &[
            "enrolment failed: server certificate not trusted",
            "enrolled (server certificate given: true, pinned: false)",
            "sync ok: sent 1, acked 1",
            "contacts purged 0",
        ],
        &[&token, &code],
    );
    eprintln!(
        "app_window (sync): passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// What the two offline scenarios share when they part ways: the app enrolled and unlocked,
/// restarted after an offline submit, with the response still queued and the server down.
struct OfflineQueued {
    _window: WindowTurn,
    started: Instant,
    server: TestServer,
    people: fixture::People,
    round: &'static str,
    code: String,
    tmp: tempfile::TempDir,
    db: std::path::PathBuf,
    driver: Driver,
    c: Client,
}

/// Enrol against a real local server, pull the assignment, lose the server, fill and submit
/// the six-group form offline, restart the app (locked: no sync until the PIN) and find the
/// response still queued.
async fn offline_response_queued_after_restart(scenario: &'static str) -> OfflineQueued {
    let window = one_window(scenario).await;
    let started = Instant::now();
    let binary = app_binary();
    let server = TestServer::start(Backend::Sqlite).expect("SQLite test server");
    let people = fixture::seed_people(&server).await;
    let round = "2026-HN-OFFLINE";
    let ids = fixture::seed_round(&people, round, 1).await;
    let code = fixture::enrolment_code(&people).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("app.db");
    let driver = Driver::start(&[
        ("SIPAS_DB", db.clone().into_os_string()),
        ("SIPAS_AUTO_SYNC_SECS", "2".into()),
        // Hand-over files go here (the app's hand-over folder; a USB stick in the field).
        (
            "SIPAS_HANDOVER_DIR",
            tmp.path().join("usb").into_os_string(),
        ),
    ]);

    // ---- online: enrol and pull the assignment
    let c = driver.session(&binary).await;
    app_ready(&c).await;
    create_pin(&c, false, None).await;
    click(&c, "[data-nav=\"sync\"]").await;
    click(&c, "#open-enrol").await;
    set_input(&c, "enrol-url", &server.url).await;
    set_input(&c, "enrol-code", &code).await;
    click(&c, "#enrol-submit").await;
    wait_text(&c, "#sync-enrolment", "đã đăng ký").await;
    sync_now(&c).await;

    // ---- offline: the server is gone; interview and submit anyway
    server.kill();
    click(&c, "[data-nav=\"assignments\"]").await;
    let card = format!("[data-assignment=\"{}\"]", ids[0]);
    click(&c, &format!("{card} [data-action=\"start\"]")).await;
    wait_text(&c, "#form-meta", round).await;
    fill_required(&c).await;
    submit_and_open_sync(&c, 1).await;
    // The automatic sync fails and says so; the record stays queued.
    wait_js(
        &c,
        "document.getElementById('sync-last-error').textContent.trim().length > 0 \
         && !/Không có/.test(document.getElementById('sync-last-error').textContent)",
        "the failed automatic sync is shown as the last error",
    )
    .await;
    waiting(&c, 1).await;
    c.close().await.expect("end the session (closes the app)");
    driver.wait_apps_gone();
    // The store is read only while the app is closed: with the current sipas-store, another
    // process opening the file while the app has it open is not safe (see state.rs,
    // `claim_instance`).
    let queued = Store::open_encrypted(&db, PIN)
        .expect("open app db with the PIN")
        .outbox_counts()
        .expect("count outbox")
        .pending;
    assert_eq!(queued, 1, "one response waits in the outbox");

    // ---- the app restarts, still offline: locked until the PIN (no automatic sync runs
    // while it is locked), then the response is still queued
    let c = driver.session(&binary).await;
    app_ready(&c).await;
    let failed_syncs = driver.app_log_text().matches("sync failed").count();
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(
        driver.app_log_text().matches("sync failed").count(),
        failed_syncs,
        "no sync while locked"
    );
    enter_pin(&c, PIN).await;
    unlocked(&c).await;
    click(&c, "[data-nav=\"sync\"]").await;
    waiting(&c, 1).await;
    screenshot(&c, &artifacts_dir().join("app-sync-offline.png")).await;
    OfflineQueued {
        _window: window,
        started,
        server,
        people,
        round,
        code,
        tmp,
        db,
        driver,
        c,
    }
}

/// The offline story of the issue: enrol against a real local server, pull the assignment,
/// lose the server, fill and submit the six-group form offline, restart the app and find the
/// response still queued, bring the server back on the same address, and watch the app's
/// automatic sync deliver it and the server's index count it.
#[tokio::test]
async fn offline_submit_survives_restart_and_syncs_when_the_server_returns() {
    if !display_available("app_window") {
        return;
    }
    let OfflineQueued {
        _window,
        started,
        mut server,
        people,
        round,
        code,
        tmp: _tmp,
        db: _,
        driver,
        c,
    } = offline_response_queued_after_restart(
        "offline_submit_survives_restart_and_syncs_when_the_server_returns",
    )
    .await;

    // ---- the server comes back: automatic sync delivers it, the index counts it
    server.restart_same_address();
    wait_text(&c, "#sync-pending", "Không có bản ghi nào chờ đồng bộ").await;
    assert_eq!(fixture::server_records(&server, round).len(), 1);
    assert_eq!(fixture::index_respondents(&people, round).await, 1);
    c.close().await.expect("end the session");
    check_app_log(&driver, &["sync failed: ", "sync ok: sent 1"], &[&code]);
    eprintln!(
        "offline scenario finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Offline hand-over by file: enrol, pull, lose the server, submit offline, restart the app and
/// find the response still queued, export a signed hand-over file, have the supervisor import it on the
/// server and apply the reply file through the Sync screen, then bring the server back on the
/// same address and watch the app's automatic sync resume with nothing left to send.
#[tokio::test]
async fn offline_hand_over_file_is_imported_by_the_supervisor_and_applied_on_the_device() {
    if !display_available("app_window") {
        return;
    }
    let OfflineQueued {
        _window,
        started,
        mut server,
        people,
        round,
        code,
        tmp,
        db,
        driver,
        c,
    } = offline_response_queued_after_restart(
        "offline_hand_over_file_is_imported_by_the_supervisor_and_applied_on_the_device",
    )
    .await;

    // ---- still offline for the device: export a signed hand-over file from the Sync screen
    let handover_dir = tmp.path().join("usb");
    // The folder in use is shown; another one is picked with the system's folder dialog
    // ("Chọn thư mục…": a native dialog WebDriver cannot drive), never typed.
    wait_text(&c, "#handover-choose", "Chọn thư mục…").await;
    wait_text(&c, "#handover-where", &handover_dir.to_string_lossy()).await;
    assert_eq!(
        js(&c, "document.body.dataset.handoverFolder").await,
        Value::from("default")
    );
    assert_eq!(
        js(&c, "document.getElementById('handover-default').hidden").await,
        Value::Bool(true)
    );
    click(&c, "#handover-export").await;
    wait_text(
        &c,
        "#handover-export-result",
        "Đã lưu 1 phiếu vào tệp ban-giao-",
    )
    .await;
    waiting(&c, 1).await;
    let files: Vec<_> = std::fs::read_dir(&handover_dir)
        .expect("list the hand-over folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = std::fs::read(&files[0]).expect("read the hand-over file");
    let enrolment: Value = serde_json::from_slice(
        &std::fs::read(db.with_extension("enrolment.json")).expect("enrolment file"),
    )
    .expect("enrolment json");
    let secret_key = enrolment["signing_key"]
        .as_str()
        .expect("the enrolment keeps the signing key")
        .to_string();
    let device_id: uuid::Uuid =
        serde_json::from_value(enrolment["device_id"].clone()).expect("device id");
    let identity = sipas_sync::DeviceIdentity::load(device_id, &secret_key).expect("key");
    let signed = sipas_protocol::handover::verify_batch(&file, &identity.public_key_base64())
        .expect("the hand-over file verifies with the device's key");
    assert_eq!(signed.records.len(), 1);

    // ---- the supervisor imports it on the server (up again on another address, so the
    // device's automatic sync still fails) and brings back the reply file
    let device_url = server.url.clone();
    server.restart();
    let mut supervisor = fixture::client(&server);
    supervisor
        .login("giamsat1", fixture::SUPERVISOR_PASSWORD)
        .await
        .expect("supervisor login");
    let reply: Value = supervisor
        .post_bytes("/handover", "application/json", file)
        .await
        .expect("import the hand-over file");
    let statuses: Vec<&str> = reply["acks"]
        .as_array()
        .expect("acks")
        .iter()
        .map(|a| a["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["accepted"], "{reply}");
    assert_eq!(fixture::server_records(&server, round).len(), 1);
    let reply_path = handover_dir.join("ket-qua.json");
    std::fs::write(&reply_path, serde_json::to_vec(&reply).expect("reply json")).expect("reply");
    // The result file is chosen with the system's file picker (a file input).
    c.find(fantoccini::Locator::Id("handover-reply-file"))
        .await
        .expect("the result file input")
        .send_keys(&reply_path.to_string_lossy())
        .await
        .expect("choose the result file");
    click(&c, "#handover-apply").await;
    wait_text(
        &c,
        "#handover-apply-result",
        "1 câu trả lời được máy chủ xác nhận",
    )
    .await;
    wait_text(&c, "#sync-pending", "Không có bản ghi nào chờ đồng bộ").await;

    // ---- the server comes back on the device's address: automatic sync works again, has
    // nothing left to send, and the index counts the response once
    server.url = device_url;
    server.restart_same_address();
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    while !driver.app_log_text().contains("sync ok: sent 0") {
        assert!(
            Instant::now() < deadline,
            "no automatic sync after the server returned"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(fixture::server_records(&server, round).len(), 1);
    assert_eq!(fixture::index_respondents(&people, round).await, 1);
    c.close().await.expect("end the session");
    check_app_log(
        &driver,
        &[
            "sync failed: ",
            "hand-over export: 1 records in 1 files",
            "hand-over result applied: acked 1,",
            "sync ok: sent 0",
        ],
        &[&code, &secret_key],
    );
    eprintln!(
        "offline scenario finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Enrols the app (PIN already created) with `server` using `code`, then syncs once.
async fn enrol_and_sync(c: &Client, server: &TestServer, code: &str) {
    click(c, "[data-nav=\"sync\"]").await;
    click(c, "#open-enrol").await;
    set_input(c, "enrol-url", &server.url).await;
    set_input(c, "enrol-code", code).await;
    click(c, "#enrol-submit").await;
    wait_text(c, "#sync-enrolment", "đã đăng ký").await;
    sync_now(c).await;
}

/// The visible text of the page.
async fn page_text(c: &Client) -> String {
    js(c, "document.body.innerText")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The click check of [`choose`] tells the driver's lost clicks from the app's: the first
/// click on A1 "nu" is swallowed before the page sees it (as when the driver loses it) and the
/// app is made deaf to A1. The retried click registers on the page, the saved answer does not
/// change, so `choose` fails the test.
async fn click_dropped_by_the_app_fails(c: &Client) {
    // The page still ticks the option, but the app never hears of it (its change and input
    // listeners are cut off for A1), so nothing is saved.
    let patched = js(
        c,
        "(() => {
           const deaf = (e) => { if (e.target.closest && e.target.closest('[data-item=\"A1\"]')) e.stopImmediatePropagation(); };
           window.__sipasDeaf = deaf;
           window.addEventListener('change', deaf, true);
           window.addEventListener('input', deaf, true);
           const label = document.querySelector('label[for=\"q-A1-nu\"]');
           label.addEventListener('click', (e) => e.preventDefault(), { once: true, capture: true });
           return !!label;
         })()",
    )
    .await;
    assert_eq!(patched, Value::Bool(true), "A1 \"nu\" is on the page");
    let before = CLICK_RETRIES.load(std::sync::atomic::Ordering::Relaxed);
    let c2 = c.clone();
    eprintln!("checking the click check: the failure printed next is expected");
    let outcome = tokio::spawn(async move { choose(&c2, "A1", "nu").await }).await;
    js(
        c,
        "(() => { window.removeEventListener('change', window.__sipasDeaf, true);
                  window.removeEventListener('input', window.__sipasDeaf, true); return true; })()",
    )
    .await;
    // The simulated loss is not one of the driver's.
    CLICK_RETRIES.store(before, std::sync::atomic::Ordering::Relaxed);
    let panic = outcome
        .expect_err("a click the app dropped must fail the test")
        .into_panic();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("the app, not the driver, dropped the click"),
        "{message}"
    );
}

/// Reassignment reaches the device: the surveyor's app pulls two assignments (contacts shown)
/// and starts an interview on one; the supervisor moves that one to another surveyor; after
/// the next sync the app lists it as "Đã chuyển cho người khác" without contact, keeps the
/// draft (it opens read-only), and the contact is gone from the device: not in the
/// encrypted file's bytes and not in the decrypted table (opened with the PIN).
#[tokio::test]
async fn reassigned_interview_loses_its_contact_on_the_device() {
    if !display_available("app_window") {
        return;
    }
    let _one_window = one_window("reassigned_interview_loses_its_contact_on_the_device").await;
    let started = Instant::now();
    let binary = app_binary();
    let server = TestServer::start(Backend::Sqlite).expect("SQLite test server");
    let people = fixture::seed_people(&server).await;
    let round = "2026-HN-MOVE";
    let ids = fixture::seed_round(&people, round, 2).await;
    let other: sipas_protocol::wire::UserInfo = people
        .admin
        .post_json(
            "/users",
            &serde_json::json!({
                "username": "dtv2", "display_name": "Điều tra viên 2",
                "role": "surveyor", "password": null,
            }),
        )
        .await
        .expect("create the second surveyor");
    let code = fixture::enrolment_code(&people).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("app.db");
    let driver = Driver::start(&[("SIPAS_DB", db.clone().into_os_string())]);
    let c = driver.session(&binary).await;
    app_ready(&c).await;
    create_pin(&c, false, None).await;
    enrol_and_sync(&c, &server, &code).await;

    let (moved, kept) = (ids[0], ids[1]);
    let card = |id: uuid::Uuid| format!("[data-assignment=\"{id}\"]");
    click(&c, "[data-nav=\"assignments\"]").await;
    wait_text(&c, &card(moved), &fixture::contact_name(0)).await;
    wait_text(&c, &card(kept), &fixture::contact_name(1)).await;
    // An interview started on the assignment about to move.
    click(&c, &format!("{} [data-action=\"start\"]", card(moved))).await;
    wait_text(&c, "#form-meta", round).await;
    click_dropped_by_the_app_fails(&c).await;
    type_answer(&c, "A2", "45").await;
    saved(&c).await;
    click(&c, "[data-nav=\"assignments\"]").await;
    visible(&c, "#drafts-block [data-draft] button").await;

    // The supervisor moves it to the other surveyor; the next sync withdraws it.
    let _: Value = people
        .supervisor
        .post_json(
            &format!("/rounds/{round}/assign"),
            &serde_json::json!({ "assignment_ids": [moved], "surveyor_id": other.id }),
        )
        .await
        .expect("move the assignment");
    click(&c, "[data-nav=\"sync\"]").await;
    sync_now(&c).await;
    click(&c, "[data-nav=\"assignments\"]").await;
    wait_js(
        &c,
        &format!(
            "document.querySelector('{}')?.dataset.withdrawn === 'true'",
            card(moved)
        ),
        "the moved assignment is shown as withdrawn",
    )
    .await;
    wait_text(&c, &card(moved), "Đã chuyển cho người khác").await;
    let text = page_text(&c).await;
    for gone in [
        fixture::contact_name(0),
        fixture::contact_address(0),
        fixture::contact_phone(0),
    ] {
        assert!(!text.contains(&gone), "{gone} still on screen:\n{text}");
    }
    assert!(text.contains(&fixture::contact_name(1)), "{text}");
    assert_eq!(
        count(&c, &format!("{} button", card(moved))).await,
        0,
        "no interview or outcome on a withdrawn assignment"
    );
    wait_text(
        &c,
        "#drafts-block [data-withdrawn=\"true\"]",
        "không sửa được",
    )
    .await;
    // The draft opens read-only: its answer shown, nothing editable.
    click(&c, "#drafts-block [data-withdrawn=\"true\"] button").await;
    visible(&c, "#form-readonly").await;
    wait_js(
        &c,
        "document.getElementById('q-A2').value === '45' && document.getElementById('q-A2').disabled",
        "the withdrawn draft's answer, read-only",
    )
    .await;
    assert_eq!(
        count(
            &c,
            "#step-container input:not([disabled]), #step-container button:not([disabled])"
        )
        .await,
        0
    );
    click(&c, "#leave-form").await;
    visible(&c, "#screen-assignments").await;
    screenshot(&c, &artifacts_dir().join("app-assignment-withdrawn.png")).await;
    c.close().await.expect("end the session (closes the app)");
    driver.wait_apps_gone();

    // The device file: no plain contact at all (encrypted), and the decrypted table has no
    // row for the moved assignment while the other keeps its contact.
    let raw = raw_store_bytes(&db);
    for i in 0..2 {
        for secret in [
            fixture::contact_name(i),
            fixture::contact_address(i),
            fixture::contact_phone(i),
        ] {
            assert!(!contains(&raw, &secret), "plain contact data in the file");
        }
    }
    let store = Store::open_encrypted(&db, PIN).expect("open app db with the PIN");
    assert_eq!(store.get_contact(moved).expect("contact"), None);
    assert_eq!(
        store
            .get_contact(kept)
            .expect("contact")
            .and_then(|c| c.respondent_name),
        Some(fixture::contact_name(1))
    );
    assert!(store.withdrawn_assignments().unwrap().contains(&moved));
    let drafts = store.list_drafts().expect("drafts");
    assert_eq!(drafts.len(), 1, "the draft is kept");
    assert_eq!(drafts[0].assignment_id, Some(moved));
    drop(store);
    check_app_log(&driver, &["1 withdrawn"], &[&code]);
    eprintln!(
        "reassignment scenario finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Revocation: the surveyor enrols and pulls, interviews one respondent, and the supervisor
/// revokes the device through the real endpoint. The next sync says "Thiết bị đã bị thu hồi"
/// with what to do (no server text, no status code), automatic sync stops trying, and the
/// signed hand-over export still writes a valid file holding the unsynced response.
#[tokio::test]
async fn revoked_device_is_told_and_still_hands_over_its_answers() {
    if !display_available("app_window") {
        return;
    }
    let _one_window = one_window("revoked_device_is_told_and_still_hands_over_its_answers").await;
    let started = Instant::now();
    let binary = app_binary();
    let server = TestServer::start(Backend::Sqlite).expect("SQLite test server");
    let people = fixture::seed_people(&server).await;
    let round = "2026-HN-REVOKE";
    let ids = fixture::seed_round(&people, round, 1).await;
    let code = fixture::enrolment_code(&people).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("app.db");
    let driver = Driver::start(&[
        ("SIPAS_DB", db.clone().into_os_string()),
        ("SIPAS_AUTO_SYNC_SECS", "2".into()),
        // Hand-over files go here (the app's hand-over folder; a USB stick in the field).
        (
            "SIPAS_HANDOVER_DIR",
            tmp.path().join("usb").into_os_string(),
        ),
    ]);
    let c = driver.session(&binary).await;
    app_ready(&c).await;
    create_pin(&c, false, None).await;
    enrol_and_sync(&c, &server, &code).await;
    let enrolment: Value = serde_json::from_slice(
        &std::fs::read(db.with_extension("enrolment.json")).expect("enrolment file"),
    )
    .expect("enrolment json");
    let device_id: uuid::Uuid =
        serde_json::from_value(enrolment["device_id"].clone()).expect("device id");
    let secret_key = enrolment["signing_key"]
        .as_str()
        .expect("signing key")
        .to_string();

    // The supervisor revokes the device, then the surveyor submits an interview.
    let revoked: Value = people
        .supervisor
        .post_json(
            &format!("/devices/{device_id}/revoke"),
            &serde_json::json!({}),
        )
        .await
        .expect("revoke the device");
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    click(&c, "[data-nav=\"assignments\"]").await;
    click(
        &c,
        &format!("[data-assignment=\"{}\"] [data-action=\"start\"]", ids[0]),
    )
    .await;
    wait_text(&c, "#form-meta", round).await;
    fill_required(&c).await;
    submit_and_open_sync(&c, 1).await;

    // Sync now: told the device is revoked and what to do; nothing was sent.
    click(&c, "#sync-now").await;
    wait_text(&c, "#sync-result", "Thiết bị đã bị thu hồi").await;
    visible(&c, "#sync-revoked").await;
    wait_text(&c, "#sync-revoked", "liên hệ giám sát viên").await;
    wait_text(&c, "#sync-revoked", "Xuất tệp bàn giao").await;
    // The header badge says so too (not "Có mạng").
    wait_text(&c, "#net-state", "Thiết bị bị thu hồi").await;
    let result = js(&c, "document.getElementById('sync-result').textContent").await;
    let result = result.as_str().unwrap_or_default();
    assert!(
        !result.contains("401") && !result.contains("revoked"),
        "{result}"
    );
    wait_text(&c, "#sync-last-error", "Thiết bị đã bị thu hồi").await;
    let last = js(&c, "document.getElementById('sync-last-error').textContent").await;
    assert!(!last.as_str().unwrap_or_default().contains("401"), "{last}");
    waiting(&c, 1).await;
    assert!(fixture::server_records(&server, round).is_empty());
    // Automatic sync (every 2 s here) has stopped trying.
    let refusals = driver.app_log_text().matches("token is revoked").count();
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(
        driver.app_log_text().matches("token is revoked").count(),
        refusals,
        "automatic sync keeps retrying a revoked token"
    );
    screenshot(&c, &artifacts_dir().join("app-sync-revoked.png")).await;

    // The hand-over export still works and carries the unsynced response, signed.
    let handover_dir = tmp.path().join("usb");
    click(&c, "#handover-export").await;
    wait_text(
        &c,
        "#handover-export-result",
        "Đã lưu 1 phiếu vào tệp ban-giao-",
    )
    .await;
    let files: Vec<_> = std::fs::read_dir(&handover_dir)
        .expect("list the hand-over folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = std::fs::read(&files[0]).expect("read the hand-over file");
    let identity = sipas_sync::DeviceIdentity::load(device_id, &secret_key).expect("key");
    let signed = sipas_protocol::handover::verify_batch(&file, &identity.public_key_base64())
        .expect("the hand-over file verifies with the device's key");
    assert_eq!(signed.records.len(), 1);
    assert_eq!(signed.records[0].response.assignment_id, Some(ids[0]));
    c.close().await.expect("end the session");
    driver.wait_apps_gone();
    let store = Store::open_encrypted(&db, PIN).expect("open app db with the PIN");
    assert_eq!(store.outbox_counts().expect("outbox").pending, 1, "kept");
    drop(store);
    check_app_log(
        &driver,
        &["token is revoked", "hand-over export: 1 records in 1 files"],
        &[&code, &secret_key],
    );
    eprintln!(
        "revocation scenario finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Password of the spot-check monitor of [`monitor_spot_check_from_the_app`].
const MONITOR_PASSWORD: &str = "phuc-tra-mttq-24";

/// A Fatherland Front monitor signs in from the app (a wrong password is refused in
/// Vietnamese), sees the spot-check task with the respondent's contact, re-asks the key
/// items, sends the findings and sees them read-only with the agreement rate; the supervisor
/// sees the task done. The session token and the password never reach the disk or the log.
#[tokio::test]
async fn monitor_spot_check_from_the_app() {
    if !display_available("app_window") {
        return;
    }
    let _one_window = one_window("monitor_spot_check_from_the_app").await;
    let started = Instant::now();
    let binary = app_binary();
    let shots = artifacts_dir();
    let mut server = TestServer::start(Backend::Sqlite).expect("SQLite test server");
    let people = fixture::seed_people(&server).await;
    let round = "2026-HN-MTTQ";
    let ids = fixture::seed_round(&people, round, 1).await;
    let monitor_user: sipas_protocol::wire::UserInfo = people
        .admin
        .post_json(
            "/users",
            &serde_json::json!({
                "username": "mttq1",
                "display_name": "Giám sát MTTQ",
                "role": sipas_protocol::roles::Role::Monitor,
                "password": MONITOR_PASSWORD,
            }),
        )
        .await
        .expect("create monitor");
    let device = fixture::enrol_device(&server, &people).await;
    let response = fixture::response_for(round, ids[0], 3);
    let original = serde_json::to_value(&response.answers).expect("answers as JSON");
    let uploaded = device
        .upload(&sipas_protocol::wire::UploadBatch {
            records: vec![sipas_protocol::wire::UploadRecord {
                content_hash: response.content_hash(),
                response,
            }],
        })
        .await
        .expect("upload the response");
    assert_eq!(uploaded.acks.len(), 1);
    let sup = &people.supervisor;
    let drawn: Value = sup
        .post_json(
            &format!("/rounds/{round}/spot-checks"),
            &serde_json::json!({ "rate": 1.0, "seed": 7 }),
        )
        .await
        .expect("draw spot checks");
    let task_id = drawn["tasks"][0]["task_id"]
        .as_str()
        .expect("a spot-check task")
        .to_string();
    let _: Value = sup
        .post_json(
            &format!("/spot-checks/{task_id}/assign"),
            &serde_json::json!({ "monitor_id": monitor_user.id }),
        )
        .await
        .expect("assign the spot check");
    // The key items, as the monitor's API gives them (to answer each by its type).
    let mut monitor = fixture::client(&server);
    monitor
        .login("mttq1", MONITOR_PASSWORD)
        .await
        .expect("monitor login");
    let tasks: Value = monitor
        .get_json("/monitor/tasks")
        .await
        .expect("monitor tasks");
    let key_items = tasks[0]["key_items"].as_array().expect("key items").clone();
    assert!(!key_items.is_empty());

    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("app.db");
    let driver = Driver::start(&[("SIPAS_DB", db.clone().into_os_string())]);
    let c = driver.session(&binary).await;
    app_ready(&c).await;
    create_pin(&c, false, None).await;
    unlocked(&c).await;

    // ---- sign in: a wrong password first
    click(&c, "[data-nav=\"monitor\"]").await;
    visible(&c, "#monitor-login-form").await;
    wait_text(&c, "#monitor-h", "Phúc tra (MTTQ)").await;
    set_input(&c, "monitor-url", &server.url).await;
    set_input(&c, "monitor-username", "mttq1").await;
    set_input(&c, "monitor-password", "sai-mat-khau-1").await;
    click(&c, "#monitor-login").await;
    wait_text(&c, "#monitor-login-error", "mật khẩu không đúng").await;
    set_input(&c, "monitor-password", MONITOR_PASSWORD).await;
    click(&c, "#monitor-login").await;
    wait_text(&c, "#monitor-user", "Giám sát MTTQ").await;
    let card = format!("[data-task=\"{task_id}\"]");
    wait_text(&c, &card, &fixture::contact_name(0)).await;
    wait_text(&c, &card, &fixture::contact_phone(0)).await;
    wait_text(&c, &card, "Cấp giấy khai sinh").await;
    // Names, not codes (issue 13).
    wait_text(&c, &card, &format!("Đợt thử nghiệm {round}")).await;
    wait_text(&c, &card, fixture::UNIT_NAME).await;

    // ---- offline from here: the task is on the device (issue 13)
    server.kill();

    // ---- re-ask the key items: the respondent gives the same answers
    click(&c, &format!("label[for=\"m-{task_id}-visit-yes\"]")).await;
    for it in &key_items {
        let code = it["code"].as_str().expect("item code");
        let value = &original[code];
        let id = format!("m-{task_id}-{code}");
        match (it["type"].as_str().unwrap_or_default(), value) {
            (_, Value::Null) => {}
            ("rating", v) => {
                click(
                    &c,
                    &format!("{card} [data-item=\"{code}\"] button[data-value=\"{v}\"]"),
                )
                .await
            }
            ("single_choice", Value::String(v)) => {
                click(&c, &format!("label[for=\"{id}-{v}\"]")).await
            }
            ("multi_choice", Value::Array(vs)) => {
                for v in vs {
                    let v = v.as_str().expect("code");
                    click(&c, &format!("label[for=\"{id}-{v}\"]")).await;
                }
            }
            (_, Value::String(v)) => type_into(&c, &id, v).await,
            (_, v) => type_into(&c, &id, &v.to_string()).await,
        }
    }
    set_input(&c, &format!("m-{task_id}-note"), "Đã gọi điện thoại").await;
    screenshot(&c, &shots.join("app-monitor-task.png")).await;
    click(&c, &format!("{card} form button[type=\"submit\"]")).await;
    // Offline: recorded on the device, waiting to be sent; never a literal "null".
    wait_text(
        &c,
        &format!("{card} [data-role=\"done\"]"),
        "Đã ghi trên máy, chờ gửi",
    )
    .await;
    wait_text(&c, "#monitor-sync-state", "1 kết quả đang chờ gửi").await;
    let shown = js(&c, "document.querySelector('#screen-monitor').innerText")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        !shown.contains("null") && !shown.contains("undefined"),
        "{shown}"
    );
    screenshot(&c, &shots.join("app-monitor-offline.png")).await;
    // ---- the server is back: sync sends the findings
    server.restart_same_address();
    click(&c, "#monitor-refresh").await;
    wait_text(
        &c,
        &format!("{card} [data-role=\"done\"]"),
        "Đã gửi kết quả",
    )
    .await;
    wait_text(
        &c,
        &format!("{card} [data-role=\"agreement\"]"),
        "Tỷ lệ trùng khớp: 100%",
    )
    .await;
    // Read-only: no form, no contact any more.
    assert_eq!(count(&c, &format!("{card} form")).await, 0);
    assert_eq!(count(&c, &format!("{card} [data-contact]")).await, 0);
    screenshot(&c, &shots.join("app-monitor-done.png")).await;

    // ---- the supervisor sees the task done
    let checks: Value = sup
        .get_json(&format!("/rounds/{round}/spot-checks"))
        .await
        .expect("spot checks");
    let task = checks
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["task_id"] == task_id.as_str())
        .expect("the task");
    assert_eq!(task["state"], "done", "{task}");
    assert_eq!(task["agreement_rate"].as_f64(), Some(1.0), "{task}");

    // ---- sign out; nothing of the session is on disk
    click(&c, "#monitor-logout").await;
    visible(&c, "#monitor-login-form").await;
    c.close().await.expect("end the session");
    for entry in std::fs::read_dir(tmp.path()).expect("app folder") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let bytes = std::fs::read(&path).expect("read");
            assert!(
                !contains(&bytes, MONITOR_PASSWORD) && !contains(&bytes, "mttq1"),
                "{} holds the monitor's sign-in",
                path.display()
            );
        }
    }
    check_app_log(
        &driver,
        &[
            "monitor sign-in failed: server problem 401",
            "monitor signed in",
            "monitor findings sent",
            "monitor signed out",
        ],
        &[MONITOR_PASSWORD, &fixture::contact_name(0)],
    );
    println!(
        "monitor spot check: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// "Quên mã PIN" at the door (issue 13): a device enrolled with a server that has the
/// province's recovery key interviews one respondent offline; the surveyor forgets the PIN,
/// opens "Quên mã PIN?" on the lock screen and reads the request code out to the supervisor,
/// who turns it into a reset code with `sipas-server recovery-code` and the province's private
/// key. A short or wrong code is refused in plain Vietnamese; the right one with a new PIN
/// typed twice unlocks the app: the interview is still waiting, the new PIN opens the app
/// from then on (the old one no longer does), and when the server returns the interview is
/// delivered once.
#[tokio::test]
async fn forgotten_pin_is_reset_with_the_supervisor_code_and_nothing_is_lost() {
    if !display_available("app_window") {
        return;
    }
    let _window =
        one_window("forgotten_pin_is_reset_with_the_supervisor_code_and_nothing_is_lost").await;
    let shots = artifacts_dir();
    let keys = tempfile::tempdir().expect("tempdir");
    let province = keys.path().join("province");
    let tool = |args: &[&str]| {
        std::process::Command::new(server::server_binary())
            .args(args)
            .output()
            .expect("run sipas-server")
    };
    let out = tool(&[
        "recovery-keygen",
        "--out",
        province.to_str().expect("utf-8 path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut server = TestServer::start_with(
        Backend::Sqlite,
        Options {
            args: vec![
                "--recovery-public-key".into(),
                province.join("recovery.pub").to_string_lossy().into_owned(),
            ],
            ..Options::default()
        },
    )
    .expect("SQLite test server");
    let people = fixture::seed_people(&server).await;
    let round = "2026-HN-QUENPIN";
    let ids = fixture::seed_round(&people, round, 1).await;
    let code = fixture::enrolment_code(&people).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("app.db");
    let driver = Driver::start(&[
        ("SIPAS_DB", db.clone().into_os_string()),
        ("SIPAS_AUTO_SYNC_SECS", "2".into()),
        (
            "SIPAS_HANDOVER_DIR",
            tmp.path().join("usb").into_os_string(),
        ),
    ]);
    let binary = app_binary();
    let c = driver.session(&binary).await;
    app_ready(&c).await;
    // No "Quên mã PIN?" while the PIN is being created.
    visible(&c, "#screen-unlock").await;
    wait_text(&c, "#unlock-h", "Tạo mã PIN").await;
    assert_eq!(
        js(&c, "document.getElementById('forgot-row').hidden").await,
        Value::Bool(true)
    );
    create_pin(&c, false, None).await;
    enrol_and_sync(&c, &server, &code).await;
    assert!(
        sipas_store::recovery::recovery_path(&db).is_file(),
        "the store key is sealed for recovery at enrolment"
    );

    // ---- offline: one interview waits on the device
    server.kill();
    click(&c, "[data-nav=\"assignments\"]").await;
    click(
        &c,
        &format!("[data-assignment=\"{}\"] [data-action=\"start\"]", ids[0]),
    )
    .await;
    wait_text(&c, "#form-meta", round).await;
    fill_required(&c).await;
    submit_and_open_sync(&c, 1).await;

    // ---- the PIN is forgotten: lock, then "Quên mã PIN?"
    click(&c, "#lock-btn").await;
    app_ready(&c).await;
    visible(&c, "#screen-unlock").await;
    wait_text(&c, "#unlock-h", "Nhập mã PIN").await;
    wait_text(&c, "#forgot-pin", "Quên mã PIN?").await;
    click(&c, "#forgot-pin").await;
    visible(&c, "#screen-recover").await;
    wait_text(&c, "#recover-h", "Quên mã PIN").await;
    wait_text(&c, "#screen-recover", "Không mất phiếu nào").await;
    wait_text(&c, "#screen-recover", "khoá khôi phục của tỉnh").await;
    wait_js(
        &c,
        "document.getElementById('recover-request').value.length > 40",
        "the recovery request is shown",
    )
    .await;
    assert_eq!(
        js(&c, "document.body.dataset.recovery").await,
        Value::from("available")
    );
    let request = js(&c, "document.getElementById('recover-request').value")
        .await
        .as_str()
        .expect("request text")
        .to_string();
    assert!(
        command_while_locked(&c)
            .await
            .contains("Ứng dụng đang khóa")
    );
    screenshot(&c, &shots.join("app-pin-recovery.png")).await;
    phone_width_check(&c, &shots.join("app-pin-recovery-360.png")).await;
    // The other language: the same screen in English, no Vietnamese left on it.
    click(&c, "#lang-toggle").await;
    wait_text(&c, "#recover-h", "Forgot your PIN").await;
    wait_text(&c, "#screen-recover", "No form is lost").await;
    let english = page_text(&c).await;
    for vi in ["Quên", "mã PIN", "giám sát viên"] {
        assert!(!english.contains(vi), "{vi:?} left in English: {english}");
    }
    click(&c, "#lang-toggle").await;
    wait_text(&c, "#recover-h", "Quên mã PIN").await;

    // A code too short, and a code of the right length that does not fit this device.
    type_into(&c, "recover-code", "1a2b-3c4d").await;
    type_into(&c, "recover-pin", "135799").await;
    type_into(&c, "recover-confirm", "135799").await;
    click(&c, "#recover-submit").await;
    wait_text(&c, "#recover-error", "Mã đặt lại phải có đủ 64 ký tự").await;
    type_into(&c, "recover-code", &"0000-".repeat(16)).await;
    type_into(&c, "recover-pin", "135799").await;
    type_into(&c, "recover-confirm", "135799").await;
    click(&c, "#recover-submit").await;
    wait_text(
        &c,
        "#recover-error",
        "Mã khôi phục không đúng với thiết bị này",
    )
    .await;
    let shown = js(&c, "document.getElementById('recover-error').textContent").await;
    let shown = shown.as_str().unwrap_or_default();
    assert!(
        !shown.contains("recovery") && !shown.contains("wrong_code"),
        "no codes or English in the Vietnamese error: {shown}"
    );
    assert_eq!(
        js(&c, "document.body.dataset.locked").await,
        Value::from("true")
    );

    // ---- the supervisor: the province key turns the request into the reset code
    let out = tool(&[
        "recovery-code",
        "--key",
        province.join("recovery.key").to_str().expect("utf-8 path"),
        "--request",
        &request,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reset_code = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string();
    assert_eq!(
        reset_code.chars().filter(char::is_ascii_hexdigit).count(),
        64,
        "{reset_code}"
    );

    // ---- typed in the app with a new PIN twice (a mismatch first)
    const RESET_PIN: &str = "Mới 2468";
    type_into(&c, "recover-code", &reset_code).await;
    type_into(&c, "recover-pin", RESET_PIN).await;
    type_into(&c, "recover-confirm", "Mới 2469").await;
    click(&c, "#recover-submit").await;
    wait_text(&c, "#recover-error", "Hai lần nhập mã PIN không khớp").await;
    type_into(&c, "recover-pin", RESET_PIN).await;
    type_into(&c, "recover-confirm", RESET_PIN).await;
    click(&c, "#recover-submit").await;
    unlocked(&c).await;
    // Nothing lost: the interview still waits, and it is listed.
    click(&c, "[data-nav=\"sync\"]").await;
    waiting(&c, 1).await;
    click(&c, "[data-nav=\"responses\"]").await;
    wait_js(
        &c,
        "document.querySelectorAll('#responses-list > li').length === 1",
        "the submitted interview is listed",
    )
    .await;

    // ---- from now on the new PIN opens the app, the old one does not
    click(&c, "#lock-btn").await;
    app_ready(&c).await;
    enter_pin(&c, PIN).await;
    wait_text(&c, "#unlock-error", "Mã PIN không đúng").await;
    enter_pin(&c, RESET_PIN).await;
    unlocked(&c).await;

    // ---- the server returns: the interview is delivered once
    server.restart_same_address();
    click(&c, "[data-nav=\"sync\"]").await;
    wait_text(&c, "#sync-pending", "Không có bản ghi nào chờ đồng bộ").await;
    assert_eq!(fixture::server_records(&server, round).len(), 1);
    c.close().await.expect("end the session");
    driver.wait_apps_gone();
    let store = Store::open_encrypted(&db, RESET_PIN).expect("the new PIN opens the store");
    assert_eq!(store.outbox_counts().expect("outbox").pending, 0);
    assert!(
        Store::open_encrypted(&db, PIN).is_err(),
        "the old PIN no longer opens it"
    );
    assert_eq!(store.list_responses().expect("responses").len(), 1);
    check_app_log(
        &driver,
        &["PIN reset failed: ", "PIN reset with a recovery code"],
        &[RESET_PIN, &reset_code, &code],
    );
}

/// A self-signed certificate for 127.0.0.1 and localhost, written to `dir`:
/// `(cert path, key path, cert PEM)`.
fn self_signed(dir: &Path) -> (String, String, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("certificate");
    let cert_pem = ck.cert.pem();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, &cert_pem).expect("write cert");
    std::fs::write(&key, ck.signing_key.serialize_pem()).expect("write key");
    (
        cert.display().to_string(),
        key.display().to_string(),
        cert_pem,
    )
}
