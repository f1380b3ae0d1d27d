//! Encryption at rest of the device store (SQLCipher, key from the surveyor's PIN): on real
//! files, nothing personal is readable in the database or its write-ahead log, plain SQLite
//! cannot open it, a wrong PIN changes nothing, and the right PIN gives everything back.
use rusqlite::Connection;
use sipas_core::answer::AnswerValue;
use sipas_core::questionnaire::FormKey;
use sipas_store::encryption::{derive_key, salt_path};
use sipas_store::{
    Assignment, AssignmentStatus, Contact, NewDraft, Store, StoreError, default_contact_retention,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PIN: &str = "482916";
const NAME: &str = "Nguyễn Thị Bảo Mật";
const PHONE: &str = "0912345678";
const ADDRESS: &str = "Số 7 phố Hàng Bạc";
const SECRET_ANSWER: &str = "ý kiến bí mật xyz";

fn contact() -> Contact {
    Contact {
        respondent_name: Some(NAME.into()),
        address: Some(ADDRESS.into()),
        phone: Some(PHONE.into()),
    }
}

fn assignment() -> Assignment {
    Assignment {
        id: sipas_core::response::new_id(),
        round_id: "2026-HN-1".into(),
        unit_code: "00004".into(),
        form: FormKey {
            form_id: "sipas-6-groups".into(),
            version: "2026.1".into(),
        },
        procedure: "Cấp giấy khai sinh".into(),
        status: AssignmentStatus::NotVisited,
        status_note: None,
        updated_at: chrono::Utc::now(),
        names: Default::default(),
    }
}

/// Fills a store the way a surveyor does: 3 assignments with contacts, one interview
/// completed (with the secret text answer), one left as a draft. Returns the assignments.
fn fill(store: &mut Store) -> Vec<Assignment> {
    let assignments: Vec<Assignment> = (0..3).map(|_| assignment()).collect();
    for a in &assignments {
        store.upsert_assignment(a, Some(&contact())).unwrap();
    }
    for (i, a) in assignments.iter().take(2).enumerate() {
        let d = store
            .create_draft(&NewDraft {
                assignment_id: Some(a.id),
                form: a.form.clone(),
                round_id: a.round_id.clone(),
                unit_code: a.unit_code.clone(),
            })
            .unwrap();
        store
            .save_answer(d, "C1_1", Some(AnswerValue::Int(4)), Some(1200))
            .unwrap();
        store
            .save_answer(d, "B1", Some(AnswerValue::Text(SECRET_ANSWER.into())), None)
            .unwrap();
        if i == 0 {
            store.complete_draft(d, chrono::Utc::now()).unwrap();
        }
    }
    assignments
}

/// `<path><suffix>`, e.g. the `-wal` file.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Asserts that none of the files holds a personal string or the plain SQLite header.
/// Returns how many bytes were checked.
fn assert_no_plaintext(files: &[PathBuf]) -> usize {
    let needles: [&[u8]; 5] = [
        NAME.as_bytes(),
        PHONE.as_bytes(),
        ADDRESS.as_bytes(),
        SECRET_ANSWER.as_bytes(),
        b"SQLite format 3",
    ];
    let mut checked = 0;
    for f in files {
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        checked += bytes.len();
        for needle in needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds {:?} in plain text",
                f.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    checked
}

fn sha(path: &Path) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

#[test]
fn database_and_wal_hold_no_plaintext_while_open_and_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sipas.db");
    let wal = sibling(&path, "-wal");
    let files = [path.clone(), wal.clone(), sibling(&path, "-shm")];
    {
        let mut store = Store::open_encrypted(&path, PIN).unwrap();
        fill(&mut store);
        // Still open: the answers sit in the write-ahead log, which must be ciphertext too.
        assert!(std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0), "no WAL");
        let checked = assert_no_plaintext(&files);
        assert!(checked > 4096, "only {checked} bytes on disk");
    }
    assert_no_plaintext(&files);

    // The same data in a plain store does show up: the check above can see plaintext.
    let plain_path = dir.path().join("plain.db");
    fill(&mut Store::open(&plain_path).unwrap());
    let plain = std::fs::read(&plain_path).unwrap();
    assert!(plain.starts_with(b"SQLite format 3"));
    assert!(plain.windows(NAME.len()).any(|w| w == NAME.as_bytes()));
}

#[test]
fn plain_sqlite_cannot_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sipas.db");
    fill(&mut Store::open_encrypted(&path, PIN).unwrap());
    let conn = Connection::open(&path).unwrap();
    let err = conn
        .query_row("SELECT count(*) FROM assignment_contacts", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap_err();
    assert_eq!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase),
        "{err}"
    );
    assert!(matches!(Store::open(&path), Err(StoreError::Sqlite(_))));
}

#[test]
fn wrong_pin_changes_nothing_and_the_right_pin_gives_everything_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sipas.db");
    let assignments = {
        let mut store = Store::open_encrypted(&path, PIN).unwrap();
        fill(&mut store)
    };
    let before = (sha(&path), sha(&salt_path(&path)));
    for wrong in ["000000", "", "482917", "4829160"] {
        let err = Store::open_encrypted(&path, wrong).unwrap_err();
        assert!(matches!(err, StoreError::WrongPassphrase), "{wrong}: {err}");
        assert_eq!(
            err.to_string(),
            "Mã PIN không đúng. Dữ liệu vẫn an toàn; hãy thử lại. / Wrong PIN; your data is \
             intact, try again."
        );
    }
    assert_eq!(
        (sha(&path), sha(&salt_path(&path))),
        before,
        "files changed"
    );

    let store = Store::open_encrypted(&path, PIN).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let listed = store.list_assignments().unwrap();
    assert_eq!(listed.len(), 3);
    for a in &assignments {
        assert_eq!(store.get_contact(a.id).unwrap(), Some(contact()));
    }
    let responses = store.list_responses().unwrap();
    assert_eq!(responses.len(), 1);
    assert_eq!(
        responses[0].response.answers["B1"],
        AnswerValue::Text(SECRET_ANSWER.into())
    );
    let drafts = store.list_drafts().unwrap();
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].answers["C1_1"], AnswerValue::Int(4));
    assert_eq!(store.outbox_counts().unwrap().pending, 1);
}

#[test]
fn missing_salt_is_a_clear_error_and_restoring_it_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sipas.db");
    fill(&mut Store::open_encrypted(&path, PIN).unwrap());
    let salt = salt_path(&path);
    let backup = dir.path().join("salt.bak");
    std::fs::rename(&salt, &backup).unwrap();
    let err = Store::open_encrypted(&path, PIN).unwrap_err();
    assert!(matches!(err, StoreError::SaltMissing { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("sipas.db.salt") && text.contains("Do not delete"),
        "{text}"
    );
    std::fs::rename(&backup, &salt).unwrap();
    assert_eq!(
        Store::open_encrypted(&path, PIN)
            .unwrap()
            .list_assignments()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn purged_contacts_are_gone_from_the_encrypted_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sipas.db");
    let mut store = Store::open_encrypted(&path, PIN).unwrap();
    let assignments = fill(&mut store);
    let r = store.list_responses().unwrap()[0].response.clone();
    store.mark_in_flight(r.id, 1).unwrap();
    store.mark_acked(r.id, 1).unwrap();
    let later = chrono::Utc::now() + chrono::Duration::days(31);
    assert_eq!(
        store
            .purge_contacts(later, default_contact_retention())
            .unwrap(),
        1
    );
    assert_eq!(store.get_contact(assignments[0].id).unwrap(), None);
    assert_eq!(
        store.get_contact(assignments[1].id).unwrap(),
        Some(contact())
    );
}

/// Measures what encryption costs at open (printed; run with `--nocapture`): the Argon2id
/// derivation, and opening an existing store encrypted vs plain.
#[test]
fn open_costs_are_reported_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let enc = dir.path().join("enc.db");
    let plain = dir.path().join("plain.db");
    fill(&mut Store::open_encrypted(&enc, PIN).unwrap());
    fill(&mut Store::open(&plain).unwrap());
    let best = |f: &dyn Fn()| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .min()
            .unwrap()
    };
    let derive = best(&|| {
        derive_key(PIN, &[9u8; 16]).unwrap();
    });
    let open_enc = best(&|| {
        Store::open_encrypted(&enc, PIN).unwrap();
    });
    let open_plain = best(&|| {
        Store::open(&plain).unwrap();
    });
    eprintln!(
        "Argon2id derive {derive:?}; open encrypted {open_enc:?}; open plain {open_plain:?} \
         ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    // Generous: the debug build of Argon2 is unoptimised; the app ships a release build.
    assert!(derive < Duration::from_secs(10), "{derive:?}");
    assert!(open_enc < derive + Duration::from_secs(5), "{open_enc:?}");
}
