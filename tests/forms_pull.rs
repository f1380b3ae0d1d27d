//! Published forms reach devices (issue 12), against the real `sipas-server` binary on
//! SQLite and PostgreSQL: an admin publishes a questionnaire that is not built in, a round uses
//! it, the device pulls its assignments and downloads the form (content hash checked) and the
//! round's catalogue bundle; a response to that version stays counted after a new version is
//! published and the old one retired; a definition altered on the server after its hash was
//! taken is refused by the device and nothing is stored.
use chrono::NaiveDate;
use sipas_core::questionnaire::FormKey;
use sipas_protocol::wire::Round;
use sipas_store::{Store, StoreError, form_content_hash};
use sipas_sync::{SyncConfig, SyncError, Syncer};
use sipas_testkit::fixture::{
    self, People, UNIT_CODE, enrol_device, index_respondents, interview, seed_people,
};
use sipas_testkit::server::{Backend, TestServer};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_form_reaches_the_device_on_sqlite() {
    published_form_reaches_the_device(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_form_reaches_the_device_on_postgres() {
    published_form_reaches_the_device(Backend::Postgres).await;
}

const FORM_ID: &str = "hn-dich-vu-cong";

/// The built-in six-group form under another id and version, with its own title.
fn definition(version: &str, title: &str) -> serde_json::Value {
    let (_, source) = sipas_core::builtin::BUILTIN_FORM_SOURCES
        .iter()
        .find(|(p, _)| p.starts_with("sipas-6-groups/"))
        .expect("built-in six-group form");
    let mut v: serde_json::Value = serde_json::from_str(source).unwrap();
    v["form_id"] = FORM_ID.into();
    v["version"] = version.into();
    v["title"]["vi"] = title.into();
    v
}

async fn publish(people: &People, version: &str, title: &str) -> String {
    let body = serde_json::to_vec(&definition(version, title)).unwrap();
    let up: serde_json::Value = people
        .admin
        .post_bytes("/forms/drafts", "application/json", body)
        .await
        .expect("upload draft");
    assert_eq!(up["status"], "draft");
    let published: serde_json::Value = people
        .admin
        .post_json(
            &format!("/forms/{FORM_ID}/{version}/publish"),
            &serde_json::json!({}),
        )
        .await
        .expect("publish");
    assert_eq!(published["status"], "published");
    published["content_hash"].as_str().unwrap().to_owned()
}

async fn round_with(people: &People, round_id: &str, version: &str, n: usize) {
    let sup = &people.supervisor;
    let round = Round {
        id: round_id.into(),
        name: format!("Đợt {round_id}"),
        form: FormKey {
            form_id: FORM_ID.into(),
            version: version.into(),
        },
        starts_on: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        outside_sample: Default::default(),
    };
    let _: serde_json::Value = sup.post_json("/rounds", &round).await.expect("round");
    let mut csv = String::from("unit_code,procedure,agency,name,address,phone\n");
    for i in 0..n {
        csv.push_str(&format!(
            "{UNIT_CODE},Cấp giấy khai sinh,UBND phường,{},{},{}\n",
            fixture::contact_name(i),
            fixture::contact_address(i),
            fixture::contact_phone(i)
        ));
    }
    let imported: serde_json::Value = sup
        .post_bytes(
            &format!("/rounds/{round_id}/sample"),
            "text/csv",
            csv.into_bytes(),
        )
        .await
        .expect("sample");
    let _: serde_json::Value = sup
        .post_json(
            &format!("/rounds/{round_id}/assign"),
            &serde_json::json!({
                "assignment_ids": imported["assignment_ids"],
                "surveyor_id": people.surveyor.id,
            }),
        )
        .await
        .expect("assign");
}

/// Changes the stored definition of `version` behind the server's back (its hash stays).
async fn tamper(server: &TestServer, version: &str) {
    let sql = "UPDATE form_versions SET definition = replace(definition, 'Hà Nội', 'Hà Tây') \
               WHERE form_id = 'hn-dich-vu-cong' AND version = ";
    if let Some(path) = server.sqlite_path() {
        let conn = rusqlite::Connection::open(path).unwrap();
        let n = conn.execute(&format!("{sql}'{version}'"), []).unwrap();
        assert_eq!(n, 1);
    } else {
        let (client, conn) = tokio_postgres::connect(&server.database(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let n = client
            .execute(&format!("{sql}'{version}'"), &[])
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
}

async fn published_form_reaches_the_device(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    let hash1 = publish(&people, "2026.1", "Khảo sát dịch vụ công Hà Nội").await;
    round_with(&people, "2026-HN-F1", "2026.1", 3).await;

    let device = enrol_device(&server, &people).await;
    let syncer = Syncer::new(
        device,
        SyncConfig {
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
            ..SyncConfig::default()
        },
    );
    let mut store = Store::open(server.dir().join("device.db")).expect("device store");
    let pulled = syncer.pull(&mut store).await.expect("pull");
    assert_eq!(pulled.assignments, 3);
    assert_eq!(pulled.forms.fetched, 1, "{pulled:?}");
    assert_eq!(pulled.forms.refused, 0);
    assert_eq!(pulled.forms.bundles, 1);
    let stored = store
        .form(FORM_ID, "2026.1")
        .unwrap()
        .expect("form stored on the device");
    assert_eq!(stored.content_hash, hash1);
    assert_eq!(stored.status, "published");
    let def: serde_json::Value = serde_json::from_str(&stored.definition).unwrap();
    assert_eq!(form_content_hash(&def).0, hash1);
    assert_eq!(def["title"]["vi"], "Khảo sát dịch vụ công Hà Nội");
    // The catalogue bundle of the round: fields and procedures (seeded) in the option shape.
    let fields = store
        .catalogue_options("fields", Some("2026-HN-F1"))
        .unwrap();
    assert!(!fields.is_empty());
    let procedures = store.catalogue_options("procedures", None).unwrap();
    assert!(procedures.iter().all(|p| p.attrs.contains_key("field")));
    let units = store.catalogue_options("units", None).unwrap();
    assert!(units.iter().any(|u| u.value == UNIT_CODE));
    // A second pull fetches nothing again.
    assert_eq!(syncer.pull(&mut store).await.unwrap().forms.fetched, 0);

    // One interview with version 2026.1, synced and counted.
    let done = interview(&mut store, 1);
    assert_eq!(done[0].form.version, "2026.1");
    let report = syncer.sync(&mut store).await.expect("sync");
    assert_eq!(report.push.acked, 1, "{report:?}");
    assert_eq!(index_respondents(&people, "2026-HN-F1").await, 1);

    // A new version is published and the old one retired: the old response stays counted
    // by its version, and the old version stays readable.
    let hash2 = publish(&people, "2026.2", "Khảo sát dịch vụ công Hà Nội (bản 2)").await;
    assert_ne!(hash1, hash2);
    let _: serde_json::Value = people
        .admin
        .post_json(
            &format!("/forms/{FORM_ID}/2026.1/retire"),
            &serde_json::json!({}),
        )
        .await
        .expect("retire");
    assert_eq!(index_respondents(&people, "2026-HN-F1").await, 1);
    let old: serde_json::Value = people
        .supervisor
        .get_json(&format!("/forms/{FORM_ID}/2026.1"))
        .await
        .expect("retired version readable");
    assert_eq!(old["status"], "retired");
    assert_eq!(old["content_hash"], hash1.as_str());

    // Version 2026.2 is altered on the server after its hash was taken: the device refuses it.
    round_with(&people, "2026-HN-F2", "2026.2", 1).await;
    tamper(&server, "2026.2").await;
    let err = syncer.pull(&mut store).await.expect_err("mismatch refused");
    match err {
        SyncError::Store(StoreError::FormHashMismatch {
            form_id,
            version,
            expected,
            ..
        }) => {
            assert_eq!((form_id.as_str(), version.as_str()), (FORM_ID, "2026.2"));
            assert_eq!(expected, hash2);
        }
        other => panic!("expected a hash mismatch, got {other}"),
    }
    assert!(store.form(FORM_ID, "2026.2").unwrap().is_none());
    // The assignments of the pull were applied all the same; the first form stays.
    assert_eq!(store.list_assignments().unwrap().len(), 4);
    assert!(store.form(FORM_ID, "2026.1").unwrap().is_some());
}
