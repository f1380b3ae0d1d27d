//! Crash test of the local store: a child process (`crash-writer`) writes drafts and
//! responses to a real file and is SIGKILLed mid-write, five times on the same file.
//! Every write the child reported as committed must survive, and no write may be half done.
use sipas_core::answer::{AnswerValue, Answers};
use sipas_store::Store;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Kill points, one per cycle: completed responses to wait for, extra lines to read after
/// that (so the kill lands at different steps of a draft), and a pause before the kill.
const CYCLES: [(usize, usize, u64); 5] = [
    (200, 0, 0),
    (150, 3, 0),
    (230, 1, 500),
    (180, 5, 2_000),
    (210, 2, 150),
];

/// What the child has promised is committed, according to its stdout.
#[derive(Default)]
struct Reported {
    /// Responses reported completed, with the answers reported for their draft.
    completed: HashMap<Uuid, Answers>,
    /// Drafts with reported answers but no reported completion.
    in_progress: HashMap<Uuid, Answers>,
}

impl Reported {
    /// Records one output line; returns whether it was a completion.
    fn apply(&mut self, line: &str) -> bool {
        let mut parts = line.splitn(4, ' ');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("A"), Some(draft), Some(item), Some(json)) => {
                let value: AnswerValue = serde_json::from_str(json).expect("answer json");
                self.in_progress
                    .entry(draft.parse().expect("draft id"))
                    .or_default()
                    .insert(item.to_string(), value);
                false
            }
            (Some("C"), Some(id), Some(count), None) => {
                let id: Uuid = id.parse().expect("response id");
                let answers = self.in_progress.remove(&id).unwrap_or_default();
                assert_eq!(answers.len(), count.parse::<usize>().unwrap(), "{line}");
                assert!(self.completed.insert(id, answers).is_none(), "{id} twice");
                true
            }
            _ => panic!("unexpected line from crash-writer: {line:?}"),
        }
    }
}

/// Reads one complete line (without the newline); `None` at end of output or on a line
/// cut short by the kill.
fn read_line(out: &mut BufReader<ChildStdout>) -> Option<String> {
    let mut line = String::new();
    let n = out.read_line(&mut line).expect("read child stdout");
    (n > 0 && line.ends_with('\n')).then(|| line.trim_end().to_string())
}

/// Starts the writer on `path`, encrypted with `pin` when given.
fn spawn(path: &Path, seed: usize, pin: Option<&str>) -> (Child, BufReader<ChildStdout>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crash-writer"));
    if let Some(pin) = pin {
        cmd.env("SIPAS_CRASH_WRITER_PIN", pin);
    }
    let mut child = cmd
        .arg(path)
        .arg(seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start crash-writer");
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    assert_eq!(read_line(&mut out).as_deref(), Some("READY"));
    (child, out)
}

/// Checks the reopened file against everything the child reported, plus the invariants
/// that only hold if every transaction was all-or-nothing.
fn verify(path: &Path, reported: &Reported, cycles_done: usize, pin: Option<&str>) {
    let store = match pin {
        Some(pin) => Store::open_encrypted(path, pin),
        None => Store::open(path),
    }
    .expect("reopen after kill");
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(store.journal_mode().unwrap(), "wal");

    for (id, answers) in &reported.completed {
        let r = store
            .get_response(*id, 1)
            .unwrap()
            .unwrap_or_else(|| panic!("reported response {id} is missing"));
        assert_eq!(&r.response.answers, answers, "answers of {id}");
        assert_eq!(r.response.paradata.item_ms.len(), answers.len());
        assert!(
            store.get_outbox(*id, 1).unwrap().is_some(),
            "{id} not queued"
        );
        assert!(
            store.get_draft(*id).unwrap().is_none(),
            "{id} still a draft"
        );
    }
    for (id, answers) in &reported.in_progress {
        // Still a draft, or completed after its last reported answer (the kill hit between
        // the commit and the print).
        let stored = match store.get_draft(*id).unwrap() {
            Some(d) => d.answers,
            None => {
                let r = store.get_response(*id, 1).unwrap();
                r.unwrap_or_else(|| panic!("answers of draft {id} lost"))
                    .response
                    .answers
            }
        };
        for (item, value) in answers {
            assert_eq!(stored.get(item), Some(value), "draft {id} item {item}");
        }
    }

    // No half-written completion: every response is queued and its draft is gone.
    let responses = store.list_responses().unwrap(); // also re-checks every content hash
    let drafts = store.list_drafts().unwrap();
    for r in &responses {
        let id = r.response.id;
        assert!(
            store.get_outbox(id, 1).unwrap().is_some(),
            "{id} has no outbox row"
        );
        assert!(
            store.get_draft(id).unwrap().is_none(),
            "{id} is draft and response"
        );
    }
    assert_eq!(
        store.outbox_counts().unwrap().pending as usize,
        responses.len()
    );
    assert!(responses.len() >= reported.completed.len());
    assert!(responses.len() <= reported.completed.len() + cycles_done);

    // The audit log was written in the same transactions, so it must agree exactly.
    let mut actions: BTreeMap<String, usize> = BTreeMap::new();
    for e in store.audit_entries(0).unwrap() {
        *actions.entry(e.action).or_default() += 1;
    }
    let count = |a: &str| actions.get(a).copied().unwrap_or(0);
    let answers: usize = responses
        .iter()
        .map(|r| r.response.answers.len())
        .sum::<usize>()
        + drafts.iter().map(|d| d.answers.len()).sum::<usize>();
    assert_eq!(count("draft.create"), responses.len() + drafts.len());
    assert_eq!(count("response.complete"), responses.len());
    assert_eq!(count("draft.save_answer"), answers);
}

#[test]
fn killed_writer_never_loses_or_half_writes() {
    run_cycles(&CYCLES, None);
}

/// The same on a store encrypted at rest (SQLCipher): encryption must not weaken durability.
/// Fewer cycles, since every write also encrypts.
#[test]
fn killed_encrypted_writer_never_loses_or_half_writes() {
    run_cycles(&CYCLES[..3], Some("246810"));
}

/// Runs the kill cycles on one fresh file, verifying after each.
fn run_cycles(cycles: &[(usize, usize, u64)], pin: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let mut reported = Reported::default();
    let started = Instant::now();

    for (cycle, &(completions, extra_lines, pause_us)) in cycles.iter().enumerate() {
        let t0 = Instant::now();
        let (mut child, mut out) = spawn(&path, cycle, pin);
        let mut seen = 0;
        while seen < completions {
            let line = read_line(&mut out).expect("crash-writer stopped early");
            seen += usize::from(reported.apply(&line));
        }
        for _ in 0..extra_lines {
            reported.apply(&read_line(&mut out).expect("crash-writer stopped early"));
        }
        std::thread::sleep(Duration::from_micros(pause_us));
        child.kill().expect("SIGKILL crash-writer");
        let status = child.wait().unwrap();
        assert!(!status.success(), "crash-writer was killed, not finished");
        // Killed without closing: the write-ahead log was never checkpointed away, so the
        // reopen below really exercises SQLite's crash recovery.
        let wal = path.with_extension("db-wal");
        assert!(
            std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0),
            "no WAL left"
        );
        // Lines printed before the kill are promises too.
        while let Some(line) = read_line(&mut out) {
            reported.apply(&line);
        }
        let writing = t0.elapsed();
        verify(&path, &reported, cycle + 1, pin);
        eprintln!(
            "cycle {cycle}: {} responses reported so far, {} drafts open; \
             writing {writing:?}, verifying {:?}",
            reported.completed.len(),
            reported.in_progress.len(),
            t0.elapsed() - writing
        );
    }
    if pin.is_some() {
        let head = std::fs::read(&path).unwrap();
        assert!(
            !head.starts_with(b"SQLite format 3"),
            "file is not encrypted"
        );
    }
    eprintln!("crash test total {:?}", started.elapsed());
}
