//! Steps of the real SIPAS Field window shared by the window tests (`app_window.rs` keeps
//! its own `choose`/`rate`, which also check the saved answer after a retried click, and its
//! own PIN and submit steps): unlock, enrol, answer, move between steps, sync. Include with
//! `#[path = "support/app_steps.rs"] mod app_steps;`.
#![allow(dead_code)]

use fantoccini::Client;
use fantoccini::key::Key;
use serde_json::Value;
use sipas_testkit::webdriver::{click, js, visible, wait_js, wait_text};

/// The PIN the window tests create.
pub const PIN: &str = "246813";

/// Waits until the page has started.
pub async fn app_ready(c: &Client) {
    wait_js(c, "document.body.dataset.ready === 'true'", "app started").await;
}

/// Types `text` into the input `#id` after clearing it.
pub async fn type_into(c: &Client, id: &str, text: &str) {
    let input = visible(c, &format!("#{id}")).await;
    input.clear().await.expect("clear");
    input.send_keys(text).await.expect("type");
}

/// Waits until the app is unlocked and has opened its first screen.
pub async fn unlocked(c: &Client) {
    wait_js(
        c,
        "document.body.dataset.locked === 'false' && document.body.dataset.ready === 'true'",
        "app unlocked",
    )
    .await;
}

/// First run: creates the PIN [`PIN`] on the "Tạo mã PIN" screen.
pub async fn create_pin(c: &Client) {
    visible(c, "#screen-unlock").await;
    wait_text(c, "#unlock-h", "Tạo mã PIN").await;
    type_into(c, "unlock-pin", PIN).await;
    type_into(c, "unlock-confirm", PIN).await;
    click(c, "#unlock-submit").await;
    unlocked(c).await;
}

/// Sets the value of an input and fires `input` (as typing would).
pub async fn set_input(c: &Client, id: &str, value: &str) {
    let v = serde_json::to_string(value).expect("json");
    js(
        c,
        &format!(
            "(()=>{{const e=document.getElementById('{id}');e.value={v};e.dispatchEvent(new Event('input'));return true;}})()"
        ),
    )
    .await;
}

/// Enrols the app with `code` against `server_url` (Sync screen).
pub async fn enrol(c: &Client, server_url: &str, code: &str) {
    click(c, "[data-nav=\"sync\"]").await;
    click(c, "#open-enrol").await;
    set_input(c, "enrol-url", server_url).await;
    set_input(c, "enrol-code", code).await;
    click(c, "#enrol-submit").await;
    wait_text(c, "#sync-enrolment", "đã đăng ký").await;
}

/// Presses "Đồng bộ ngay" on the Sync screen and waits for success.
pub async fn sync_now(c: &Client) {
    js(
        c,
        "(document.getElementById('sync-result').textContent = '')",
    )
    .await;
    click(c, "#sync-now").await;
    wait_text(c, "#sync-result", "Đồng bộ xong").await;
}

/// Types `text` into the input of item `code` (after clearing it) and leaves it with Tab,
/// which fires `change` and so the autosave.
pub async fn type_answer(c: &Client, code: &str, text: &str) {
    let input = visible(c, &format!("#q-{code}")).await;
    input.clear().await.expect("clear");
    input
        .send_keys(&format!("{text}{}", char::from(Key::Tab)))
        .await
        .expect("type");
}

/// Waits until no save is in progress.
pub async fn settled(c: &Client) {
    wait_js(
        c,
        "document.getElementById('save-state').dataset.state !== 'saving'",
        "no save in progress",
    )
    .await;
}

/// Waits until every answer given so far is stored.
pub async fn saved(c: &Client) {
    wait_js(
        c,
        "document.getElementById('save-state').dataset.state === 'saved'",
        "answers saved",
    )
    .await;
}

/// The answers stored in the open draft (the most recently saved one), once no save is in
/// progress.
pub async fn stored_answers(c: &Client) -> Value {
    settled(c).await;
    c.execute_async(
        "const done = arguments[arguments.length - 1];
         const inv = window.__TAURI__.core.invoke;
         inv('list_drafts')
           .then((ds) => inv('get_draft', { draft_id: ds[0].id }))
           .then((d) => done(d.answers), (e) => done('error: ' + e));",
        vec![],
    )
    .await
    .expect("read the stored answers")
}

/// Chooses an option of a single- or multi-choice item by clicking its label (clicked again
/// if WebKitWebDriver lost the click, which it very rarely does).
pub async fn choose(c: &Client, code: &str, value: &str) {
    let id = serde_json::to_string(&format!("q-{code}-{value}")).expect("json");
    let checked = format!("document.getElementById({id})?.checked === true");
    for _ in 0..3 {
        click(c, &format!("label[for=\"q-{code}-{value}\"]")).await;
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        if js(c, &checked).await == Value::Bool(true) {
            return;
        }
    }
    wait_js(c, &checked, "the choice is registered").await;
}

/// The value of the pressed rating button of `code`, or null.
pub async fn rating_checked(c: &Client, code: &str) -> Value {
    js(
        c,
        &format!(
            "(document.querySelector('[data-item=\"{code}\"] [aria-checked=\"true\"]')||{{}}).dataset?.value ?? null"
        ),
    )
    .await
}

/// Presses a rating button (again if the click was lost).
pub async fn rate(c: &Client, code: &str, value: i64) {
    let expected = Value::from(value.to_string());
    for _ in 0..3 {
        click(
            c,
            &format!("[data-item=\"{code}\"] button[data-value=\"{value}\"]"),
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if rating_checked(c, code).await == expected {
            return;
        }
    }
    assert_eq!(
        rating_checked(c, code).await,
        expected,
        "rating {code} registered"
    );
}

/// Waits for step `group` with the indicator text `indicator` ("Bước 2/8").
pub async fn on_step(c: &Client, group: &str, indicator: &str) {
    visible(c, &format!("[data-step=\"{group}\"]")).await;
    wait_text(c, "#step-indicator", indicator).await;
}

/// Presses "Tiếp" and waits for the next step.
pub async fn next(c: &Client, group: &str, indicator: &str) {
    click(c, "#next").await;
    on_step(c, group, indicator).await;
}

/// Review without issues, submit, and open the Sync screen.
pub async fn submit_and_open_sync(c: &Client) {
    wait_js(
        c,
        "document.getElementById('review-summary').dataset.issues === '0'",
        "review without issues",
    )
    .await;
    click(c, "#submit").await;
    visible(c, "#screen-done").await;
    click(c, "#done-sync").await;
    wait_text(c, "#sync-pending", "bản ghi chờ đồng bộ").await;
}
