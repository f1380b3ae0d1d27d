//! Autosave latency benchmark (not a test): the cost of saving one answer the way the app's
//! `save_answer` command does it (read the draft, decode the JSON value, NFC-normalise,
//! `validate_answer` against `sipas-6-groups@2026.1`, `Store::save_answer` with the item's
//! time in the paradata, one IMMEDIATE transaction with its audit entry, WAL +
//! `synchronous=FULL`), on real files in one directory:
//!
//! * **plain** store (`Store::open`): the baseline;
//! * **encrypted** store (`Store::open_encrypted`, SQLCipher with an Argon2id key from a PIN);
//! * **fsync floor**: one bare `INSERT` + commit into a one-table SQLite file with the same
//!   journal mode and durability (WAL, `synchronous=FULL`), no validation, no JSON, no audit.
//!
//! The three are interleaved save by save (the order rotating), so load from other processes
//! on the machine hits all three alike. Before measuring, one unrecorded pass answers every
//! item once, so every recorded save rewrites a full draft. Saves then cycle over the 41 items.
//!
//! Run with `cargo bench --bench save_answer`. `SIPAS_BENCH_N` sets the number of recorded
//! saves per store (default 5,000); `SIPAS_BENCH_DIR` the directory for the files (default: a
//! new temporary directory under `$TMPDIR`, i.e. the disk of /tmp).
use serde_json::{Value, json};
use sipas_core::answer::AnswerValue;
use sipas_core::answer_validation::{normalize_value, validate_answer};
use sipas_core::builtin::builtin_forms;
use sipas_core::questionnaire::{FormKey, ItemType, Questionnaire};
use sipas_core::relevance::value_is_answered;
use sipas_store::{NewDraft, Store};
use std::path::Path;
use std::time::{Duration, Instant};
use uuid::Uuid;

const FORM_ID: &str = "sipas-6-groups";
const FORM_VERSION: &str = "2026.1";
const PIN: &str = "246810";
/// The app caps the time credited to one answer at 30 minutes (src-tauri, commands/drafts.rs).
const MAX_ITEM_MS: u64 = 30 * 60 * 1000;

fn main() {
    let n: usize = std::env::var("SIPAS_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let tmp = match std::env::var_os("SIPAS_BENCH_DIR").filter(|d| !d.is_empty()) {
        Some(d) => {
            std::fs::create_dir_all(&d).expect("create SIPAS_BENCH_DIR");
            tempfile::tempdir_in(d)
        }
        None => tempfile::tempdir(),
    }
    .expect("temporary directory");
    let dir = tmp.path();
    println!("directory: {}", dir.display());

    // What the app holds in its state: every built-in form, looked up by key on each save.
    let forms = builtin_forms().expect("built-in forms");
    let key = FormKey {
        form_id: FORM_ID.into(),
        version: FORM_VERSION.into(),
    };
    let form = find_form(&forms, &key);
    let answers = valid_answers(form);
    println!(
        "form: {key}, {} items; recorded saves per store: {n}",
        answers.len()
    );

    let plain_path = dir.join("plain.db");
    let enc_path = dir.join("encrypted.db");
    let floor_path = dir.join("floor.db");

    let t = Instant::now();
    let mut plain = Store::open(&plain_path).expect("open plain store");
    let plain_create = t.elapsed();
    let t = Instant::now();
    let mut enc = Store::open_encrypted(&enc_path, PIN).expect("open encrypted store");
    let enc_create = t.elapsed();
    assert!(enc.is_encrypted());

    let new = NewDraft {
        assignment_id: None,
        form: key.clone(),
        round_id: "bench".into(),
        unit_code: "00004".into(),
    };
    let plain_draft = plain.create_draft(&new).expect("plain draft");
    let enc_draft = enc.create_draft(&new).expect("encrypted draft");
    let mut floor = Floor::open(&floor_path);

    // Warm-up, not recorded: every item answered once, so each recorded save rewrites a
    // draft of full size (41 answers, 41 item timings).
    for (i, (code, value)) in answers.iter().enumerate() {
        let ms = item_ms(i);
        save_like_app(&mut plain, &forms, plain_draft, code, value.clone(), ms);
        save_like_app(&mut enc, &forms, enc_draft, code, value.clone(), ms);
        floor.insert();
    }

    let mut s_plain = Samples::with_capacity(n);
    let mut s_enc = Samples::with_capacity(n);
    let mut s_floor = Samples::with_capacity(n);
    let mut s_validate = Samples::with_capacity(2 * n);
    let started = Instant::now();
    for i in 0..n {
        let (code, value) = &answers[i % answers.len()];
        let ms = item_ms(i);
        for k in 0..3 {
            match (i + k) % 3 {
                0 => {
                    let (total, validate) =
                        save_like_app(&mut plain, &forms, plain_draft, code, value.clone(), ms);
                    s_plain.push(total);
                    s_validate.push(validate);
                }
                1 => {
                    let (total, validate) =
                        save_like_app(&mut enc, &forms, enc_draft, code, value.clone(), ms);
                    s_enc.push(total);
                    s_validate.push(validate);
                }
                _ => s_floor.push(floor.insert()),
            }
        }
    }
    let wall = started.elapsed();

    // The saves really happened: every item answered, one audit entry per save.
    for (store, draft) in [(&plain, plain_draft), (&enc, enc_draft)] {
        let d = store.get_draft(draft).expect("read draft").expect("draft");
        assert_eq!(d.answers.len(), answers.len());
        assert_eq!(store.integrity_check().expect("integrity check"), "ok");
    }
    let header = std::fs::read(&enc_path).expect("read encrypted file");
    assert!(
        !header.starts_with(b"SQLite format 3"),
        "the encrypted store must not be plain SQLite"
    );
    drop(plain);
    drop(enc);

    // Opening an existing store: what the app pays at start (plain) or at PIN entry
    // (encrypted: Argon2id key derivation + first read). Median of 5.
    let plain_open = median_of(5, || {
        drop(Store::open(&plain_path).expect("reopen plain"));
    });
    let enc_open = median_of(5, || {
        drop(Store::open_encrypted(&enc_path, PIN).expect("reopen encrypted"));
    });

    println!(
        "wall time of the recorded loop: {:.1} s",
        wall.as_secs_f64()
    );
    println!();
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>9}",
        "per save (ms)", "p50", "p99", "max", "mean"
    );
    s_floor.print("fsync floor: bare INSERT + commit (WAL, FULL)");
    s_plain.print("save_answer, plain store (baseline)");
    s_enc.print("save_answer, encrypted store (SQLCipher)");
    s_validate.print("  of which decode + normalise + validate");
    println!();
    let ratio = |a: &Samples, b: &Samples, q: f64| a.quantile(q) / b.quantile(q);
    println!(
        "encrypted / plain:  p50 {:.2}x  p99 {:.2}x",
        ratio(&s_enc, &s_plain, 0.50),
        ratio(&s_enc, &s_plain, 0.99)
    );
    println!(
        "plain / fsync floor:  p50 {:.2}x  p99 {:.2}x",
        ratio(&s_plain, &s_floor, 0.50),
        ratio(&s_plain, &s_floor, 0.99)
    );
    println!(
        "encrypted / fsync floor:  p50 {:.2}x  p99 {:.2}x",
        ratio(&s_enc, &s_floor, 0.50),
        ratio(&s_enc, &s_floor, 0.99)
    );
    println!();
    println!(
        "create store: plain {:.1} ms, encrypted {:.1} ms (Argon2id + new file + migrations)",
        ms(plain_create),
        ms(enc_create)
    );
    println!(
        "open existing store (median of 5): plain {:.1} ms, encrypted {:.1} ms (PIN -> key -> first read)",
        ms(plain_open),
        ms(enc_open)
    );
    for p in [&plain_path, &enc_path] {
        let size = |suffix: &str| {
            let mut s = p.as_os_str().to_owned();
            s.push(suffix);
            std::fs::metadata(s).map_or(0, |m| m.len())
        };
        println!(
            "{}: {} bytes (+ {} bytes WAL)",
            p.file_name().unwrap().to_string_lossy(),
            size(""),
            size("-wal")
        );
    }
}

/// One save as `save_in` in src-tauri/src/commands/drafts.rs does it; returns the total time
/// and the part spent decoding, normalising and validating the value.
fn save_like_app(
    store: &mut Store,
    forms: &[Questionnaire],
    draft_id: Uuid,
    item_code: &str,
    value: Value,
    item_ms: u64,
) -> (Duration, Duration) {
    let start = Instant::now();
    let draft = store
        .get_draft(draft_id)
        .expect("read draft")
        .expect("draft exists");
    let form = find_form(forms, &draft.form);
    let v0 = Instant::now();
    let mut v: AnswerValue = serde_json::from_value(value).expect("answer value");
    normalize_value(&mut v);
    let value = Some(v).filter(value_is_answered);
    let v = value.as_ref().expect("a non-blank answer");
    validate_answer(form, item_code, v).expect("a valid answer");
    let validate = v0.elapsed();
    store
        .save_answer(draft_id, item_code, value, Some(item_ms.min(MAX_ITEM_MS)))
        .expect("save answer");
    (start.elapsed(), validate)
}

fn find_form<'a>(forms: &'a [Questionnaire], key: &FormKey) -> &'a Questionnaire {
    forms
        .iter()
        .find(|f| f.form_id == key.form_id && f.version == key.version)
        .expect("built-in form")
}

/// One valid answer per item of `form`, as the UI sends it (JSON), checked with
/// `validate_answer`. Relevance is not considered: autosave validates each answer on its own.
fn valid_answers(form: &Questionnaire) -> Vec<(String, Value)> {
    form.items()
        .enumerate()
        // Calculate items are computed, never entered.
        .filter(|(_, (_, item))| item.item_type != ItemType::Calculate)
        .map(|(n, (_, item))| {
            let first_option = || {
                item.options
                    .iter()
                    .find(|o| !o.exclusive)
                    .map(|o| o.value.clone())
                    .unwrap_or_else(|| panic!("{} has no option", item.code))
            };
            let value = match item.item_type {
                ItemType::Integer => {
                    json!(30_i64.clamp(item.min.unwrap_or(i64::MIN), item.max.unwrap_or(i64::MAX)))
                }
                ItemType::Rating => {
                    let scale = item
                        .scale
                        .as_ref()
                        .and_then(|s| form.scales.get(s))
                        .unwrap_or_else(|| panic!("{} has no scale", item.code));
                    json!(scale.points[n % scale.points.len()].value)
                }
                ItemType::SingleChoice => json!(first_option()),
                ItemType::MultiChoice => json!([first_option()]),
                ItemType::Text => {
                    let text = "Cấp giấy khai sinh cho con, nộp hồ sơ tại bộ phận một cửa. ";
                    let max = item.max_length.unwrap_or(300).min(300);
                    json!(text.repeat(10).chars().take(max).collect::<String>().trim())
                }
                ItemType::Date => json!("2026-11-02"),
                ItemType::Calculate => unreachable!("filtered out above"),
            };
            let v: AnswerValue = serde_json::from_value(value.clone()).expect("answer value");
            if let Err(issue) = validate_answer(form, &item.code, &v) {
                panic!("bench answer for {} is invalid: {issue}", item.code);
            }
            (item.code.clone(), value)
        })
        .collect()
}

/// Time spent on an item, varied (0.8 s to 20 s) as a surveyor's would be.
fn item_ms(i: usize) -> u64 {
    800 + (i as u64 * 7919) % 19_200
}

/// The fsync floor: a one-table SQLite file, WAL, `synchronous=FULL`, one row per commit.
struct Floor {
    conn: rusqlite::Connection,
    next: i64,
}

impl Floor {
    fn open(path: &Path) -> Floor {
        let conn = rusqlite::Connection::open(path).expect("open floor db");
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .expect("WAL");
        assert_eq!(mode, "wal");
        conn.pragma_update(None, "synchronous", "FULL")
            .expect("synchronous=FULL");
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .expect("create table");
        Floor { conn, next: 0 }
    }

    /// One `BEGIN IMMEDIATE; INSERT; COMMIT`, timed.
    fn insert(&mut self) -> Duration {
        self.next += 1;
        let start = Instant::now();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .expect("begin");
        tx.prepare_cached("INSERT INTO t (id, v) VALUES (?1, ?2)")
            .expect("prepare")
            .execute(rusqlite::params![self.next, "answer"])
            .expect("insert");
        tx.commit().expect("commit");
        start.elapsed()
    }
}

struct Samples(Vec<Duration>);

impl Samples {
    fn with_capacity(n: usize) -> Samples {
        Samples(Vec::with_capacity(n))
    }

    fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    /// Nearest-rank quantile in ms.
    fn quantile(&self, q: f64) -> f64 {
        let mut v = self.0.clone();
        v.sort_unstable();
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        ms(v[rank - 1])
    }

    fn mean(&self) -> f64 {
        self.0.iter().map(|d| ms(*d)).sum::<f64>() / self.0.len() as f64
    }

    fn print(&self, what: &str) {
        println!(
            "{what:<44} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            self.quantile(0.50),
            self.quantile(0.99),
            self.quantile(1.0),
            self.mean()
        );
    }
}

fn median_of(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut v: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort_unstable();
    v[runs / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
