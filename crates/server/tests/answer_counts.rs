//! Property test of the index from counts (issue 14): random responses, revisions, approvals,
//! rejections (also of older revisions) and voids go through the real storage (SQLite file;
//! PostgreSQL when `SIPAS_TEST_DATABASE_URL` is set), and after every step the index read from
//! the answer counts must equal the reference engine over the re-read responses exactly
//! (every cell, both aggregation rules, four scopes) with the same "data as of", and so must
//! the results breakdowns (province, commune, agency, agency kind, field) computed from the
//! counts and from the responses. Odd seeds use the built-in form, even seeds a form
//! published on the server only (`form_versions`, issue 12), so the counts must read the
//! store's published versions. The counts are also rebuilt from nothing at start-up
//! (backfill) and must again be equal.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sipas_core::answer::{AnswerValue, Answers};
use sipas_core::catalogue::{Agency, AgencyKind};
use sipas_core::index::{Aggregation, IndexConfig, compute_index};
use sipas_core::questionnaire::{FormKey, GroupKind, Questionnaire};
use sipas_core::response::{Paradata, Response};
use sipas_core::units::UnitLevel;
use sipas_core::units::UnitTree;
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{AckStatus, Contact, Decision, ReviewDecision, Round};
use sipas_server::answer_counts::{self, Detail};
use sipas_server::app::AppState;
use sipas_server::forms::FormRegistry;
use sipas_server::results::{self, By, Names, RoundData, Source};
use sipas_server::scope::{RoundFilter, Scope};
use sipas_server::storage::{
    FormStatus, NewFormVersion, NewUser, PgStore, SampleRow, ScopeCodes, ServerStore, SqliteStore,
    open_store,
};
use sipas_testkit::pg::TestDatabase;
use std::sync::Arc;
use uuid::Uuid;

const SEED_UNITS: &str = include_str!("../../../schemas/units/vn-units-seed.json");
const ROUND: &str = "P-1";
const UNITS: [&str; 3] = ["95001", "95002", "95101"];
const AGENCIES: [Option<&str>; 3] = [Some("A1"), Some("A2"), None];
const FIELDS: [Option<&str>; 3] = [Some("F1"), None, Some("F2")];

/// A small deterministic generator (xorshift64*), so a failing seed can be replayed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

fn builtin_key() -> FormKey {
    FormKey {
        form_id: "sipas-6-groups".into(),
        version: "2026.1".into(),
    }
}

fn builtin_form() -> Arc<Questionnaire> {
    FormRegistry::builtin()
        .unwrap()
        .get(&builtin_key())
        .unwrap()
}

/// The built-in form under another key, as a province would publish it: stored in
/// `form_versions` as published, unknown to the built-in registry.
async fn publish_form(store: &dyn ServerStore) -> Arc<Questionnaire> {
    let mut v = serde_json::to_value(&*builtin_form()).unwrap();
    v["form_id"] = "sipas-tinh-95".into();
    v["version"] = "2026.2".into();
    let form = sipas_core::form_loader::load_form(&v.to_string()).unwrap();
    let c = sipas_server::forms::canonical(&v);
    let new = NewFormVersion {
        form_id: form.form_id.clone(),
        version: form.version.clone(),
        content_hash: c.content_hash,
        definition: c.definition,
        source_xlsx: None,
        title_vi: form.title.vi.clone(),
        uploaded_by: None,
    };
    assert!(
        store
            .insert_form_version(&new, FormStatus::Published)
            .await
            .unwrap()
    );
    assert!(FormRegistry::builtin().unwrap().get(&form.key()).is_none());
    Arc::new(form)
}

/// Random answers: every criterion a scale point, the no-answer code 9, an off-scale 7, a
/// text, or missing; B8 (G5 asked only when `co`) `co`, `khong` or missing.
fn answers(g: &mut Gen, form: &Questionnaire) -> Answers {
    let mut a = Answers::new();
    match g.below(3) {
        0 => {
            a.insert("B8".into(), AnswerValue::Text("co".into()));
        }
        1 => {
            a.insert("B8".into(), AnswerValue::Text("khong".into()));
        }
        _ => {}
    }
    for group in form.groups.iter().filter(|g| g.kind == GroupKind::Criteria) {
        for item in &group.items {
            let v = match g.below(10) {
                0..=4 => Some(AnswerValue::Int(1 + g.below(5) as i64)),
                5 => Some(AnswerValue::Int(9)),
                6 => Some(AnswerValue::Int(7)),
                7 => Some(AnswerValue::Text("4".into())),
                _ => None,
            };
            if let Some(v) = v {
                a.insert(item.code.clone(), v);
            }
        }
    }
    a
}

struct World {
    store: Arc<dyn ServerStore>,
    state: AppState,
    sup: Uuid,
    surveyor: Uuid,
    /// (assignment id, unit) not yet answered.
    free: Vec<(Uuid, String)>,
    /// Stored responses (latest revision we sent).
    responses: Vec<Response>,
    tree: Arc<UnitTree>,
    clock: DateTime<Utc>,
}

async fn user(store: &dyn ServerStore, name: &str, role: Role) -> Uuid {
    store
        .create_user(NewUser {
            username: name.into(),
            display_name: name.into(),
            role,
            password_hash: None,
            created_by: None,
            scope: Default::default(),
        })
        .await
        .unwrap()
        .id
}

async fn world(store: Arc<dyn ServerStore>, form: &Questionnaire) -> World {
    let sup = user(&*store, "giamsat", Role::Supervisor).await;
    let surveyor = user(&*store, "dtv", Role::Surveyor).await;
    store
        .create_round(
            &Round {
                id: ROUND.into(),
                name: "Vòng thử".into(),
                form: form.key(),
                starts_on: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                ends_on: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
                outside_sample: Default::default(),
            },
            sup,
        )
        .await
        .unwrap();
    let rows: Vec<SampleRow> = (0..60)
        .map(|i| SampleRow {
            id: Uuid::now_v7(),
            unit_code: UNITS[i % 3].into(),
            procedure: format!("Thủ tục {i}"),
            agency: None,
            contact: Contact {
                name: format!("Người {i}"),
                address: "Hà Nội".into(),
                phone: None,
            },
            unit_name: None,
            agency_code: AGENCIES[(i / 3) % 3].map(str::to_owned),
            field_code: FIELDS[(i / 9) % 3].map(str::to_owned),
            field_name: None,
            procedure_code: None,
        })
        .collect();
    store.import_sample(ROUND, &rows, sup).await.unwrap();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    store.assign(&ids, surveyor, sup).await.unwrap();
    let state = state_of(store.clone()).await;
    World {
        store,
        state,
        sup,
        surveyor,
        free: rows.iter().map(|r| (r.id, r.unit_code.clone())).collect(),
        responses: Vec::new(),
        tree: Arc::new(UnitTree::from_json(SEED_UNITS).unwrap()),
        clock: DateTime::parse_from_rfc3339("2026-11-10T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
    }
}

async fn state_of(store: Arc<dyn ServerStore>) -> AppState {
    let registry = FormRegistry::builtin().unwrap();
    registry.reload(&*store).await.unwrap();
    AppState::new(store, registry)
}

fn scopes(tree: &Arc<UnitTree>) -> Vec<Scope> {
    let s = |units: &[&str], agencies: &[&str]| Scope {
        codes: ScopeCodes {
            units: units.iter().map(|u| u.to_string()).collect(),
            agencies: agencies.iter().map(|a| a.to_string()).collect(),
        },
        tree: tree.clone(),
    };
    vec![
        s(&[], &[]),
        s(&["01"], &[]),
        s(&[], &["A1"]),
        s(&["95101"], &["A2"]),
    ]
}

fn agency(code: &str, kind: AgencyKind) -> (String, Agency) {
    (
        code.to_owned(),
        Agency {
            code: code.to_owned(),
            name: format!("Cơ quan {code}"),
            kind,
            unit_code: "95".into(),
            valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            valid_to: None,
        },
    )
}

/// The index and the results breakdowns from counts equal the reference for every scope
/// and rule.
async fn check(w: &World, form: &Questionnaire, step: &str) {
    let round = w.store.round(ROUND).await.unwrap().unwrap();
    let counts = w.store.round_counts(ROUND, Detail::Fields).await.unwrap();
    // Summed over fields (index, report, panels, results but by field).
    let cells = w.store.round_counts(ROUND, Detail::Cells).await.unwrap();
    assert_eq!(cells.data_as_of, counts.data_as_of, "data as of, {step}");
    assert!(cells.rows.len() <= counts.rows.len(), "{step}");
    assert!(cells.rows.iter().all(|r| r.field_code.is_empty()), "{step}");
    let (all, as_of) = w.store.report_responses(ROUND).await.unwrap();
    let codes = w.store.assignment_codes(ROUND).await.unwrap();
    assert_eq!(counts.data_as_of, as_of, "data as of, {step}");
    let bys = [
        By::Unit(UnitLevel::Province),
        By::Unit(UnitLevel::Commune),
        By::Agency,
        By::AgencyKind,
        By::Field,
    ];
    for scope in scopes(&w.tree) {
        let filter = RoundFilter::new(&w.state, &scope, ROUND, round.starts_on)
            .await
            .unwrap();
        let responses = filter.responses(all.clone());
        let by_codes = RoundFilter::for_codes(&scope, round.starts_on);
        for aggregation in [Aggregation::MeanOfCriteria, Aggregation::Pooled] {
            let config = IndexConfig {
                aggregation,
                ..IndexConfig::default()
            };
            let reference = compute_index(form, &responses, config.clone()).unwrap();
            let from_counts =
                answer_counts::index(form, ROUND, &counts, &by_codes, config.clone(), None)
                    .unwrap();
            let from_cells = answer_counts::index_of_rows(
                form,
                ROUND,
                &cells.clone().into_scope(&by_codes).rows,
                config,
                None,
            )
            .unwrap();
            assert_eq!(
                from_cells, reference,
                "{step}: cells, scope {:?}",
                scope.codes
            );
            assert_eq!(
                from_counts, reference,
                "{step}: scope {:?}, {aggregation:?}",
                scope.codes
            );
        }
        let names = Names {
            scope: scope.clone(),
            agencies: [
                agency("A1", AgencyKind::UbndXa),
                agency("A2", AgencyKind::YTe),
            ]
            .into(),
            fields: Default::default(),
        };
        let data = |source| RoundData {
            round: round.clone(),
            plan: Default::default(),
            form: Arc::new(form.clone()),
            source,
            data_as_of: as_of,
        };
        let from_counts = data(Source::Counts(
            counts.in_scope(&by_codes).cloned().collect(),
        ));
        let from_cells = data(Source::Counts(cells.clone().into_scope(&by_codes).rows));
        let from_answers = data(Source::Answers {
            responses: responses.clone(),
            codes: codes.clone(),
        });
        for by in &bys {
            for aggregation in [Aggregation::MeanOfCriteria, Aggregation::Pooled] {
                let c = results::breakdown(&from_counts, &names, by, 2, aggregation).unwrap();
                let a = results::breakdown(&from_answers, &names, by, 2, aggregation).unwrap();
                assert_eq!(c, a, "{step}: scope {:?}, by {by:?}", scope.codes);
                if !matches!(by, By::Field) {
                    let c = results::breakdown(&from_cells, &names, by, 2, aggregation).unwrap();
                    assert_eq!(c, a, "{step}: cells, scope {:?}, by {by:?}", scope.codes);
                }
            }
        }
    }
}

/// One random step; returns its description.
async fn step(w: &mut World, g: &mut Gen, form: &Questionnaire) -> String {
    w.clock += Duration::seconds(1 + g.below(100) as i64);
    let choice = if w.responses.is_empty() {
        0
    } else {
        g.below(10)
    };
    match choice {
        0..=3 if !w.free.is_empty() => {
            let (assignment, unit) = w.free.swap_remove(g.below(w.free.len()));
            let r = Response {
                id: Uuid::now_v7(),
                revision: 1,
                form: form.key(),
                assignment_id: Some(assignment),
                round_id: ROUND.into(),
                unit_code: unit,
                answers: answers(g, form),
                started_at: w.clock,
                completed_at: w.clock + Duration::minutes(10),
                paradata: Paradata::default(),
                origin: Default::default(),
            };
            // Sometimes its first two revisions arrive in one batch (the count refresh of
            // a response the batch binds reads nothing back: it must take the later one).
            if g.below(3) == 0 {
                let mut second = r.clone();
                second.revision = 2;
                second.answers = answers(g, form);
                let outcome = w
                    .store
                    .ingest(
                        &[
                            (r.clone(), r.content_hash()),
                            (second.clone(), second.content_hash()),
                        ],
                        w.surveyor,
                        None,
                    )
                    .await
                    .unwrap();
                assert!(outcome.iter().all(|o| o.status == AckStatus::Accepted));
                w.responses.push(second);
                return "new response, two revisions in one batch".into();
            }
            w.store
                .ingest(&[(r.clone(), r.content_hash())], w.surveyor, None)
                .await
                .unwrap();
            w.responses.push(r);
            "new response".into()
        }
        4 | 5 => {
            let i = g.below(w.responses.len());
            let mut next = w.responses[i].clone();
            next.revision += 1;
            next.answers = answers(g, form);
            let outcome = w
                .store
                .ingest(&[(next.clone(), next.content_hash())], w.surveyor, None)
                .await
                .unwrap();
            // The rules may refuse it (approved, voided): then the stored one stays.
            if outcome[0].status == AckStatus::Accepted {
                w.responses[i] = next;
                "revision".into()
            } else {
                format!("revision refused ({:?})", outcome[0].status)
            }
        }
        6..=8 => {
            let r = g.pick(&w.responses).clone();
            // mostly the latest revision, sometimes an older one
            let revision = if r.revision > 1 && g.below(4) == 0 {
                1 + g.below(r.revision as usize - 1) as u32
            } else {
                r.revision
            };
            let decision = if g.below(2) == 0 {
                Decision::Approved
            } else {
                Decision::Rejected
            };
            w.store
                .record_decision(
                    &ReviewDecision {
                        response_id: r.id,
                        revision,
                        decision,
                        comment: Some("kiểm tra".into()),
                        item_comments: Default::default(),
                        decided_at: w.clock,
                    },
                    w.sup,
                )
                .await
                .unwrap();
            format!("{decision:?} of revision {revision}")
        }
        _ => {
            let r = g.pick(&w.responses).clone();
            w.store
                .void_response(r.id, w.sup, "phỏng vấn lại", w.clock)
                .await
                .unwrap();
            "void".into()
        }
    }
}

/// Where the database lives, to wipe the counts and reopen it.
enum Db {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Db {
    async fn wipe_counts(&self) {
        const WIPE: &str = "DELETE FROM answer_counts; DELETE FROM response_facts;";
        match self {
            Db::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.execute_batch(WIPE).unwrap();
            }
            Db::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                client.batch_execute(WIPE).await.unwrap();
            }
        }
    }
    fn target(&self) -> String {
        match self {
            Db::Sqlite(p) => p.to_str().unwrap().to_owned(),
            Db::Postgres(url) => url.clone(),
        }
    }
}

async fn run(store: Arc<dyn ServerStore>, db: Db, seed: u64, steps: usize) {
    let form = if seed.is_multiple_of(2) {
        publish_form(&*store).await
    } else {
        builtin_form()
    };
    let mut g = Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut w = world(store, &form).await;
    check(&w, &form, "empty round").await;
    for i in 0..steps {
        let what = step(&mut w, &mut g, &form).await;
        check(&w, &form, &format!("seed {seed} step {i} ({what})")).await;
    }
    // Rebuilt from nothing when the database is opened (data from before 0011).
    let counts = w.store.round_counts(ROUND, Detail::Fields).await.unwrap();
    assert!(!counts.rows.is_empty(), "seed {seed}: some counts kept");
    let World {
        store,
        free,
        responses,
        tree,
        clock,
        sup,
        surveyor,
        ..
    } = w;
    drop(store);
    db.wipe_counts().await;
    let store = open_store(&db.target()).await.unwrap();
    assert_eq!(
        store
            .round_counts(ROUND, Detail::Fields)
            .await
            .unwrap()
            .rows
            .len(),
        counts.rows.len()
    );
    let w = World {
        state: state_of(store.clone()).await,
        store,
        sup,
        surveyor,
        free,
        responses,
        tree,
        clock,
    };
    check(&w, &form, &format!("seed {seed} after backfill")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_counts_equal_the_reference_engine() {
    for seed in 1..=6u64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.sqlite");
        let store: Arc<dyn ServerStore> = Arc::new(SqliteStore::open(&path).unwrap());
        run(store, Db::Sqlite(path), seed, 70).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_counts_equal_the_reference_engine() {
    for seed in 1..=2u64 {
        let Some(db) = TestDatabase::create() else {
            return;
        };
        let url = db.url().to_owned();
        let store: Arc<dyn ServerStore> = Arc::new(PgStore::connect(&url).await.unwrap());
        run(store, Db::Postgres(url), seed, 50).await;
        drop(db);
    }
}
