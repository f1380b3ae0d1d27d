//! Seeds a large round for the index benchmark (issue 14; `benches/index_scale.rs`) directly
//! through the storage layer: the same `ServerStore::import_sample`, `assign` and
//! `ingest` (ingest rules, answer counts in the same transaction) the HTTP handlers call,
//! without HTTP, decoding and per-record validation. Used when N is too large to upload
//! through the API in the time a benchmark run has.
//!
//! `bench_seed <database> <round id> <N> <units> <surveyor id> [provinces]`: round
//! `<round id>` with the built-in `sipas-6-groups@2026.1`, N assignments spread over `<units>`
//! synthetic commune codes (`9xxxx`), 5 agencies and 3 fields, all assigned to the surveyor,
//! then one valid response each, ingested in batches of [`BATCH`]. Prints the ingest rate. With
//! `provinces` P > 0 (national scale), the communes are `<units>` per province of P synthetic
//! provinces (`Pnn`, communes `Pnn-ccc`), imported into the unit catalogue first, so results
//! can be rolled up and ranked by province.
#![forbid(unsafe_code)]
use chrono::{Duration, NaiveDate, Utc};
use sipas_core::response::{Paradata, Response};
use sipas_core::units::{AdminUnit, UnitLevel};
use sipas_protocol::wire::{AckStatus, Contact, Round};
use sipas_server::forms::FormRegistry;
use sipas_server::storage::{CatalogueImport, SampleRow, open_store};
use std::time::Instant;
use uuid::Uuid;

/// Responses per `ingest` call (one transaction): larger than a device batch, so that
/// seeding a million responses takes minutes, not a quarter of an hour.
const BATCH: usize = 2_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (database, round_id, n, units, surveyor, provinces) = match args.as_slice() {
        [_, d, r, n, u, s] => (d, r, n, u, s, "0"),
        [_, d, r, n, u, s, p] => (d, r, n, u, s, p.as_str()),
        _ => {
            eprintln!(
                "usage: bench_seed <database> <round id> <N> <units> <surveyor id> [provinces]"
            );
            std::process::exit(2);
        }
    };
    let n: usize = n.parse().expect("N");
    let units: usize = units.parse().expect("units");
    let provinces: usize = provinces.parse().expect("provinces");
    let surveyor: Uuid = surveyor.parse().expect("surveyor id");
    let store = open_store(database).await.expect("open the database");
    let since = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let mut codes: Vec<String> = (0..units).map(|u| format!("9{u:04}")).collect();
    if provinces > 0 {
        let mut rows = Vec::new();
        codes.clear();
        for p in 0..provinces {
            let province = format!("P{p:02}");
            rows.push(AdminUnit {
                code: province.clone(),
                name: format!("Tỉnh {p:02}"),
                level: UnitLevel::Province,
                parent_code: None,
                valid_from: since,
                valid_to: None,
                replaced_by: Vec::new(),
            });
            for c in 0..units {
                let code = format!("{province}-{c:03}");
                rows.push(AdminUnit {
                    code: code.clone(),
                    name: format!("Xã {c:03} tỉnh {p:02}"),
                    level: UnitLevel::Commune,
                    parent_code: Some(province.clone()),
                    valid_from: since,
                    valid_to: None,
                    replaced_by: Vec::new(),
                });
                codes.push(code);
            }
        }
        store
            .import_catalogues(&[CatalogueImport::Units(rows)], None)
            .await
            .expect("import units");
    }
    let form = FormRegistry::builtin()
        .unwrap()
        .get(&sipas_core::questionnaire::FormKey {
            form_id: "sipas-6-groups".into(),
            version: "2026.1".into(),
        })
        .expect("built-in form");
    store
        .create_round(
            &Round {
                id: round_id.clone(),
                name: format!("Đợt đo {round_id}"),
                form: form.key(),
                starts_on: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                ends_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
                outside_sample: Default::default(),
            },
            surveyor,
        )
        .await
        .expect("create round");
    let t = Instant::now();
    let unit = |i: usize| codes[i % codes.len()].clone();
    let mut ids = Vec::with_capacity(n);
    for start in (0..n).step_by(10_000) {
        let rows: Vec<SampleRow> = (start..n.min(start + 10_000))
            .map(|i| SampleRow {
                id: Uuid::now_v7(),
                unit_code: unit(i),
                procedure: "Cấp giấy khai sinh".into(),
                agency: None,
                contact: Contact {
                    name: format!("Người {i}"),
                    address: "Hà Nội".into(),
                    phone: None,
                },
                unit_name: None,
                agency_code: Some(format!("CQ{}", i % 5)),
                field_code: Some(format!("LV{}", i % 3)),
                field_name: None,
                procedure_code: None,
            })
            .collect();
        store
            .import_sample(round_id, &rows, surveyor)
            .await
            .expect("import sample");
        let chunk: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        store
            .assign(&chunk, surveyor, surveyor)
            .await
            .expect("assign");
        ids.extend(chunk);
    }
    eprintln!("sample of {n} in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let now = Utc::now();
    for (b, chunk) in ids.chunks(BATCH).enumerate() {
        let records: Vec<(Response, String)> = chunk
            .iter()
            .enumerate()
            .map(|(k, a)| {
                let i = b * BATCH + k;
                let r = Response {
                    id: Uuid::now_v7(),
                    revision: 1,
                    form: form.key(),
                    assignment_id: Some(*a),
                    round_id: round_id.clone(),
                    unit_code: unit(i),
                    answers: sipas_testkit::fixture::fill_answers(&form, i as u64),
                    started_at: now - Duration::minutes(12),
                    completed_at: now,
                    paradata: Paradata::default(),
                    origin: Default::default(),
                };
                let hash = r.content_hash();
                (r, hash)
            })
            .collect();
        let acks = store
            .ingest(&records, surveyor, None)
            .await
            .expect("ingest");
        assert!(
            acks.iter().all(|a| a.status == AckStatus::Accepted),
            "every response accepted"
        );
    }
    let secs = t.elapsed().as_secs_f64();
    println!("{:.0}", n as f64 / secs);
    eprintln!("ingested {n} in {secs:.1} s ({:.0}/s)", n as f64 / secs);
}
