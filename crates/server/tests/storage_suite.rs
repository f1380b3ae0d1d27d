//! The storage test suite: every test runs against SQLite (a temporary file) and PostgreSQL
//! (a fresh database per test, created from `SIPAS_TEST_DATABASE_URL` and dropped afterwards;
//! skipped when the variable is unset, except under CI where that is an error).
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sipas_core::answer::AnswerValue;
use sipas_core::quality::QualityFlag;
use sipas_core::questionnaire::FormKey;
use sipas_core::recheck::{ItemAgreement, ReCheckResult};
use sipas_core::response::{Paradata, Response};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{
    AckStatus, AssignmentStatus, Contact, Decision, ReviewDecision, Round, UserInfo,
};
use sipas_server::storage::{
    DeviceInfo, FindingOutcome, NewFinding, NewSpotCheckTask, NewUser, PgStore, Progress,
    ReviewItem, ReviewPage, ReviewState, SampleRow, ServerStore, SqliteStore, StoreError,
    each_assignment_row, open_store,
};
use sipas_testkit::pg::TestDatabase;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

// --- harness ---------------------------------------------------------------------------------

/// Where a test's database lives, to reopen it or reach it without the store.
enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

/// What every test gets: the store under test and its database.
struct Ctx {
    store: Arc<dyn ServerStore>,
    db: Db,
}

impl Ctx {
    /// Drops the store and opens the same database again (through `open_store`).
    async fn reopen(self) -> Ctx {
        let Ctx { store, db } = self;
        drop(store); // nothing may depend on the old store staying open
        let target = match &db {
            Db::Sqlite(p) => p.to_str().expect("utf-8 temp path").to_owned(),
            Db::Postgres(url) => url.clone(),
        };
        Ctx {
            store: open_store(&target).await.expect("reopen the store"),
            db,
        }
    }

    /// Runs one statement directly on the database (bypassing the store).
    async fn raw_exec(&self, sql: &str) -> Result<u64, String> {
        match &self.db {
            Db::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
                conn.execute(sql, [])
                    .map(|n| n as u64)
                    .map_err(|e| e.to_string())
            }
            Db::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::spawn(conn);
                client.execute(sql, &[]).await.map_err(|e| {
                    e.as_db_error()
                        .map(|d| d.message().to_owned())
                        .unwrap_or_else(|| e.to_string())
                })
            }
        }
    }
}

async fn run_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("server.sqlite");
    let store = SqliteStore::open(&path).expect("open sqlite store");
    test(Ctx {
        store: Arc::new(store),
        db: Db::Sqlite(path),
    })
    .await;
}

/// Runs `test` on a fresh PostgreSQL database from the test kit (skipped, or failing in CI,
/// as [`sipas_testkit::pg::pg_admin_url`] says), dropped afterwards.
async fn run_postgres<F, Fut>(test: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let url = db.url().to_owned();
    let outcome = match PgStore::connect(&url).await {
        // A task, so that a failing test still lets us drop its database below.
        Ok(store) => tokio::spawn(test(Ctx {
            store: Arc::new(store),
            db: Db::Postgres(url),
        }))
        .await
        .map_err(|e| match e.try_into_panic() {
            Ok(panic) => panic,
            Err(e) => Box::new(format!("test task failed: {e}")),
        }),
        Err(e) => Err(
            Box::new(format!("connect PgStore to the test database: {e}"))
                as Box<dyn std::any::Any + Send>,
        ),
    };
    drop(db);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Runs each named test function against both backends.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::run_sqlite(super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::run_postgres(super::$name).await;
                }
            )*
        }
    };
}

suite!(
    users_sessions_and_token_expiry,
    enrolment_code_works_once_and_not_after_expiry,
    concurrent_redeem_only_one_wins,
    rounds_create_list_and_unique,
    sample_import_keeps_contacts_apart,
    assign_and_assignment_cursor,
    ingest_accepted_duplicate_conflict,
    concurrent_duplicate_ingest_stores_once,
    responses_for_round_latest_unrejected_revision,
    decisions_and_pull_cursor,
    progress_counts_per_surveyor,
    audit_log_is_append_only,
    reopen_keeps_everything,
    bulk_ingest_stores_every_record_once,
    users_by_role_and_device_keys,
    progress_per_unit,
    review_items_decisions_and_report_responses,
    spot_check_tasks_assignment_and_final_findings,
    concurrent_findings_only_one_is_stored,
    handover_ingest_is_one_audited_transaction,
    assignment_rows_pass_by_one_at_a_time,
    assignment_rows_by_id_only_of_the_round,
    large_import_and_assign_cross_statement_chunks,
);

// --- fixtures --------------------------------------------------------------------------------

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test timestamp")
        .with_timezone(&Utc)
}

fn form() -> FormKey {
    FormKey {
        form_id: "sipas-6-groups".into(),
        version: "2026.1".into(),
    }
}

fn round(id: &str) -> Round {
    Round {
        id: id.into(),
        name: format!("Vòng {id}"),
        form: form(),
        starts_on: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        outside_sample: Default::default(),
    }
}

async fn user(store: &dyn ServerStore, username: &str, role: Role) -> UserInfo {
    store
        .create_user(NewUser {
            username: username.into(),
            display_name: format!("Người dùng {username}"),
            role,
            password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
            created_by: None,
            scope: Default::default(),
        })
        .await
        .expect("create user")
}

fn sample(n: usize, unit: &str) -> Vec<SampleRow> {
    (0..n)
        .map(|i| SampleRow {
            id: Uuid::now_v7(),
            unit_code: unit.into(),
            procedure: format!("Thủ tục {i}"),
            agency: (i % 2 == 0).then(|| "UBND phường".to_owned()),
            contact: Contact {
                name: format!("Nguyễn Văn Mẫu {i}"),
                address: format!("{i} phố Hàng Bạc, Hoàn Kiếm"),
                phone: (i % 2 == 1).then(|| format!("09123456{i:02}")),
            },
            unit_name: None,
            agency_code: None,
            field_code: None,
            field_name: None,
            procedure_code: None,
        })
        .collect()
}

fn response(round_id: &str, assignment: Option<Uuid>, rating: i64) -> Response {
    Response {
        id: Uuid::now_v7(),
        revision: 1,
        form: form(),
        assignment_id: assignment,
        round_id: round_id.into(),
        unit_code: "00004".into(),
        answers: [
            ("C1_1".to_string(), AnswerValue::Int(rating)),
            ("C1_2".to_string(), AnswerValue::Int(3)),
        ]
        .into(),
        started_at: t("2026-11-20T08:00:00Z"),
        completed_at: t("2026-11-20T08:12:30Z"),
        paradata: Paradata::default(),
        origin: Default::default(),
    }
}

fn revised(r: &Response, revision: u32, rating: i64) -> Response {
    let mut next = r.clone();
    next.revision = revision;
    next.answers.insert("C1_1".into(), AnswerValue::Int(rating));
    next
}

fn rec(r: &Response) -> (Response, String) {
    (r.clone(), r.content_hash())
}

fn statuses(outcomes: &[sipas_server::storage::IngestOutcome]) -> Vec<AckStatus> {
    outcomes.iter().map(|o| o.status).collect()
}

fn decision(r: &Response, d: Decision, at: &str) -> ReviewDecision {
    ReviewDecision {
        response_id: r.id,
        revision: r.revision,
        decision: d,
        comment: Some("Kiểm tra lại câu C1_1".into()),
        item_comments: [("C1_1".to_string(), "Điểm không khớp ghi chú".to_string())].into(),
        decided_at: t(at),
    }
}

/// Sets up a round with `n` sampled respondents; returns (supervisor, round id, rows).
async fn round_with_sample(
    store: &dyn ServerStore,
    n: usize,
) -> (UserInfo, String, Vec<SampleRow>) {
    let sup = user(store, "giamsat", Role::Supervisor).await;
    store
        .create_round(&round("2026-HN-1"), sup.id)
        .await
        .unwrap();
    let rows = sample(n, "00004");
    assert_eq!(
        store
            .import_sample("2026-HN-1", &rows, sup.id)
            .await
            .unwrap(),
        n as u64
    );
    (sup, "2026-HN-1".into(), rows)
}

/// Imports `n` sampled respondents into `round_id` and assigns them to `surveyor` (every
/// response names an assignment of its surveyor: the ingest rules refuse others).
async fn assigned(
    store: &dyn ServerStore,
    round_id: &str,
    sup: Uuid,
    surveyor: Uuid,
    n: usize,
) -> Vec<Uuid> {
    let rows = sample(n, "00004");
    store.import_sample(round_id, &rows, sup).await.unwrap();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    store.assign(&ids, surveyor, sup).await.unwrap();
    ids
}

// --- tests -----------------------------------------------------------------------------------

async fn users_sessions_and_token_expiry(ctx: Ctx) {
    let s = &*ctx.store;
    let admin = user(s, "admin", Role::Admin).await;
    let dtv = user(s, "dtv01", Role::Surveyor).await;
    assert_eq!(dtv.role, Role::Surveyor);
    assert_eq!(dtv.id.get_version_num(), 7);

    let dup = s
        .create_user(NewUser {
            username: "dtv01".into(),
            display_name: "Khác".into(),
            role: Role::Monitor,
            password_hash: None,
            created_by: None,
            scope: Default::default(),
        })
        .await;
    assert!(matches!(dup, Err(StoreError::AlreadyExists(_))), "{dup:?}");

    let (found, hash) = s.user_by_username("admin").await.unwrap().unwrap();
    assert_eq!(found, admin);
    assert!(hash.unwrap().starts_with("$argon2id$"));
    assert!(s.user_by_username("nobody").await.unwrap().is_none());
    assert_eq!(s.user_by_id(dtv.id).await.unwrap(), Some(dtv.clone()));
    assert_eq!(s.user_by_id(Uuid::now_v7()).await.unwrap(), None);

    let expires = t("2026-11-20T10:00:00Z");
    s.create_session("session-hash-1", admin.id, expires)
        .await
        .unwrap();
    let before = t("2026-11-20T09:59:59Z");
    assert_eq!(
        s.user_by_token_hash("session-hash-1", before)
            .await
            .unwrap(),
        Some((admin.clone(), None))
    );
    assert_eq!(
        s.user_by_token_hash("session-hash-1", expires)
            .await
            .unwrap(),
        None,
        "a session is dead at its expiry instant"
    );
    assert_eq!(
        s.user_by_token_hash("session-hash-1", expires + Duration::hours(1))
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.user_by_token_hash("unknown", before).await.unwrap(), None);
    let dup = s.create_session("session-hash-1", dtv.id, expires).await;
    assert!(matches!(dup, Err(StoreError::AlreadyExists(_))), "{dup:?}");
    let missing = s
        .create_session("session-hash-2", Uuid::now_v7(), expires)
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { what: "user", .. })),
        "{missing:?}"
    );
}

async fn enrolment_code_works_once_and_not_after_expiry(ctx: Ctx) {
    let s = &*ctx.store;
    let sup = user(s, "giamsat", Role::Supervisor).await;
    let dtv = user(s, "dtv01", Role::Surveyor).await;
    let now = t("2026-11-20T08:00:00Z");

    // Expired code: never works.
    s.create_enrolment_code("code-expired", dtv.id, now, sup.id)
        .await
        .unwrap();
    let dev_a = Uuid::now_v7();
    assert_eq!(
        s.redeem_enrolment_code("code-expired", dev_a, "Máy A", "token-a", now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.user_by_token_hash("token-a", now).await.unwrap(), None);

    // Valid code: works once.
    s.create_enrolment_code("code-1", dtv.id, now + Duration::hours(1), sup.id)
        .await
        .unwrap();
    let dup = s
        .create_enrolment_code("code-1", dtv.id, now + Duration::hours(1), sup.id)
        .await;
    assert!(matches!(dup, Err(StoreError::AlreadyExists(_))), "{dup:?}");
    assert_eq!(
        s.redeem_enrolment_code("code-1", dev_a, "Máy A", "token-a", now)
            .await
            .unwrap(),
        Some(dtv.clone())
    );
    assert_eq!(
        s.user_by_token_hash("token-a", now + Duration::days(400))
            .await
            .unwrap(),
        Some((dtv.clone(), Some(dev_a))),
        "device tokens do not expire"
    );
    let dev_b = Uuid::now_v7();
    assert_eq!(
        s.redeem_enrolment_code("code-1", dev_b, "Máy B", "token-b", now)
            .await
            .unwrap(),
        None,
        "a code works exactly once"
    );
    assert_eq!(s.user_by_token_hash("token-b", now).await.unwrap(), None);
    assert_eq!(
        s.redeem_enrolment_code("no-such-code", dev_b, "Máy B", "token-b", now)
            .await
            .unwrap(),
        None
    );
    let missing = s
        .create_enrolment_code("code-2", Uuid::now_v7(), now, sup.id)
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { what: "user", .. })),
        "{missing:?}"
    );

    let actions: Vec<String> = s
        .audit_entries(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"enrolment_code.issued".to_owned()),
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "device.enrolled").count(),
        1,
        "{actions:?}"
    );
}

async fn concurrent_redeem_only_one_wins(ctx: Ctx) {
    let s = ctx.store.clone();
    let sup = user(&*s, "giamsat", Role::Supervisor).await;
    let dtv = user(&*s, "dtv01", Role::Surveyor).await;
    let now = t("2026-11-20T08:00:00Z");
    s.create_enrolment_code("code-race", dtv.id, now + Duration::hours(1), sup.id)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let device = Uuid::now_v7();
                let won = s
                    .redeem_enrolment_code(
                        "code-race",
                        device,
                        &format!("Máy {i}"),
                        &format!("token-{i}"),
                        now,
                    )
                    .await
                    .expect("redeem");
                (i, won)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (i, won) = task.await.unwrap();
        if let Some(u) = won {
            assert_eq!(u, dtv);
            winners.push(i);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one redeemer wins: {winners:?}");
    for i in 0..8 {
        let found = s
            .user_by_token_hash(&format!("token-{i}"), now)
            .await
            .unwrap();
        assert_eq!(found.is_some(), winners.contains(&i), "token-{i}");
    }
}

async fn rounds_create_list_and_unique(ctx: Ctx) {
    let s = &*ctx.store;
    let sup = user(s, "giamsat", Role::Supervisor).await;
    assert!(s.rounds().await.unwrap().is_empty());
    let mut later = round("2027-HN-1");
    later.starts_on = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    later.ends_on = NaiveDate::from_ymd_opt(2027, 3, 31).unwrap();
    s.create_round(&later, sup.id).await.unwrap();
    s.create_round(&round("2026-HN-1"), sup.id).await.unwrap();
    let dup = s.create_round(&round("2026-HN-1"), sup.id).await;
    assert!(matches!(dup, Err(StoreError::AlreadyExists(_))), "{dup:?}");
    assert_eq!(
        s.round("2026-HN-1").await.unwrap(),
        Some(round("2026-HN-1"))
    );
    assert_eq!(s.round("nope").await.unwrap(), None);
    assert_eq!(s.rounds().await.unwrap(), vec![round("2026-HN-1"), later]);
}

async fn sample_import_keeps_contacts_apart(ctx: Ctx) {
    let s = &*ctx.store;
    let (sup, round_id, rows) = round_with_sample(s, 3).await;
    for row in &rows {
        let (a, surveyor) = s.assignment(row.id).await.unwrap().expect("imported");
        assert_eq!(surveyor, None);
        assert_eq!(a.id, row.id);
        assert_eq!(a.round_id, round_id);
        assert_eq!(a.form, form());
        assert_eq!(a.unit_code, row.unit_code);
        assert_eq!(a.procedure, row.procedure);
        assert_eq!(a.agency, row.agency);
        assert_eq!(a.status, AssignmentStatus::NotVisited);
        assert_eq!(a.contact.as_ref(), Some(&row.contact));
    }
    assert_eq!(s.assignment(Uuid::now_v7()).await.unwrap(), None);

    // Re-importing is idempotent: only new rows count.
    let mut again = rows.clone();
    again.extend(sample(1, "00007"));
    assert_eq!(s.import_sample(&round_id, &again, sup.id).await.unwrap(), 1);
    let missing = s.import_sample("no-round", &rows, sup.id).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { what: "round", .. })),
        "{missing:?}"
    );

    // Personal data never reaches the audit log.
    for e in s.audit_entries(0, 1000).await.unwrap() {
        let text = format!("{} {}", e.action, e.entity_id.unwrap_or_default());
        for row in &again {
            assert!(!text.contains(&row.contact.name), "{text}");
            assert!(!text.contains(&row.contact.address), "{text}");
            if let Some(phone) = &row.contact.phone {
                assert!(!text.contains(phone.as_str()), "{text}");
            }
        }
    }
}

async fn assign_and_assignment_cursor(ctx: Ctx) {
    let s = &*ctx.store;
    let (sup, _round_id, rows) = round_with_sample(s, 4).await;
    let a = user(s, "dtv-a", Role::Surveyor).await;
    let b = user(s, "dtv-b", Role::Surveyor).await;

    let (none, c0) = s.assignments_since(a.id, 0).await.unwrap();
    assert!(none.is_empty());
    assert_eq!(
        s.assign(&[rows[0].id, rows[1].id, rows[0].id], a.id, sup.id)
            .await
            .unwrap(),
        2
    );
    assert_eq!(s.assign(&[rows[2].id], b.id, sup.id).await.unwrap(), 1);
    assert_eq!(
        s.assign(&[rows[3].id, Uuid::now_v7()], b.id, sup.id)
            .await
            .unwrap(),
        1,
        "unknown ids are skipped"
    );
    let missing = s.assign(&[rows[3].id], Uuid::now_v7(), sup.id).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { what: "user", .. })),
        "{missing:?}"
    );
    assert_eq!(
        s.assignment(rows[0].id).await.unwrap().unwrap().1,
        Some(a.id)
    );

    let (mine, c1) = s.assignments_since(a.id, c0).await.unwrap();
    assert!(c1 > c0);
    let mut ids: Vec<Uuid> = mine.iter().map(|x| x.id).collect();
    ids.sort();
    let mut want = vec![rows[0].id, rows[1].id];
    want.sort();
    assert_eq!(ids, want, "only A's assignments");
    assert!(
        mine.iter().all(|x| x.contact.is_some()),
        "contacts go to the assigned surveyor"
    );

    // Nothing new after the cursor.
    let (nothing, c2) = s.assignments_since(a.id, c1).await.unwrap();
    assert!(nothing.is_empty());
    assert_eq!(c2, c1);

    // Re-assigning and status changes bump the cursor; only the changed one comes back.
    s.assign(&[rows[1].id], a.id, sup.id).await.unwrap();
    let (changed, c3) = s.assignments_since(a.id, c1).await.unwrap();
    assert_eq!(
        changed.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![rows[1].id]
    );
    assert!(c3 > c1);
    s.set_assignment_status(rows[0].id, AssignmentStatus::Refused, a.id)
        .await
        .unwrap();
    let (changed, c4) = s.assignments_since(a.id, c3).await.unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].id, rows[0].id);
    assert_eq!(changed[0].status, AssignmentStatus::Refused);
    assert!(c4 > c3);
    let missing = s
        .set_assignment_status(Uuid::now_v7(), AssignmentStatus::Absent, a.id)
        .await;
    assert!(
        matches!(
            missing,
            Err(StoreError::NotFound {
                what: "assignment",
                ..
            })
        ),
        "{missing:?}"
    );

    // B's cursor moves independently and never sees A's assignments.
    let (theirs, _) = s.assignments_since(b.id, 0).await.unwrap();
    assert_eq!(theirs.len(), 2);
    assert!(
        theirs
            .iter()
            .all(|x| x.id == rows[2].id || x.id == rows[3].id)
    );

    // A cursor from the future (server reset) starts over.
    let (all, c5) = s.assignments_since(a.id, c4 + 1000).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(c5, c4);
}

async fn ingest_accepted_duplicate_conflict(ctx: Ctx) {
    let s = &*ctx.store;
    let (sup, round_id, rows) = round_with_sample(s, 2).await;
    let dtv = user(s, "dtv01", Role::Surveyor).await;
    s.assign(&[rows[0].id, rows[1].id], dtv.id, sup.id)
        .await
        .unwrap();
    let (_, cursor) = s.assignments_since(dtv.id, 0).await.unwrap();

    let r1 = response(&round_id, Some(rows[0].id), 4);
    let out = s.ingest(&[rec(&r1)], dtv.id, None).await.unwrap();
    assert_eq!(statuses(&out), vec![AckStatus::Accepted]);
    assert_eq!(
        s.response(r1.id, 1).await.unwrap(),
        Some((r1.clone(), dtv.id))
    );
    assert_eq!(s.response(r1.id, 2).await.unwrap(), None);
    let (a, _) = s.assignment(rows[0].id).await.unwrap().unwrap();
    assert_eq!(a.status, AssignmentStatus::Collected);
    let (changed, cursor2) = s.assignments_since(dtv.id, cursor).await.unwrap();
    assert_eq!(
        changed.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![rows[0].id]
    );

    // Same record again (a retried upload): Duplicate, stored once.
    let out = s.ingest(&[rec(&r1)], dtv.id, None).await.unwrap();
    assert_eq!(statuses(&out), vec![AckStatus::Duplicate]);
    assert_eq!(s.response_count().await.unwrap(), 1);
    let (nothing, _) = s.assignments_since(dtv.id, cursor2).await.unwrap();
    assert!(nothing.is_empty(), "a duplicate changes nothing");

    // Same id and revision, other content: Conflict, nothing changed.
    let other = revised(&r1, 1, 1);
    let out = s
        .ingest(&[(other.clone(), other.content_hash())], dtv.id, None)
        .await
        .unwrap();
    assert_eq!(statuses(&out), vec![AckStatus::Conflict]);
    assert_eq!(
        s.response(r1.id, 1).await.unwrap(),
        Some((r1.clone(), dtv.id))
    );
    assert_eq!(s.response_count().await.unwrap(), 1);

    // One batch: new, new twice, new + conflicting twin, revision 2 of r1.
    let r2 = response(&round_id, Some(rows[1].id), 5);
    let r3 = response(
        &round_id,
        Some(assigned(s, &round_id, sup.id, dtv.id, 1).await[0]),
        2,
    );
    let r3_twin = revised(&r3, 1, 5);
    let r1v2 = revised(&r1, 2, 5);
    let batch = vec![
        rec(&r2),
        rec(&r2),
        rec(&r3),
        rec(&r3_twin),
        rec(&r1v2),
        rec(&r1),
    ];
    let device = Uuid::now_v7();
    let out = s.ingest(&batch, dtv.id, Some(device)).await.unwrap();
    assert_eq!(
        statuses(&out),
        vec![
            AckStatus::Accepted,
            AckStatus::Duplicate,
            AckStatus::Accepted,
            AckStatus::Conflict,
            AckStatus::Accepted,
            AckStatus::Duplicate,
        ]
    );
    assert_eq!(s.response_count().await.unwrap(), 4);
    assert_eq!(
        s.response(r3.id, 1).await.unwrap(),
        Some((r3.clone(), dtv.id))
    );
    assert_eq!(s.response(r1.id, 2).await.unwrap(), Some((r1v2, dtv.id)));
    assert_eq!(
        s.assignment(rows[1].id).await.unwrap().unwrap().0.status,
        AssignmentStatus::Collected
    );
    assert!(s.ingest(&[], dtv.id, None).await.unwrap().is_empty());

    let audit = s.audit_entries(0, 1000).await.unwrap();
    let count = |action: &str| audit.iter().filter(|e| e.action == action).count();
    assert_eq!(count("response.accepted"), 4);
    assert_eq!(count("response.conflict"), 2);
}

async fn concurrent_duplicate_ingest_stores_once(ctx: Ctx) {
    let s = ctx.store.clone();
    let (sup, round_id, _rows) = round_with_sample(&*s, 1).await;
    let dtv = user(&*s, "dtv01", Role::Surveyor).await;
    let ids = assigned(&*s, &round_id, sup.id, dtv.id, 8 * 20 + 1).await;
    let shared = response(&round_id, Some(ids[8 * 20]), 4);
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            let batch: Vec<_> = ids[t * 20..(t + 1) * 20]
                .iter()
                .map(|a| rec(&response(&round_id, Some(*a), 3)))
                .chain([rec(&shared)])
                .collect();
            tokio::spawn(async move { s.ingest(&batch, dtv.id, None).await.expect("ingest") })
        })
        .collect();
    let mut shared_statuses = Vec::new();
    for task in tasks {
        let out = task.await.unwrap();
        assert!(out[..20].iter().all(|o| o.status == AckStatus::Accepted));
        shared_statuses.push(out[20].status);
    }
    assert_eq!(
        shared_statuses
            .iter()
            .filter(|s| **s == AckStatus::Accepted)
            .count(),
        1,
        "{shared_statuses:?}"
    );
    assert!(shared_statuses.iter().all(|s| s.is_delivered()));
    assert_eq!(s.response_count().await.unwrap(), 8 * 20 + 1);
}

async fn responses_for_round_latest_unrejected_revision(ctx: Ctx) {
    let s = &*ctx.store;
    let (sup, round_id, _rows) = round_with_sample(s, 1).await;
    s.create_round(&round("2026-HN-2"), sup.id).await.unwrap();
    let dtv = user(s, "dtv01", Role::Surveyor).await;
    let ids = assigned(s, &round_id, sup.id, dtv.id, 3).await;
    let other = assigned(s, "2026-HN-2", sup.id, dtv.id, 1).await;

    let a1 = response(&round_id, Some(ids[0]), 4);
    let a2 = revised(&a1, 2, 5);
    let b1 = response(&round_id, Some(ids[1]), 3);
    let c1 = response(&round_id, Some(ids[2]), 2);
    let elsewhere = response("2026-HN-2", Some(other[0]), 1);
    s.ingest(
        &[rec(&a1), rec(&a2), rec(&b1), rec(&c1), rec(&elsewhere)],
        dtv.id,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        s.responses_for_round(&round_id).await.unwrap(),
        vec![a2.clone(), b1.clone(), c1.clone()],
        "latest revision of each id, this round only, oldest id first"
    );

    // Rejecting the latest revision takes the response out; an older rejection does not.
    s.record_decision(
        &decision(&a1, Decision::Rejected, "2026-11-21T09:00:00Z"),
        sup.id,
    )
    .await
    .unwrap();
    s.record_decision(
        &decision(&b1, Decision::Rejected, "2026-11-21T09:00:00Z"),
        sup.id,
    )
    .await
    .unwrap();
    s.record_decision(
        &decision(&c1, Decision::Approved, "2026-11-21T09:00:00Z"),
        sup.id,
    )
    .await
    .unwrap();
    assert_eq!(
        s.responses_for_round(&round_id).await.unwrap(),
        vec![a2.clone(), c1.clone()]
    );

    // Resubmitted as revision 2: back in.
    let b2 = revised(&b1, 2, 4);
    s.ingest(&[rec(&b2)], dtv.id, None).await.unwrap();
    assert_eq!(
        s.responses_for_round(&round_id).await.unwrap(),
        vec![a2.clone(), b2.clone(), c1.clone()]
    );

    // The latest decision on a revision counts: reject after approve removes, approve again restores.
    s.record_decision(
        &decision(&c1, Decision::Rejected, "2026-11-22T09:00:00Z"),
        sup.id,
    )
    .await
    .unwrap();
    assert_eq!(
        s.responses_for_round(&round_id).await.unwrap(),
        vec![a2.clone(), b2.clone()]
    );
    s.record_decision(
        &decision(&c1, Decision::Approved, "2026-11-23T09:00:00Z"),
        sup.id,
    )
    .await
    .unwrap();
    assert_eq!(
        s.responses_for_round(&round_id).await.unwrap(),
        vec![a2, b2, c1]
    );
    assert_eq!(
        s.responses_for_round("2026-HN-2").await.unwrap(),
        vec![elsewhere]
    );
    assert!(s.responses_for_round("none").await.unwrap().is_empty());
}

async fn decisions_and_pull_cursor(ctx: Ctx) {
    let s = &*ctx.store;
    let (sup, round_id, rows) = round_with_sample(s, 2).await;
    let a = user(s, "dtv-a", Role::Surveyor).await;
    let b = user(s, "dtv-b", Role::Surveyor).await;
    s.assign(&[rows[0].id], a.id, sup.id).await.unwrap();
    s.assign(&[rows[1].id], b.id, sup.id).await.unwrap();
    let ra = response(&round_id, Some(rows[0].id), 4);
    let rb = response(&round_id, Some(rows[1].id), 3);
    s.ingest(&[rec(&ra)], a.id, None).await.unwrap();
    s.ingest(&[rec(&rb)], b.id, None).await.unwrap();

    let (none, c0) = s.decisions_since(a.id, 0).await.unwrap();
    assert!(none.is_empty());
    let rejected = decision(&ra, Decision::Rejected, "2026-11-21T09:30:15Z");
    s.record_decision(&rejected, sup.id).await.unwrap();
    let mut approved_b = decision(&rb, Decision::Approved, "2026-11-21T09:31:00Z");
    approved_b.comment = None;
    approved_b.item_comments.clear();
    s.record_decision(&approved_b, sup.id).await.unwrap();

    let (mine, c1) = s.decisions_since(a.id, c0).await.unwrap();
    assert_eq!(mine, vec![rejected.clone()], "only A's, all fields kept");
    assert!(c1 > c0);
    let (theirs, _) = s.decisions_since(b.id, 0).await.unwrap();
    assert_eq!(theirs, vec![approved_b]);
    let (nothing, c2) = s.decisions_since(a.id, c1).await.unwrap();
    assert!(nothing.is_empty());
    assert_eq!(c2, c1);

    let missing = s
        .record_decision(
            &decision(
                &revised(&ra, 7, 1),
                Decision::Approved,
                "2026-11-21T10:00:00Z",
            ),
            sup.id,
        )
        .await;
    assert!(
        matches!(
            missing,
            Err(StoreError::NotFound {
                what: "response",
                ..
            })
        ),
        "{missing:?}"
    );

    // One cursor for both kinds: everything since 0, then nothing, then only the new decision.
    let (assignments, decisions, p1) = s.pull_since(a.id, 0).await.unwrap();
    assert_eq!(assignments.len(), 1);
    assert_eq!(decisions, vec![rejected.clone()]);
    let (assignments, decisions, p2) = s.pull_since(a.id, p1).await.unwrap();
    assert!(assignments.is_empty() && decisions.is_empty());
    assert_eq!(p2, p1);
    let ra2 = revised(&ra, 2, 5);
    s.ingest(&[rec(&ra2)], a.id, None).await.unwrap();
    let approved = decision(&ra2, Decision::Approved, "2026-11-22T08:00:00Z");
    s.record_decision(&approved, sup.id).await.unwrap();
    let (assignments, decisions, p3) = s.pull_since(a.id, p2).await.unwrap();
    assert!(
        assignments.is_empty(),
        "already collected: no assignment change"
    );
    assert_eq!(decisions, vec![approved]);
    assert!(p3 > p2);
}

async fn progress_counts_per_surveyor(ctx: Ctx) {
    let s = &*ctx.store;
    let (sup, round_id, rows) = round_with_sample(s, 6).await;
    let a = user(s, "dtv-a", Role::Surveyor).await;
    let b = user(s, "dtv-b", Role::Surveyor).await;
    let c = user(s, "dtv-c", Role::Surveyor).await;
    s.assign(
        &[rows[0].id, rows[1].id, rows[2].id, rows[3].id],
        a.id,
        sup.id,
    )
    .await
    .unwrap();
    s.assign(&[rows[4].id, rows[5].id], b.id, sup.id)
        .await
        .unwrap();
    s.set_assignment_status(rows[2].id, AssignmentStatus::Refused, a.id)
        .await
        .unwrap();
    s.set_assignment_status(rows[3].id, AssignmentStatus::FormDelivered, a.id)
        .await
        .unwrap();
    s.set_assignment_status(rows[5].id, AssignmentStatus::Moved, b.id)
        .await
        .unwrap();

    let r0 = response(&round_id, Some(rows[0].id), 4);
    let r1 = response(&round_id, Some(rows[1].id), 5);
    s.ingest(&[rec(&r0), rec(&revised(&r0, 2, 3)), rec(&r1)], a.id, None)
        .await
        .unwrap();
    // B collects its assignment; C's upload of B's other assignment is refused (not C's),
    // so it counts for nobody.
    let r4 = response(&round_id, Some(rows[4].id), 2);
    s.ingest(&[rec(&r4)], b.id, None).await.unwrap();
    let taken = response(&round_id, Some(rows[5].id), 1);
    let out = s.ingest(&[rec(&taken)], c.id, None).await.unwrap();
    assert_eq!(statuses(&out), vec![AckStatus::Invalid]);
    // Another round's response does not count.
    s.create_round(&round("2026-HN-2"), sup.id).await.unwrap();
    let elsewhere = assigned(s, "2026-HN-2", sup.id, a.id, 1).await;
    s.ingest(
        &[rec(&response("2026-HN-2", Some(elsewhere[0]), 1))],
        a.id,
        None,
    )
    .await
    .unwrap();

    let p = s.progress(&round_id).await.unwrap();
    assert_eq!(
        p,
        BTreeMap::from([
            (
                a.id,
                Progress {
                    assigned: 4,
                    collected: 2,
                    non_response: 1,
                    synced: 2,
                    ..Default::default()
                }
            ),
            (
                b.id,
                Progress {
                    assigned: 2,
                    collected: 1,
                    non_response: 1,
                    synced: 1,
                    ..Default::default()
                }
            ),
        ])
    );
    assert!(s.progress("none").await.unwrap().is_empty());
}

async fn audit_log_is_append_only(ctx: Ctx) {
    let s = &*ctx.store;
    let admin = user(s, "admin", Role::Admin).await;
    s.audit(Some(admin.id), "user.login", None).await.unwrap();
    s.audit(None, "system.backup", Some("backup-2026-11-20"))
        .await
        .unwrap();
    let all = s.audit_entries(0, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["user.created", "user.login", "system.backup"]
    );
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(all[1].actor, Some(admin.id));
    assert_eq!(all[2].entity_id.as_deref(), Some("backup-2026-11-20"));
    assert!(all.iter().all(|e| e.at <= Utc::now()));
    let tail = s.audit_entries(all[0].seq, 1).await.unwrap();
    assert_eq!(tail, vec![all[1].clone()]);

    let update = ctx.raw_exec("UPDATE audit_log SET action = 'forged'").await;
    assert!(
        update.as_ref().is_err_and(|e| e.contains("append-only")),
        "{update:?}"
    );
    let delete = ctx.raw_exec("DELETE FROM audit_log").await;
    assert!(
        delete.as_ref().is_err_and(|e| e.contains("append-only")),
        "{delete:?}"
    );
    if let Db::Postgres(_) = ctx.db {
        let truncate = ctx.raw_exec("TRUNCATE audit_log").await;
        assert!(
            truncate.as_ref().is_err_and(|e| e.contains("append-only")),
            "{truncate:?}"
        );
    }
    assert_eq!(s.audit_entries(0, 100).await.unwrap(), all);
}

async fn reopen_keeps_everything(ctx: Ctx) {
    let backend = ctx.store.backend();
    let (sup, round_id, rows) = round_with_sample(&*ctx.store, 2).await;
    let dtv = user(&*ctx.store, "dtv01", Role::Surveyor).await;
    ctx.store
        .assign(&[rows[0].id], dtv.id, sup.id)
        .await
        .unwrap();
    let now = t("2026-11-20T08:00:00Z");
    ctx.store
        .create_session("sess", sup.id, now + Duration::hours(8))
        .await
        .unwrap();
    let r = response(&round_id, Some(rows[0].id), 4);
    ctx.store.ingest(&[rec(&r)], dtv.id, None).await.unwrap();
    let d = decision(&r, Decision::Approved, "2026-11-21T08:00:00Z");
    ctx.store.record_decision(&d, sup.id).await.unwrap();
    let (_, _, cursor) = ctx.store.pull_since(dtv.id, 0).await.unwrap();
    let audit = ctx.store.audit_entries(0, 1000).await.unwrap();

    let ctx = ctx.reopen().await;
    let s = &*ctx.store;
    assert_eq!(s.backend(), backend);
    assert_eq!(s.user_by_username("dtv01").await.unwrap().unwrap().0, dtv);
    assert_eq!(
        s.user_by_token_hash("sess", now).await.unwrap(),
        Some((sup.clone(), None))
    );
    assert_eq!(s.rounds().await.unwrap(), vec![round(&round_id)]);
    let (a, surveyor) = s.assignment(rows[0].id).await.unwrap().unwrap();
    assert_eq!(surveyor, Some(dtv.id));
    assert_eq!(a.contact.as_ref(), Some(&rows[0].contact));
    assert_eq!(a.status, AssignmentStatus::Collected);
    assert_eq!(
        s.response(r.id, 1).await.unwrap(),
        Some((r.clone(), dtv.id))
    );
    assert_eq!(
        s.responses_for_round(&round_id).await.unwrap(),
        vec![r.clone()]
    );
    assert_eq!(s.decisions_since(dtv.id, 0).await.unwrap().0, vec![d]);
    let (assignments, decisions, again) = s.pull_since(dtv.id, cursor).await.unwrap();
    assert!(assignments.is_empty() && decisions.is_empty());
    assert_eq!(again, cursor, "the change sequence survives a restart");
    assert_eq!(s.audit_entries(0, 1000).await.unwrap(), audit);
    // A retried upload after the restart is still a duplicate.
    let out = s.ingest(&[rec(&r)], dtv.id, None).await.unwrap();
    assert_eq!(statuses(&out), vec![AckStatus::Duplicate]);

    // Later writes continue the sequences.
    s.assign(&[rows[1].id], dtv.id, sup.id).await.unwrap();
    let (changed, next) = s.assignments_since(dtv.id, cursor).await.unwrap();
    assert_eq!(changed.len(), 1);
    assert!(next > cursor);
    s.audit(None, "after.reopen", None).await.unwrap();
    let last = s.audit_entries(0, 1000).await.unwrap();
    assert!(last.last().unwrap().seq > audit.last().unwrap().seq);
}

async fn bulk_ingest_stores_every_record_once(ctx: Ctx) {
    const BATCHES: usize = 20;
    const PER_BATCH: usize = 250;
    let s = &*ctx.store;
    let (sup, round_id, rows) = round_with_sample(s, BATCHES * PER_BATCH).await;
    let dtv = user(s, "dtv01", Role::Surveyor).await;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    assert_eq!(
        s.assign(&ids, dtv.id, sup.id).await.unwrap(),
        ids.len() as u64
    );
    let batches: Vec<Vec<(Response, String)>> = rows
        .chunks(PER_BATCH)
        .map(|chunk| {
            chunk
                .iter()
                .map(|row| rec(&response(&round_id, Some(row.id), 4)))
                .collect()
        })
        .collect();
    for batch in &batches {
        let out = s.ingest(batch, dtv.id, Some(Uuid::now_v7())).await.unwrap();
        assert!(out.iter().all(|o| o.status == AckStatus::Accepted));
    }
    // Throughput is measured by the ingest benchmark (BENCHMARKS.md), not here.
    assert_eq!(
        s.response_count().await.unwrap(),
        (BATCHES * PER_BATCH) as u64
    );
    let p = s.progress(&round_id).await.unwrap();
    assert_eq!(p[&dtv.id].collected, (BATCHES * PER_BATCH) as u64);
    assert_eq!(p[&dtv.id].synced, (BATCHES * PER_BATCH) as u64);
}

// --- review, spot checks, hand-over ----------------------------------------------------------

async fn users_by_role_and_device_keys(ctx: Ctx) {
    let s = &*ctx.store;
    let sup = user(s, "giamsat", Role::Supervisor).await;
    let b = user(s, "dtv-b", Role::Surveyor).await;
    let a = user(s, "dtv-a", Role::Surveyor).await;
    let m = user(s, "mttq", Role::Monitor).await;
    assert_eq!(
        s.users(Some(Role::Surveyor)).await.unwrap(),
        vec![a.clone(), b.clone()],
        "sorted by username"
    );
    assert_eq!(s.users(Some(Role::Monitor)).await.unwrap(), vec![m.clone()]);
    assert!(s.users(Some(Role::Admin)).await.unwrap().is_empty());
    assert_eq!(
        s.users(None).await.unwrap(),
        vec![a.clone(), b.clone(), sup.clone(), m.clone()]
    );

    let now = t("2026-11-20T08:00:00Z");
    s.create_enrolment_code("code-a", a.id, now + Duration::hours(1), sup.id)
        .await
        .unwrap();
    s.create_enrolment_code("code-b", b.id, now + Duration::hours(1), sup.id)
        .await
        .unwrap();
    let (dev_a, dev_b) = (Uuid::now_v7(), Uuid::now_v7());
    let key = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";
    assert_eq!(
        s.redeem_enrolment_code_with_key("code-a", dev_a, "Máy A", "tok-a", Some(key), now)
            .await
            .unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        s.redeem_enrolment_code("code-b", dev_b, "Máy B", "tok-b", now)
            .await
            .unwrap(),
        Some(b.clone())
    );
    assert_eq!(
        s.device(dev_a).await.unwrap(),
        Some(DeviceInfo {
            id: dev_a,
            user: a.clone(),
            public_key: Some(key.to_owned())
        })
    );
    assert_eq!(s.device(dev_b).await.unwrap().unwrap().public_key, None);
    assert_eq!(s.device(Uuid::now_v7()).await.unwrap(), None);
    // A used code does not enrol another device, key or not.
    assert_eq!(
        s.redeem_enrolment_code_with_key("code-a", Uuid::now_v7(), "X", "tok-x", Some(key), now)
            .await
            .unwrap(),
        None
    );
}

async fn progress_per_unit(ctx: Ctx) {
    let s = &*ctx.store;
    let (sup, round_id, rows) = round_with_sample(s, 3).await; // unit 00004
    let more = sample(3, "00007");
    s.import_sample(&round_id, &more, sup.id).await.unwrap();
    let idle = sample(1, "00010");
    s.import_sample(&round_id, &idle, sup.id).await.unwrap();
    let a = user(s, "dtv-a", Role::Surveyor).await;
    s.assign(&[rows[0].id, rows[1].id, more[0].id], a.id, sup.id)
        .await
        .unwrap();
    s.set_assignment_status(rows[1].id, AssignmentStatus::Absent, a.id)
        .await
        .unwrap();
    let r0 = response(&round_id, Some(rows[0].id), 4);
    let mut r7 = response(&round_id, Some(more[0].id), 5);
    r7.unit_code = "00007".into();
    s.ingest(&[rec(&r0), rec(&revised(&r0, 2, 2)), rec(&r7)], a.id, None)
        .await
        .unwrap();
    let p = s.progress_by_unit(&round_id).await.unwrap();
    let row = |assigned, collected, non_response, synced| Progress {
        assigned,
        collected,
        non_response,
        synced,
        ..Default::default()
    };
    assert_eq!(
        p,
        BTreeMap::from([
            ("00004".to_owned(), row(2, 1, 1, 1)),
            ("00007".to_owned(), row(1, 1, 0, 1)),
            ("00010".to_owned(), row(0, 0, 0, 0)),
        ])
    );
    assert!(s.progress_by_unit("none").await.unwrap().is_empty());
}

async fn review_items_decisions_and_report_responses(ctx: Ctx) {
    let s = &*ctx.store;
    let (sup, round_id, rows) = round_with_sample(s, 3).await;
    let a = user(s, "dtv-a", Role::Surveyor).await;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    s.assign(&ids, a.id, sup.id).await.unwrap();
    let r0 = response(&round_id, Some(rows[0].id), 4);
    let r1 = response(&round_id, Some(rows[1].id), 5);
    let r2 = response(&round_id, Some(rows[2].id), 3);
    s.ingest(&[rec(&r0), rec(&r1), rec(&r2)], a.id, None)
        .await
        .unwrap();
    // r0: rejected at 1, resubmitted as 2 (pending); r1 approved; r2 rejected.
    let d0 = decision(&r0, Decision::Rejected, "2026-11-21T08:00:00Z");
    s.record_decision(&d0, sup.id).await.unwrap();
    let r0b = revised(&r0, 2, 5);
    s.ingest(&[rec(&r0b)], a.id, None).await.unwrap();
    let d1a = decision(&r1, Decision::Rejected, "2026-11-21T09:00:00Z");
    let d1b = decision(&r1, Decision::Approved, "2026-11-21T10:00:00Z");
    s.record_decision(&d1a, sup.id).await.unwrap();
    s.record_decision(&d1b, sup.id).await.unwrap();
    let d2 = decision(&r2, Decision::Rejected, "2026-11-21T11:00:00Z");
    s.record_decision(&d2, sup.id).await.unwrap();

    let items = review_queue(s, &round_id, ReviewState::All, 1000).await;
    let brief: Vec<_> = items
        .iter()
        .map(|i| {
            (
                i.response.id,
                i.response.revision,
                i.surveyor_id,
                i.decision,
            )
        })
        .collect();
    let mut expected = vec![
        (r0.id, 2, a.id, None),
        (r1.id, 1, a.id, Some(Decision::Approved)),
        (r2.id, 1, a.id, Some(Decision::Rejected)),
    ];
    expected.sort_by_key(|e| e.0);
    assert_eq!(brief, expected);
    assert_eq!(
        items
            .iter()
            .find(|i| i.response.id == r0.id)
            .unwrap()
            .response,
        r0b
    );
    assert!(items.iter().all(|i| i.received_at <= Utc::now()));
    assert!(
        review_queue(s, "none", ReviewState::All, 10)
            .await
            .is_empty()
    );
    // Every state, read a page of one or two at a time, is the whole queue filtered in order.
    for state in [
        ReviewState::Pending,
        ReviewState::Approved,
        ReviewState::Rejected,
        ReviewState::NotRejected,
        ReviewState::All,
    ] {
        let want: Vec<_> = items
            .iter()
            .filter(|i| state.admits(i.decision))
            .cloned()
            .collect();
        for limit in [1, 2] {
            assert_eq!(
                review_queue(s, &round_id, state, limit).await,
                want,
                "{state:?}, pages of {limit}"
            );
        }
    }
    assert_eq!(
        brief
            .iter()
            .filter(|b| ReviewState::NotRejected.admits(b.3))
            .count(),
        2
    );
    // A page starts after the cursor, whether or not that response is in the state asked.
    let page = s
        .review_stretch(
            &round_id,
            &ReviewPage {
                state: ReviewState::All,
                after: Some(expected[0].0),
                limit: 5,
            },
            everyone(),
        )
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|i| i.response.id).collect::<Vec<_>>(),
        vec![expected[1].0, expected[2].0]
    );
    assert_eq!((page.looked, page.last), (2, Some(expected[2].0)));
    // A stretch looks at `limit` responses whatever their state, and says where it stopped.
    let first = s
        .review_stretch(
            &round_id,
            &ReviewPage {
                state: ReviewState::Approved,
                after: None,
                limit: 2,
            },
            everyone(),
        )
        .await
        .unwrap();
    assert_eq!((first.looked, first.last), (2, Some(expected[1].0)));
    let approved_in_first_two: Vec<Uuid> = expected[..2]
        .iter()
        .filter(|e| e.3 == Some(Decision::Approved))
        .map(|e| e.0)
        .collect();
    assert_eq!(
        first
            .items
            .iter()
            .map(|i| i.response.id)
            .collect::<Vec<_>>(),
        approved_in_first_two
    );
    // The scope is asked of the responses in the state only, with their binding's unit and
    // their assignment's agency code; those it refuses are looked at, never handed out.
    for (state, want_asked) in [(ReviewState::All, 3), (ReviewState::Approved, 1)] {
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&asked);
        let only_second: sipas_server::storage::Admit = Arc::new(move |unit, agency| {
            let mut seen = seen.lock().unwrap();
            seen.push((unit.to_owned(), agency.map(str::to_owned)));
            seen.len() == 2
        });
        let stretch = s
            .review_stretch(
                &round_id,
                &ReviewPage {
                    state,
                    after: None,
                    limit: 10,
                },
                only_second,
            )
            .await
            .unwrap();
        let asked = asked.lock().unwrap().clone();
        assert_eq!(
            asked,
            vec![("00004".to_owned(), None); want_asked],
            "{state:?}"
        );
        assert_eq!(stretch.looked, 3, "{state:?}");
        let handed: Vec<Uuid> = stretch.items.iter().map(|i| i.response.id).collect();
        match state {
            ReviewState::All => assert_eq!(handed, vec![expected[1].0]),
            _ => assert!(handed.is_empty(), "the one approved response was refused"),
        }
    }

    let history = s.decisions_for(r1.id, 1).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].decision, d1a);
    assert_eq!(history[1].decision, d1b);
    assert!(history.iter().all(|d| d.reviewer_id == sup.id));
    assert!(s.decisions_for(r0.id, 2).await.unwrap().is_empty());

    let (included, as_of) = s.report_responses(&round_id).await.unwrap();
    let mut want = vec![r0b.clone(), r1.clone()];
    want.sort_by_key(|r| r.id);
    assert_eq!(included, want);
    assert_eq!(included, s.responses_for_round(&round_id).await.unwrap());
    let latest = items.iter().map(|i| i.received_at).max().unwrap();
    assert_eq!(as_of, Some(latest));
    assert_eq!(s.report_responses("none").await.unwrap(), (vec![], None));
}

/// A round's assignment rows come by id, more than one channel's worth, from one snapshot;
/// a reader that stops early frees the store for the next call.
async fn assignment_rows_pass_by_one_at_a_time(ctx: Ctx) {
    let s = &*ctx.store;
    let (sup, round_id, rows) = round_with_sample(s, 600).await;
    let a = user(s, "dtv-a", Role::Surveyor).await;
    s.assign(&[rows[3].id], a.id, sup.id).await.unwrap();
    let mut seen = Vec::new();
    each_assignment_row(s, &round_id, |r| seen.push(r))
        .await
        .unwrap();
    let mut want: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    want.sort();
    assert_eq!(seen.iter().map(|r| r.id).collect::<Vec<_>>(), want);
    let third = seen.iter().find(|r| r.id == rows[3].id).unwrap();
    assert_eq!(third.surveyor_id, Some(a.id));
    assert_eq!(third.unit_code, "00004");
    assert_eq!(third.origin, "sample");
    let mut none = 0;
    each_assignment_row(s, "none", |_| none += 1).await.unwrap();
    assert_eq!(none, 0);
    // Stop after the first row, a few times: nothing is left holding the store.
    for _ in 0..5 {
        let mut stream = s.round_assignment_rows(&round_id).await.unwrap();
        assert!(stream.recv().await.unwrap().is_ok());
        drop(stream);
    }
    s.assign(&[rows[4].id], a.id, sup.id).await.unwrap();
    let mut assigned = 0;
    each_assignment_row(s, &round_id, |r| {
        assigned += usize::from(r.surveyor_id.is_some())
    })
    .await
    .unwrap();
    assert_eq!(assigned, 2);
}

/// The rows a request names (assign by ids, self-completion links) are looked up by id:
/// each at most once, only of the round asked, the same as the round's stream gives them.
async fn assignment_rows_by_id_only_of_the_round(ctx: Ctx) {
    let s = &*ctx.store;
    let (sup, round_id, rows) = round_with_sample(s, 600).await;
    let a = user(s, "dtv-a", Role::Surveyor).await;
    s.assign(&[rows[3].id], a.id, sup.id).await.unwrap();
    s.create_round(&round("2026-HN-2"), sup.id).await.unwrap();
    let other = sample(2, "00007");
    s.import_sample("2026-HN-2", &other, sup.id).await.unwrap();
    let asked = [
        rows[3].id,
        rows[599].id,
        rows[3].id,
        other[0].id,
        Uuid::now_v7(),
    ];
    let found = s
        .round_assignment_rows_by_id(&round_id, &asked)
        .await
        .unwrap();
    assert_eq!(
        found.keys().copied().collect::<Vec<_>>(),
        {
            let mut want = vec![rows[3].id, rows[599].id];
            want.sort();
            want
        },
        "another round's and unknown ids are absent, a repeated id is one row"
    );
    let mut streamed = BTreeMap::new();
    each_assignment_row(s, &round_id, |r| {
        if found.contains_key(&r.id) {
            streamed.insert(r.id, r);
        }
    })
    .await
    .unwrap();
    assert_eq!(found, streamed);
    assert_eq!(found[&rows[3].id].surveyor_id, Some(a.id));
    assert_eq!(found[&rows[599].id].surveyor_id, None);
    let theirs = s
        .round_assignment_rows_by_id("2026-HN-2", &asked)
        .await
        .unwrap();
    assert_eq!(theirs.keys().collect::<Vec<_>>(), vec![&other[0].id]);
    assert_eq!(theirs[&other[0].id].unit_code, "00007");
    assert!(
        s.round_assignment_rows_by_id(&round_id, &[])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.round_assignment_rows_by_id("none", &asked)
            .await
            .unwrap()
            .is_empty()
    );
}

/// An import and assignments of more rows than one statement takes (PostgreSQL writes them
/// 2,000 at a time): a repeated id, in the same chunk or a later one, is skipped and keeps
/// the first row's contact; moving rows away from a surveyor records every withdrawal; an
/// assignment with a response refuses the whole move, wherever it stands.
async fn large_import_and_assign_cross_statement_chunks(ctx: Ctx) {
    let s = &*ctx.store;
    let sup = user(s, "giamsat", Role::Supervisor).await;
    s.create_round(&round("2026-HN-1"), sup.id).await.unwrap();
    let rows = sample(4_100, "00004");
    let mut import = rows.clone();
    let mut again = rows[5].clone();
    again.contact.name = "Người khác".into();
    import.insert(6, again);
    let mut late = rows[1].clone();
    late.contact.address = "Địa chỉ khác".into();
    import.push(late);
    assert_eq!(
        s.import_sample("2026-HN-1", &import, sup.id).await.unwrap(),
        4_100
    );
    for i in [1, 5, 4_099] {
        let (a, _) = s.assignment(rows[i].id).await.unwrap().expect("imported");
        assert_eq!(a.contact.as_ref(), Some(&rows[i].contact), "row {i}");
    }
    let mut count = 0;
    each_assignment_row(s, "2026-HN-1", |_| count += 1)
        .await
        .unwrap();
    assert_eq!(count, 4_100);

    let a = user(s, "dtv-a", Role::Surveyor).await;
    let b = user(s, "dtv-b", Role::Surveyor).await;
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    ids.push(rows[7].id);
    assert_eq!(s.assign(&ids, a.id, sup.id).await.unwrap(), 4_100);
    let (_, cursor) = s.withdrawn_since(a.id, 0).await.unwrap();
    let moved: Vec<Uuid> = rows[..2_500].iter().map(|r| r.id).collect();
    assert_eq!(s.assign(&moved, b.id, sup.id).await.unwrap(), 2_500);
    let (withdrawn, _) = s.withdrawn_since(a.id, cursor).await.unwrap();
    let mut withdrawn_sorted = withdrawn.clone();
    withdrawn_sorted.sort();
    let mut moved_sorted = moved.clone();
    moved_sorted.sort();
    assert_eq!(withdrawn_sorted, moved_sorted);
    let audit = s.audit_entries(0, 20_000).await.unwrap();
    let withdrawals = audit
        .iter()
        .filter(|e| e.action == "assignment.withdrawn")
        .count();
    let assigned = audit
        .iter()
        .filter(|e| e.action == "assignment.assigned")
        .count();
    assert_eq!((withdrawals, assigned), (2_500, 6_600));
    assert_eq!(held_by(s, b.id).await, 2_500);

    // A response on a row far into the list: the whole move is refused, nothing moves.
    let r = response("2026-HN-1", Some(rows[3_900].id), 4);
    let out = s.ingest(&[rec(&r)], a.id, None).await.unwrap();
    assert_eq!(statuses(&out), vec![AckStatus::Accepted]);
    let rest: Vec<Uuid> = rows[2_500..].iter().map(|r| r.id).collect();
    let refused = s.assign(&rest, b.id, sup.id).await;
    assert!(
        matches!(refused, Err(StoreError::AssignmentHasResponse(id)) if id == rows[3_900].id),
        "{refused:?}"
    );
    let (none, _) = s.withdrawn_since(a.id, cursor).await.unwrap();
    assert_eq!(
        none.len(),
        2_500,
        "no withdrawal recorded by the refused move"
    );
    assert_eq!(held_by(s, b.id).await, 2_500);
}

/// How many assignments of round 2026-HN-1 `surveyor` holds.
async fn held_by(s: &dyn ServerStore, surveyor: Uuid) -> usize {
    let mut held = 0;
    each_assignment_row(s, "2026-HN-1", |r| {
        held += usize::from(r.surveyor_id == Some(surveyor))
    })
    .await
    .unwrap();
    held
}

/// Admits every response of a review stretch (a whole-server scope).
fn everyone() -> sipas_server::storage::Admit {
    Arc::new(|_, _| true)
}

/// The review queue of `round` in `state`, read in stretches of `limit` from the start.
async fn review_queue(
    s: &dyn ServerStore,
    round: &str,
    state: ReviewState,
    limit: u32,
) -> Vec<ReviewItem> {
    let (mut out, mut after) = (Vec::new(), None);
    loop {
        let stretch = s
            .review_stretch(
                round,
                &ReviewPage {
                    state,
                    after,
                    limit,
                },
                everyone(),
            )
            .await
            .unwrap();
        assert!(
            stretch.looked <= limit,
            "a stretch looks at most at its limit"
        );
        assert!(stretch.items.len() <= stretch.looked as usize);
        after = stretch.last.or(after);
        out.extend(stretch.items);
        if stretch.looked < limit {
            return out;
        }
    }
}

/// A round with one surveyor's `n` responses, their spot-check tasks (not stored yet) and a
/// monitor: (supervisor, surveyor, monitor, round id, rows, responses, tasks).
async fn spot_check_setup(
    s: &dyn ServerStore,
    n: usize,
) -> (
    UserInfo,
    UserInfo,
    UserInfo,
    String,
    Vec<SampleRow>,
    Vec<Response>,
    Vec<NewSpotCheckTask>,
) {
    let (sup, round_id, rows) = round_with_sample(s, n).await;
    let a = user(s, "dtv-a", Role::Surveyor).await;
    let m = user(s, "mttq", Role::Monitor).await;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    s.assign(&ids, a.id, sup.id).await.unwrap();
    let responses: Vec<Response> = rows
        .iter()
        .map(|r| response(&round_id, Some(r.id), 4))
        .collect();
    let recs: Vec<_> = responses.iter().map(rec).collect();
    s.ingest(&recs, a.id, None).await.unwrap();
    let tasks = responses
        .iter()
        .enumerate()
        .map(|(i, r)| NewSpotCheckTask {
            id: Uuid::now_v7(),
            round_id: round_id.clone(),
            response_id: r.id,
            revision: 1,
            surveyor_id: a.id,
            assignment_id: r.assignment_id,
            unit_code: r.unit_code.clone(),
            flagged: i == 0,
            quality_flags: if i == 0 {
                vec![QualityFlag::TooFast {
                    seconds: 30.0,
                    expected_min: 120.0,
                }]
            } else {
                vec![]
            },
            key_items: vec!["A1".into(), "C1_1".into()],
            seed: u64::MAX - 1,
        })
        .collect();
    (sup, a, m, round_id, rows, responses, tasks)
}

fn recheck_result(response_id: Uuid, agrees: bool) -> ReCheckResult {
    ReCheckResult {
        response_id,
        visit_happened: true,
        items: vec![ItemAgreement {
            code: "C1_1".into(),
            original: Some(AnswerValue::Int(4)),
            recheck: Some(AnswerValue::Int(if agrees { 4 } else { 2 })),
            agrees: Some(agrees),
        }],
        agreement_rate: Some(if agrees { 1.0 } else { 0.0 }),
    }
}

fn finding(task: Uuid, monitor: Uuid, response_id: Uuid, agrees: bool) -> NewFinding {
    NewFinding {
        task_id: task,
        monitor_id: monitor,
        visit_happened: true,
        answers: [(
            "C1_1".to_string(),
            AnswerValue::Int(if agrees { 4 } else { 2 }),
        )]
        .into(),
        note: Some("Gặp trực tiếp người trả lời".into()),
        result: recheck_result(response_id, agrees),
        submitted_at: t("2026-11-25T09:30:00Z"),
    }
}

async fn spot_check_tasks_assignment_and_final_findings(ctx: Ctx) {
    let s = &*ctx.store;
    let (sup, a, m, round_id, rows, responses, tasks) = spot_check_setup(s, 3).await;
    let other = user(s, "ccb", Role::Monitor).await;
    let audit_before = s.audit_entries(0, 10_000).await.unwrap().len();

    assert_eq!(
        s.create_spot_check_tasks(&tasks[..2], sup.id)
            .await
            .unwrap(),
        2
    );
    // Again, plus a new one, with fresh task ids for the same responses: only the new one.
    let mut again = tasks.clone();
    for t in &mut again[..2] {
        t.id = Uuid::now_v7();
    }
    assert_eq!(s.create_spot_check_tasks(&again, sup.id).await.unwrap(), 1);
    let listed = s.spot_check_tasks(&round_id).await.unwrap();
    assert_eq!(
        listed.iter().map(|t| t.task.clone()).collect::<Vec<_>>(),
        tasks,
        "stored as created, by task id"
    );
    assert!(
        listed
            .iter()
            .all(|t| t.monitor_id.is_none() && t.result.is_none())
    );
    assert_eq!(listed[0].task.seed, u64::MAX - 1, "u64 seeds survive");
    assert_eq!(listed[0].task.quality_flags.len(), 1);
    assert!(s.spot_check_tasks("none").await.unwrap().is_empty());
    let actions: Vec<String> = s.audit_entries(0, 10_000).await.unwrap()[audit_before..]
        .iter()
        .map(|e| e.action.clone())
        .collect();
    assert_eq!(actions, vec!["spot_check.created"; 3]);

    let t0 = tasks[0].id;
    assert_eq!(s.spot_check_task(t0).await.unwrap().unwrap(), listed[0]);
    assert_eq!(
        s.spot_check_task_for_response(responses[1].id)
            .await
            .unwrap()
            .unwrap()
            .task
            .id,
        tasks[1].id
    );
    assert_eq!(s.spot_check_task(Uuid::now_v7()).await.unwrap(), None);

    // Assign t0 to `other`, then re-assign to `m`; t1 to `m` too.
    assert!(s.assign_spot_check(t0, other.id, sup.id).await.unwrap());
    assert!(s.assign_spot_check(t0, m.id, sup.id).await.unwrap());
    assert!(
        s.assign_spot_check(tasks[1].id, m.id, sup.id)
            .await
            .unwrap()
    );
    let missing = s.assign_spot_check(Uuid::now_v7(), m.id, sup.id).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
    let nobody = s.assign_spot_check(t0, Uuid::now_v7(), sup.id).await;
    assert!(
        matches!(nobody, Err(StoreError::NotFound { what: "user", .. })),
        "{nobody:?}"
    );

    let mine = s.monitor_tasks(m.id).await.unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].task.task, tasks[0]);
    assert_eq!(mine[0].task.monitor_id, Some(m.id));
    assert_eq!(mine[0].form, form());
    assert_eq!(mine[0].contact.as_ref(), Some(&rows[0].contact));
    assert_eq!(
        mine[0].procedure.as_deref(),
        Some(rows[0].procedure.as_str())
    );
    assert!(s.monitor_tasks(other.id).await.unwrap().is_empty());
    assert!(s.monitor_tasks(a.id).await.unwrap().is_empty());

    // Findings: only by the assigned monitor, once.
    let f = finding(t0, m.id, responses[0].id, false);
    let wrong = NewFinding {
        monitor_id: other.id,
        ..f.clone()
    };
    assert_eq!(
        s.record_finding(&wrong).await.unwrap(),
        FindingOutcome::NotAssigned
    );
    let unassigned = finding(tasks[2].id, m.id, responses[2].id, true);
    assert_eq!(
        s.record_finding(&unassigned).await.unwrap(),
        FindingOutcome::NotAssigned
    );
    assert_eq!(
        s.record_finding(&f).await.unwrap(),
        FindingOutcome::Recorded
    );
    let second = finding(t0, m.id, responses[0].id, true);
    assert_eq!(
        s.record_finding(&second).await.unwrap(),
        FindingOutcome::AlreadyFinal
    );
    let missing = s
        .record_finding(&finding(Uuid::now_v7(), m.id, responses[0].id, true))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
    let done = s.spot_check_task(t0).await.unwrap().unwrap();
    assert_eq!(done.result, Some(f.result.clone()));
    // A done task cannot be re-assigned.
    assert!(!s.assign_spot_check(t0, other.id, sup.id).await.unwrap());
    assert_eq!(
        s.spot_check_task(t0).await.unwrap().unwrap().monitor_id,
        Some(m.id)
    );
    let last = s.audit_entries(0, 10_000).await.unwrap();
    let last = last.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor, last.entity_id.clone()),
        ("spot_check.finding", Some(m.id), Some(t0.to_string()))
    );

    // Findings are immutable at the database level.
    for sql in [
        "UPDATE spot_check_findings SET visit_happened = false",
        "UPDATE spot_check_findings SET note = 'sửa'",
        "DELETE FROM spot_check_findings",
    ] {
        let r = ctx.raw_exec(sql).await;
        assert!(
            r.as_ref().is_err_and(|e| e.contains("final")),
            "{sql}: {r:?}"
        );
    }
    if let Db::Postgres(_) = ctx.db {
        let r = ctx.raw_exec("TRUNCATE spot_check_findings CASCADE").await;
        assert!(r.as_ref().is_err_and(|e| e.contains("final")), "{r:?}");
    }
    assert_eq!(
        s.spot_check_task(t0).await.unwrap().unwrap().result,
        Some(f.result)
    );
}

async fn concurrent_findings_only_one_is_stored(ctx: Ctx) {
    let s = ctx.store.clone();
    let (sup, _a, m, _round_id, _rows, responses, tasks) = spot_check_setup(&*s, 1).await;
    s.create_spot_check_tasks(&tasks, sup.id).await.unwrap();
    s.assign_spot_check(tasks[0].id, m.id, sup.id)
        .await
        .unwrap();
    let mut handles = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        let f = finding(tasks[0].id, m.id, responses[0].id, i % 2 == 0);
        handles.push(tokio::spawn(
            async move { s.record_finding(&f).await.unwrap() },
        ));
    }
    let mut outcomes = Vec::new();
    for h in handles {
        outcomes.push(h.await.unwrap());
    }
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == FindingOutcome::Recorded)
            .count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, FindingOutcome::Recorded | FindingOutcome::AlreadyFinal))
    );
    let findings = s
        .audit_entries(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "spot_check.finding")
        .count();
    assert_eq!(findings, 1);
}

/// Stores `records` as a verified hand-over file of `device` imported by `importer`.
async fn ingest_handover(
    s: &dyn ServerStore,
    records: &[(Response, String)],
    user: Uuid,
    device: Uuid,
    importer: Uuid,
) -> Vec<sipas_server::storage::IngestOutcome> {
    use sipas_server::ingest::{Checked, IngestBatch, Source};
    let batch = IngestBatch {
        items: records
            .iter()
            .map(|(response, hash)| Checked::Valid {
                response: response.clone(),
                hash: hash.clone(),
            })
            .collect(),
        source: Source {
            surveyor: user,
            device: Some(device),
            handover_importer: Some(importer),
            mode: sipas_core::mode::ResponseMode::Capi,
        },
        received_at: Utc::now(),
        override_by: None,
    };
    s.ingest_batch(std::sync::Arc::new(batch))
        .await
        .unwrap()
        .into_iter()
        .map(|a| sipas_server::storage::IngestOutcome { status: a.status })
        .collect()
}

async fn handover_ingest_is_one_audited_transaction(ctx: Ctx) {
    let s = &*ctx.store;
    let (sup, round_id, rows) = round_with_sample(s, 2).await;
    let a = user(s, "dtv-a", Role::Surveyor).await;
    s.assign(&[rows[0].id, rows[1].id], a.id, sup.id)
        .await
        .unwrap();
    let device = Uuid::now_v7();
    let r0 = response(&round_id, Some(rows[0].id), 4);
    let r1 = response(&round_id, Some(rows[1].id), 5);
    let before = s.audit_entries(0, 10_000).await.unwrap().len();
    let out = ingest_handover(s, &[rec(&r0), rec(&r1)], a.id, device, sup.id).await;
    assert_eq!(
        statuses(&out),
        vec![AckStatus::Accepted, AckStatus::Accepted]
    );
    assert_eq!(
        s.response(r0.id, 1).await.unwrap(),
        Some((r0.clone(), a.id))
    );
    assert_eq!(
        s.assignment(rows[0].id).await.unwrap().unwrap().0.status,
        AssignmentStatus::Collected
    );
    let again = ingest_handover(s, &[rec(&r0), rec(&r1)], a.id, device, sup.id).await;
    assert_eq!(
        statuses(&again),
        vec![AckStatus::Duplicate, AckStatus::Duplicate]
    );
    // Even an import that stores nothing new is recorded.
    let empty = ingest_handover(s, &[], a.id, device, sup.id).await;
    assert!(empty.is_empty());
    let entries: Vec<_> = s.audit_entries(0, 10_000).await.unwrap()[before..]
        .iter()
        .map(|e| (e.action.clone(), e.actor, e.entity_id.clone()))
        .collect();
    let imported = (
        "handover.imported".to_owned(),
        Some(sup.id),
        Some(device.to_string()),
    );
    assert_eq!(
        entries,
        vec![
            (
                "response.accepted".to_owned(),
                Some(a.id),
                Some(format!("{}/1", r0.id))
            ),
            (
                "response.accepted".to_owned(),
                Some(a.id),
                Some(format!("{}/1", r1.id))
            ),
            imported.clone(),
            imported.clone(),
            imported,
        ]
    );
    assert_eq!(s.response_count().await.unwrap(), 2);
}

// --- backend-specific --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_is_wal_and_migrations_are_recorded_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    for _ in 0..3 {
        let store = open_store(path.to_str().unwrap()).await.unwrap();
        assert_eq!(store.backend(), "sqlite");
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let applied: Vec<(u32, String)> = conn
        .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let shipped: Vec<(u32, String)> = sipas_server::storage::migrations::SQLITE
        .iter()
        .map(|m| (m.version, m.name.to_owned()))
        .collect();
    assert_eq!(applied, shipped);
    assert_eq!(
        &applied[..2],
        &[
            (1, "init".to_owned()),
            (2, "review_spot_checks_handover".to_owned())
        ]
    );
}

/// The writer never checkpoints (its automatic checkpoint is off so that no commit waits for
/// one); the store's own thread moves committed pages into the database file while the
/// store is open, and the store still reads all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_checkpoints_run_beside_the_writer() {
    const N: usize = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    let s: &dyn ServerStore = &store;
    let (sup, round_id, rows) = round_with_sample(s, N).await;
    let dtv = user(s, "dtv01", Role::Surveyor).await;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    s.assign(&ids, dtv.id, sup.id).await.unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    for chunk in ids.chunks(250) {
        let batch: Vec<(Response, String)> = chunk
            .iter()
            .map(|a| rec(&response(&round_id, Some(*a), 4)))
            .collect();
        let out = s.ingest(&batch, dtv.id, None).await.unwrap();
        assert!(out.iter().all(|o| o.status == AckStatus::Accepted));
    }
    // About 2 MB of responses were committed to the log; the thread copies them over.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let now = std::fs::metadata(&path).unwrap().len();
        if now > before + 1_000_000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint moved the committed pages: {before} -> {now} bytes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(s.response_count().await.unwrap(), N as u64);
    drop(store);
    // The checkpoint thread's connection closes last: the log is folded in and removed, so a
    // cleanly closed store is one file.
    let wal = dir.path().join("server.sqlite-wal");
    assert!(
        !wal.exists(),
        "{} is left after a clean close",
        wal.display()
    );
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.response_count().await.unwrap(), N as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_database_of_version_1_is_upgraded_in_place() {
    use sipas_server::storage::migrations::SQLITE;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    let (user_id, device_id) = (Uuid::now_v7(), Uuid::now_v7());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(SQLITE[0].sql).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY NOT NULL, \
             name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT; \
             INSERT INTO schema_migrations VALUES (1, 'init', '2026-01-01T00:00:00.000000Z');",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO users (id, username, display_name, role, created_at) \
             VALUES (?1, 'dtv01', 'Điều tra viên', 'surveyor', '2026-01-01T00:00:00.000000Z')",
            [user_id.to_string()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO devices (id, user_id, name, token_hash, enrolled_at) \
             VALUES (?1, ?2, 'Máy cũ', 'tok', '2026-01-01T00:00:00.000000Z')",
            [device_id.to_string(), user_id.to_string()],
        )
        .unwrap();
    }
    let store = open_store(path.to_str().unwrap()).await.unwrap();
    let device = store.device(device_id).await.unwrap().unwrap();
    assert_eq!((device.user.id, device.public_key), (user_id, None));
    assert!(store.spot_check_tasks("R").await.unwrap().is_empty());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let versions: Vec<u32> = conn
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let shipped: Vec<u32> = SQLITE.iter().map(|m| m.version).collect();
    assert_eq!(versions, shipped, "every later migration applied in place");
    // 0008 rebuilt `users` (for the ministry role): rows and references are intact.
    let dangling: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(dangling, 0);
    let ministry = store
        .create_user(NewUser {
            username: "bnv".into(),
            display_name: "Bộ Nội vụ".into(),
            role: Role::Ministry,
            password_hash: None,
            created_by: Some(user_id),
            scope: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(store.user_by_id(ministry.id).await.unwrap(), Some(ministry));
    assert_eq!(
        store.user_by_id(user_id).await.unwrap().unwrap().username,
        "dtv01"
    );
}

#[tokio::test]
async fn sqlite_refuses_in_memory_databases() {
    for name in ["", ":memory:"] {
        let err = open_store(name).await.err().expect("refused");
        assert!(err.to_string().contains("file path"), "{err}");
    }
}

/// Environment variable naming the database file the crash child writes to.
const CRASH_CHILD_DB: &str = "SIPAS_STORAGE_CRASH_CHILD_DB";

/// Child half of [`sqlite_acknowledged_ingest_survives_sigkill`]: ingests batches and prints
/// the ids of each acknowledged batch until it is killed. Does nothing when run normally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by sqlite_acknowledged_ingest_survives_sigkill as a child process"]
async fn crash_child_ingests_until_killed() {
    use std::io::Write;
    let Some(path) = std::env::var_os(CRASH_CHILD_DB) else {
        return;
    };
    let s = SqliteStore::open(&path).expect("child opens store");
    let (sup, round_id, _rows) = round_with_sample(&s, 1).await;
    let dtv = user(&s, "dtv01", Role::Surveyor).await;
    println!("READY");
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(60) {
        let ids = assigned(&s, &round_id, sup.id, dtv.id, 25).await;
        let batch: Vec<_> = ids
            .iter()
            .map(|a| rec(&response(&round_id, Some(*a), 4)))
            .collect();
        let out = s.ingest(&batch, dtv.id, None).await.expect("child ingest");
        assert!(out.iter().all(|o| o.status == AckStatus::Accepted));
        let mut stdout = std::io::stdout().lock();
        for (r, _) in &batch {
            writeln!(stdout, "ACK {}", r.id).unwrap();
        }
        stdout.flush().unwrap();
    }
}

/// Every record acknowledged by `ingest` is on disk: SIGKILL the writer mid-stream, reopen,
/// and find all acknowledged responses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_acknowledged_ingest_survives_sigkill() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child_ingests_until_killed",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CRASH_CHILD_DB, &path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().unwrap();
    let mut acked = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("ACK ") {
            acked.push(Uuid::parse_str(id).unwrap());
            if acked.len() >= 1000 {
                break;
            }
        }
    }
    child.kill().expect("SIGKILL the child"); // SIGKILL on Unix
    child.wait().unwrap();
    assert!(
        acked.len() >= 1000,
        "child stopped early after {} acks",
        acked.len()
    );

    let s = open_store(path.to_str().unwrap()).await.unwrap();
    for id in &acked {
        assert!(
            s.response(*id, 1).await.unwrap().is_some(),
            "acknowledged response {id} lost"
        );
    }
    assert!(s.response_count().await.unwrap() >= acked.len() as u64);
}

/// Options given in the connection URL are kept beside the server's own session options
/// (custom plans, no JIT: see `storage/postgres.rs`), on every pooled connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_url_options_are_kept() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let sep = if db.url().contains('?') { '&' } else { '?' };
    let url = format!(
        "{}{sep}options=-c%20application_name%3Dsipas-url-options",
        db.url()
    );
    let store = PgStore::connect(&url).await.expect("connect with options");
    assert!(store.rounds().await.unwrap().is_empty());
    let (client, conn) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let named: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = $1 AND application_name = 'sipas-url-options'",
            &[&db.name()],
        )
        .await
        .unwrap()
        .get(0);
    assert!(named >= 1, "the URL's options reach the session");
}
