//! Child process of `tests/store_crash.rs`: writes to a store file until it is killed.
//!
//! Usage: `crash-writer <store-file> [seed]`. Opens the store (encrypted with the PIN in
//! `$SIPAS_CRASH_WRITER_PIN` when that is set, as the app does), prints `READY`, then loops
//! forever: create a draft, save several answers, complete it. After each write has
//! *committed* it prints one line to stdout and flushes, so every line the parent reads
//! is a promise that the write is durable:
//!
//! * `A <draft-id> <item-code> <answer-json>` — one answer saved in the draft;
//! * `C <response-id> <answer-count>` — the draft was completed into a response.
use anyhow::Context;
use sipas_core::answer::AnswerValue;
use sipas_core::questionnaire::FormKey;
use sipas_store::{NewDraft, Store};
use std::io::Write;

/// The deterministic answer for item `i` of draft number `n` (all three answer shapes,
/// including non-ASCII text, so encoding bugs would show).
fn value(seed: u64, n: u64, i: u64) -> AnswerValue {
    match (n + i) % 3 {
        0 => AnswerValue::Int(i64::try_from(seed * 1_000_000 + n * 10 + i).unwrap_or(0)),
        1 => AnswerValue::Text(format!("trả lời {seed}-{n}-{i} hài lòng")),
        _ => AnswerValue::Codes(vec![format!("c{i}"), format!("s{seed}"), format!("n{n}")]),
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .context("usage: crash-writer <store-file> [seed]")?;
    let seed: u64 = args.next().map_or(Ok(0), |s| s.parse())?;
    let mut store = match std::env::var("SIPAS_CRASH_WRITER_PIN") {
        Ok(pin) => Store::open_encrypted(&path, &pin),
        Err(_) => Store::open(&path),
    }
    .with_context(|| format!("opening {path}"))?;
    store.set_actor("crash-writer");
    let new = NewDraft {
        assignment_id: None,
        form: FormKey {
            form_id: "sipas-6-groups".into(),
            version: "2026.1".into(),
        },
        round_id: format!("crash-{seed}"),
        unit_code: "00004".into(),
    };

    let mut out = std::io::stdout().lock();
    writeln!(out, "READY")?;
    out.flush()?;
    for n in 0u64.. {
        let draft = store.create_draft(&new)?;
        for i in 0..3 + n % 5 {
            let code = format!("Q{i}");
            let v = value(seed, n, i);
            store.save_answer(draft, &code, Some(v.clone()), Some(100 + i))?;
            writeln!(out, "A {draft} {code} {}", serde_json::to_string(&v)?)?;
            out.flush()?;
        }
        let r = store.complete_draft(draft, chrono::Utc::now())?;
        writeln!(out, "C {} {}", r.id, r.answers.len())?;
        out.flush()?;
    }
    Ok(())
}
