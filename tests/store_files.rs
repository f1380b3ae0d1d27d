//! The local store on real files: what survives closing and reopening, what the schema
//! enforces on its own (checked through a separate raw SQLite connection), and what never
//! reaches the audit log.
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use sipas_core::answer::AnswerValue;
use sipas_core::questionnaire::FormKey;
use sipas_store::{
    Assignment, AssignmentStatus, Contact, InsertOutcome, NewDraft, OutboxState, ResponseStatus,
    Store, StoreError,
};
use std::path::PathBuf;
use tempfile::TempDir;
use uuid::Uuid;

fn temp_db() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sipas.db");
    (dir, path)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn form() -> FormKey {
    FormKey {
        form_id: "sipas-6-groups".into(),
        version: "2026.1".into(),
    }
}

fn assignment() -> Assignment {
    Assignment {
        id: sipas_core::response::new_id(),
        round_id: "2026-HN-1".into(),
        unit_code: "00004".into(),
        form: form(),
        procedure: "Cấp giấy khai sinh".into(),
        status: AssignmentStatus::NotVisited,
        status_note: None,
        updated_at: at("2026-01-01T00:00:00Z"),
        names: Default::default(),
    }
}

fn contact() -> Contact {
    Contact {
        respondent_name: Some("Trần Thị Riêng Tư".into()),
        address: Some("99 Ngõ Kín, Đống Đa, Hà Nội".into()),
        phone: Some("0987654321".into()),
    }
}

fn new_draft(assignment_id: Option<Uuid>) -> NewDraft {
    NewDraft {
        assignment_id,
        form: form(),
        round_id: "2026-HN-1".into(),
        unit_code: "00004".into(),
    }
}

#[test]
fn migrations_apply_once_and_reopen_is_idempotent() {
    let (_dir, path) = temp_db();
    for _ in 0..3 {
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.schema_version().unwrap(),
            sipas_store::migrations::latest_version()
        );
    }
    let raw = Connection::open(&path).unwrap();
    let rows: i64 = raw
        .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, sipas_store::migrations::MIGRATIONS.len() as i64);
    let version: u32 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, sipas_store::migrations::latest_version());
}

#[test]
fn newer_database_is_refused() {
    let (_dir, path) = temp_db();
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { found: 999, .. }));
    assert!(err.to_string().contains("update the app"), "{err}");
}

#[test]
fn file_is_in_wal_mode() {
    let (_dir, path) = temp_db();
    let s = Store::open(&path).unwrap();
    assert_eq!(s.journal_mode().unwrap(), "wal");
    // WAL is a property of the file: a fresh raw connection sees it too.
    let mode: String = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn draft_autosave_survives_close_and_reopen() {
    let (_dir, path) = temp_db();
    let id = {
        let mut s = Store::open(&path).unwrap();
        let id = s.create_draft(&new_draft(None)).unwrap();
        s.save_answer(id, "A1", Some(AnswerValue::Text("nữ".into())), Some(1500))
            .unwrap();
        s.save_answer(id, "C1_1", Some(AnswerValue::Int(5)), Some(700))
            .unwrap();
        s.set_current_group(id, Some("G3")).unwrap();
        id
    };
    let s = Store::open(&path).unwrap();
    let d = s.get_draft(id).unwrap().expect("draft kept");
    assert_eq!(d.answers["A1"], AnswerValue::Text("nữ".into()));
    assert_eq!(d.answers["C1_1"], AnswerValue::Int(5));
    assert_eq!(d.paradata.item_ms["A1"], 1500);
    assert_eq!(d.current_group.as_deref(), Some("G3"));
}

#[test]
fn complete_draft_moves_draft_to_response_and_outbox_atomically() {
    let (_dir, path) = temp_db();
    let a = assignment();
    let mut s = Store::open(&path).unwrap();
    s.upsert_assignment(&a, Some(&contact())).unwrap();
    let d = s.create_draft(&new_draft(Some(a.id))).unwrap();
    s.save_answer(d, "C1_1", Some(AnswerValue::Int(4)), None)
        .unwrap();
    let r = s.complete_draft(d, at("2026-11-20T10:00:00Z")).unwrap();
    drop(s);

    let raw = Connection::open(&path).unwrap();
    let count = |sql: &str| -> i64 { raw.query_row(sql, [d.to_string()], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM drafts WHERE response_id = ?1"),
        0
    );
    assert_eq!(count("SELECT COUNT(*) FROM responses WHERE id = ?1"), 1);
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox WHERE response_id = ?1 AND state = 'pending'"),
        1
    );
    let hash: String = raw
        .query_row("SELECT content_hash FROM responses", [], |r| r.get(0))
        .unwrap();
    assert_eq!(hash, r.content_hash());

    let s = Store::open(&path).unwrap();
    assert_eq!(s.get_response(d, 1).unwrap().unwrap().response, r);
    assert_eq!(
        s.get_assignment(a.id).unwrap().unwrap().status,
        AssignmentStatus::Collected
    );
    // Completing it again is impossible: the draft is gone.
    let mut s = s;
    assert!(matches!(
        s.complete_draft(d, at("2026-11-20T10:00:01Z")),
        Err(StoreError::NotFound { what: "draft", .. })
    ));
}

#[test]
fn resubmission_is_duplicate_and_changed_content_is_conflict() {
    let (_dir, path) = temp_db();
    let mut s = Store::open(&path).unwrap();
    let d = s.create_draft(&new_draft(None)).unwrap();
    s.save_answer(d, "C1_1", Some(AnswerValue::Int(4)), None)
        .unwrap();
    let r = s.complete_draft(d, at("2026-11-20T10:00:00Z")).unwrap();

    assert_eq!(
        s.insert_response(&r, ResponseStatus::Queued).unwrap(),
        InsertOutcome::Duplicate
    );
    let audit_before = s.audit_entries(0).unwrap();
    let mut changed = r.clone();
    changed.answers.insert("C1_1".into(), AnswerValue::Int(2));
    assert!(matches!(
        s.insert_response(&changed, ResponseStatus::Queued),
        Err(StoreError::Conflict { revision: 1, .. })
    ));
    drop(s);

    let s = Store::open(&path).unwrap();
    assert_eq!(s.list_responses().unwrap().len(), 1);
    assert_eq!(s.get_response(d, 1).unwrap().unwrap().response, r);
    assert_eq!(s.audit_entries(0).unwrap(), audit_before);
    assert_eq!(s.outbox_counts().unwrap().pending, 1);

    // A new revision of the same record is accepted.
    let mut rev2 = changed;
    rev2.revision = 2;
    let mut s = s;
    assert_eq!(
        s.insert_response(&rev2, ResponseStatus::Queued).unwrap(),
        InsertOutcome::Inserted
    );
}

#[test]
fn audit_log_rejects_update_and_delete_from_any_connection() {
    let (_dir, path) = temp_db();
    let mut s = Store::open(&path).unwrap();
    s.create_draft(&new_draft(None)).unwrap();
    drop(s);
    let raw = Connection::open(&path).unwrap();
    let upd = raw
        .execute("UPDATE audit_log SET action = 'nothing'", [])
        .unwrap_err();
    assert!(upd.to_string().contains("append-only"), "{upd}");
    let del = raw.execute("DELETE FROM audit_log", []).unwrap_err();
    assert!(del.to_string().contains("append-only"), "{del}");
    let n: i64 = raw
        .query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn contacts_stay_out_of_audit_log_and_responses() {
    let (_dir, path) = temp_db();
    let a = assignment();
    let mut s = Store::open(&path).unwrap();
    s.upsert_assignment(&a, Some(&contact())).unwrap();
    s.set_assignment_status(a.id, AssignmentStatus::FormDelivered, None, "sv-1")
        .unwrap();
    let d = s.create_draft(&new_draft(Some(a.id))).unwrap();
    s.save_answer(d, "C1_1", Some(AnswerValue::Int(4)), None)
        .unwrap();
    s.complete_draft(d, at("2026-11-20T10:00:00Z")).unwrap();
    assert_eq!(s.get_contact(a.id).unwrap(), Some(contact()));
    drop(s);

    let c = contact();
    let secrets = [
        c.respondent_name.unwrap(),
        c.address.unwrap(),
        c.phone.unwrap(),
    ];
    let raw = Connection::open(&path).unwrap();
    for table in ["audit_log", "responses", "drafts", "assignments"] {
        let mut stmt = raw.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                let v: rusqlite::types::Value = row.get(i).unwrap();
                if let rusqlite::types::Value::Text(t) = v {
                    for secret in &secrets {
                        assert!(!t.contains(secret.as_str()), "{secret} found in {table}");
                    }
                }
            }
        }
    }
}

#[test]
fn everything_survives_drop_and_reopen() {
    let (_dir, path) = temp_db();
    let a = assignment();
    let (draft, done) = {
        let mut s = Store::open(&path).unwrap();
        s.set_actor("sv-9");
        s.upsert_assignment(&a, Some(&contact())).unwrap();
        let done = s.create_draft(&new_draft(Some(a.id))).unwrap();
        s.save_answer(done, "C1_1", Some(AnswerValue::Int(5)), None)
            .unwrap();
        s.complete_draft(done, at("2026-11-20T10:00:00Z")).unwrap();
        s.mark_in_flight(done, 1).unwrap();
        s.mark_failed(done, 1, "no network").unwrap();
        let draft = s.create_draft(&new_draft(None)).unwrap();
        s.save_answer(
            draft,
            "A1",
            Some(AnswerValue::Codes(vec!["x".into()])),
            None,
        )
        .unwrap();
        let mut log = s.get_sync_log().unwrap();
        log.last_error_at = Some(at("2026-11-20T10:05:00Z"));
        log.last_error = Some("no network".into());
        s.set_sync_log(&log).unwrap();
        s.import_units(&[sipas_store::UnitRecord {
            code: "01".into(),
            name: "Thành phố Hà Nội".into(),
            level: "province".into(),
            parent_code: None,
            valid_from: "2008-08-01".parse().unwrap(),
            valid_to: None,
        }])
        .unwrap();
        (draft, done)
    };

    let s = Store::open(&path).unwrap();
    assert_eq!(s.integrity_check().unwrap(), "ok");
    assert_eq!(s.list_assignments().unwrap().len(), 1);
    assert_eq!(s.get_contact(a.id).unwrap(), Some(contact()));
    assert_eq!(s.list_drafts().unwrap()[0].id, draft);
    let ob = s.get_outbox(done, 1).unwrap().unwrap();
    assert_eq!((ob.state, ob.attempts), (OutboxState::Pending, 1));
    assert_eq!(ob.last_error.as_deref(), Some("no network"));
    assert_eq!(s.pending_outbox(10).unwrap().len(), 1);
    assert_eq!(
        s.get_sync_log().unwrap().last_error.as_deref(),
        Some("no network")
    );
    assert_eq!(s.list_units().unwrap()[0].name, "Thành phố Hà Nội");
    let audit = s.audit_entries(0).unwrap();
    assert!(audit.iter().all(|e| e.actor == "sv-9"));
    assert_eq!(audit.len(), 11);
}
