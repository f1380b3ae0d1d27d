//! Interviews outside the sample (issue 9, item 14) against the real `sipas-server` binary,
//! on SQLite and PostgreSQL: a round that allows walk-ins takes them up to its cap per unit,
//! creates their assignments and counts them apart; over the cap, in a unit that is not the
//! round's, or in a round that does not allow them, they are refused and quarantined.
use sipas_testkit::{fixture, server};

use chrono::NaiveDate;
use fixture::{People, enrol_device, form_key, response_for, seed_people, seed_round};
use server::{Backend, TestServer};
use sipas_core::response::{Origin, Response};
use sipas_protocol::wire::{
    AckReason, AckStatus, OutsideSample, RecordAck, Round, UploadBatch, UploadRecord,
};
use sipas_sync::{ApiClient, SyncError};
use uuid::Uuid;

const ROUND: &str = "2026-HN-MOTCUA";
const UNIT: &str = fixture::UNIT_CODE;
const OTHER_UNIT: &str = "95002";

use sipas_testkit::server_on_both_backends as both_backends;

/// Creates [`ROUND`] with `policy` and a sample of 3 in [`UNIT`] and 1 in [`OTHER_UNIT`],
/// named in the frame, all assigned to the surveyor. Returns the assignment ids.
async fn seed_policy_round(people: &People, policy: OutsideSample) -> Vec<Uuid> {
    let round = Round {
        id: ROUND.into(),
        name: "Đợt Một cửa 2026".into(),
        form: form_key(),
        starts_on: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        outside_sample: policy,
    };
    let created: Round = people
        .supervisor
        .post_json("/rounds", &round)
        .await
        .expect("create round");
    assert_eq!(created.outside_sample, policy);
    let mut csv = String::from("unit_code,ten_don_vi,procedure,name,address\n");
    for (i, unit, name) in [
        (0, UNIT, "Phường Ba Đình"),
        (1, UNIT, "Phường Ba Đình"),
        (2, UNIT, "Phường Ba Đình"),
        (3, OTHER_UNIT, "Phường Hồng Hà"),
    ] {
        csv.push_str(&format!(
            "{unit},{name},Cấp giấy khai sinh,{},{}\n",
            fixture::contact_name(i),
            fixture::contact_address(i)
        ));
    }
    let imported: serde_json::Value = people
        .supervisor
        .post_bytes(
            &format!("/rounds/{ROUND}/sample"),
            "text/csv",
            csv.into_bytes(),
        )
        .await
        .expect("import sample");
    let ids: Vec<Uuid> = serde_json::from_value(imported["assignment_ids"].clone()).unwrap();
    let _: serde_json::Value = people
        .supervisor
        .post_json(
            &format!("/rounds/{ROUND}/assign"),
            &serde_json::json!({ "assignment_ids": ids, "surveyor_id": people.surveyor.id }),
        )
        .await
        .expect("assign");
    ids
}

/// A completed interview outside the sample: no assignment, `origin` set.
fn outside(round_id: &str, unit: &str, origin: Origin, variant: u64) -> Response {
    let mut r = response_for(round_id, Uuid::nil(), variant);
    r.assignment_id = None;
    r.unit_code = unit.into();
    r.origin = origin;
    r
}

async fn upload(device: &ApiClient, responses: &[&Response]) -> Vec<RecordAck> {
    let batch = UploadBatch {
        records: responses
            .iter()
            .map(|r| UploadRecord {
                content_hash: r.content_hash(),
                response: (*r).clone(),
            })
            .collect(),
    };
    device.upload(&batch).await.expect("upload answered").acks
}

fn assert_ack(ack: &RecordAck, status: AckStatus, reason: Option<AckReason>) {
    assert_eq!(
        (ack.status, ack.reason_code),
        (status, reason),
        "ack {ack:?}"
    );
}

/// Progress of one unit of [`ROUND`].
async fn unit_progress(people: &People, unit: &str) -> serde_json::Value {
    // Issue 10: `{round_id, by, total, rows: [{key, ...}]}`.
    let by_unit: serde_json::Value = people
        .supervisor
        .get_json(&format!("/rounds/{ROUND}/progress?by=unit"))
        .await
        .expect("progress by unit");
    by_unit["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .find(|u| u["key"] == unit)
        .unwrap_or_else(|| panic!("unit {unit} in progress"))
}

async fn open_quarantine(people: &People) -> Vec<serde_json::Value> {
    people
        .supervisor
        .get_json(&format!("/quarantine?round_id={ROUND}"))
        .await
        .expect("quarantine")
}

both_backends!(walk_ins_are_taken_up_to_the_cap_and_counted_apart);
async fn walk_ins_are_taken_up_to_the_cap_and_counted_apart(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    let policy = OutsideSample {
        replacement: false,
        walk_in: true,
        cap_per_unit: 2,
    };
    let sampled = seed_policy_round(&people, policy).await;
    let device = enrol_device(&server, &people).await;

    // The device learns the round's policy and its units by name (no codes to type).
    let pulled = device.pull(0).await.expect("pull");
    let round = pulled
        .rounds
        .iter()
        .find(|r| r.round.id == ROUND)
        .expect("the round allowing walk-ins is in the pull");
    assert_eq!(round.round.outside_sample, policy);
    let names: Vec<(&str, &str)> = round
        .units
        .iter()
        .map(|u| (u.name.as_str(), u.code.as_str()))
        .collect();
    assert_eq!(
        names,
        [("Phường Ba Đình", UNIT), ("Phường Hồng Hà", OTHER_UNIT)]
    );
    assert_eq!(pulled.assignments.len(), sampled.len());

    // Two walk-ins in the unit are taken; the third is over the cap.
    let w: Vec<Response> = (0..3)
        .map(|v| outside(ROUND, UNIT, Origin::WalkIn, v))
        .collect();
    let acks = upload(&device, &[&w[0], &w[1], &w[2]]).await;
    assert_ack(&acks[0], AckStatus::Accepted, None);
    assert_ack(&acks[1], AckStatus::Accepted, None);
    assert_ack(
        &acks[2],
        AckStatus::Invalid,
        Some(AckReason::OutsideSampleCap),
    );
    assert!(
        acks[2].quarantine_id.is_some(),
        "over the cap is quarantined"
    );
    // Resent: duplicates, nothing more counted.
    let again = upload(&device, &[&w[0]]).await;
    assert_ack(&again[0], AckStatus::Duplicate, None);
    // A replacement is not allowed in this round; a walk-in elsewhere is not the round's unit.
    let repl = outside(ROUND, UNIT, Origin::Replacement, 7);
    let stranger = outside(ROUND, "99999", Origin::WalkIn, 8);
    let acks = upload(&device, &[&repl, &stranger]).await;
    assert_ack(&acks[0], AckStatus::Invalid, Some(AckReason::NoAssignment));
    assert_ack(&acks[1], AckStatus::Invalid, Some(AckReason::UnknownUnit));
    // The other unit has its own cap.
    let there = outside(ROUND, OTHER_UNIT, Origin::WalkIn, 9);
    assert_ack(
        &upload(&device, &[&there]).await[0],
        AckStatus::Accepted,
        None,
    );

    // A sampled interview alongside.
    let sampled_response = response_for(ROUND, sampled[0], 3);
    assert_ack(
        &upload(&device, &[&sampled_response]).await[0],
        AckStatus::Accepted,
        None,
    );

    // Progress per unit counts them apart: `assigned` / `collected` are sampled persons.
    let p = unit_progress(&people, UNIT).await;
    assert_eq!(
        (
            p["assigned"].as_u64(),
            p["collected"].as_u64(),
            p["synced"].as_u64(),
            p["walk_in"].as_u64(),
            p["replacement"].as_u64()
        ),
        (Some(3), Some(1), Some(3), Some(2), Some(0)),
        "{p}"
    );
    let p = unit_progress(&people, OTHER_UNIT).await;
    assert_eq!(
        (p["synced"].as_u64(), p["walk_in"].as_u64()),
        (Some(1), Some(1))
    );
    let total: serde_json::Value = people
        .supervisor
        .get_json(&format!("/rounds/{ROUND}/progress"))
        .await
        .expect("progress");
    assert_eq!(total["total"]["synced"], 4);
    assert_eq!(total["total"]["walk_in"], 3);
    assert_eq!(total["total"]["assigned"], 4);
    // The index counts every accepted interview (the round allows them).
    assert_eq!(fixture::index_respondents(&people, ROUND).await, 4);
    // The three refusals are kept for a supervisor, with their reasons.
    let mut reasons: Vec<String> = open_quarantine(&people)
        .await
        .iter()
        .map(|e| e["reason_code"].as_str().unwrap().to_owned())
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        ["no_assignment", "outside_sample_cap", "unknown_unit"]
    );

    // A later revision of a walk-in is taken like any other (bound to its new assignment).
    let mut rev2 = w[0].clone();
    rev2.revision = 2;
    rev2.answers = fixture::fill_answers(&fixture::form(), 11);
    assert_ack(
        &upload(&device, &[&rev2]).await[0],
        AckStatus::Accepted,
        None,
    );
    // Its origin cannot change in a revision.
    let mut relabelled = rev2.clone();
    relabelled.revision = 3;
    relabelled.origin = Origin::Replacement;
    assert_ack(
        &upload(&device, &[&relabelled]).await[0],
        AckStatus::Invalid,
        Some(AckReason::AssignmentMismatch),
    );
    // The created assignments are not sent to the device as things to do.
    let pulled = device.pull(pulled.cursor).await.expect("pull again");
    assert!(
        pulled.assignments.iter().all(|a| sampled.contains(&a.id)),
        "{:?}",
        pulled.assignments
    );

    // Voiding a walk-in frees its place under the cap.
    let _: serde_json::Value = people
        .supervisor
        .post_json(
            &format!("/responses/{}/void", w[1].id),
            &serde_json::json!({ "reason": "Khách không phải người dân đến làm thủ tục" }),
        )
        .await
        .expect("void");
    let fresh = outside(ROUND, UNIT, Origin::WalkIn, 12);
    assert_ack(
        &upload(&device, &[&fresh]).await[0],
        AckStatus::Accepted,
        None,
    );
    let over = outside(ROUND, UNIT, Origin::WalkIn, 13);
    assert_ack(
        &upload(&device, &[&over]).await[0],
        AckStatus::Invalid,
        Some(AckReason::OutsideSampleCap),
    );
    let p = unit_progress(&people, UNIT).await;
    assert_eq!(
        (p["synced"].as_u64(), p["walk_in"].as_u64()),
        (Some(3), Some(2))
    );
}

both_backends!(a_round_without_the_policy_refuses_free_interviews);
async fn a_round_without_the_policy_refuses_free_interviews(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    seed_round(&people, ROUND, 2).await;
    let device = enrol_device(&server, &people).await;
    let pulled = device.pull(0).await.expect("pull");
    assert!(pulled.rounds.is_empty(), "no round takes free interviews");
    let walk_in = outside(ROUND, UNIT, Origin::WalkIn, 1);
    let replacement = outside(ROUND, UNIT, Origin::Replacement, 2);
    let mut bare = outside(ROUND, UNIT, Origin::Sample, 3);
    bare.origin = Origin::Sample;
    let acks = upload(&device, &[&walk_in, &replacement, &bare]).await;
    for ack in &acks {
        assert_ack(ack, AckStatus::Invalid, Some(AckReason::NoAssignment));
        assert!(ack.quarantine_id.is_some());
    }
    assert_eq!(open_quarantine(&people).await.len(), 3);
    assert_eq!(fixture::index_respondents(&people, ROUND).await, 0);
}

both_backends!(a_policy_needs_a_cap);
async fn a_policy_needs_a_cap(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    let round = serde_json::json!({
        "id": ROUND, "name": "Đợt", "form": form_key(),
        "starts_on": "2026-11-01", "ends_on": "2026-12-31",
        "outside_sample": { "replacement": true, "walk_in": false, "cap_per_unit": 0 },
    });
    let err = people
        .supervisor
        .post_json::<_, serde_json::Value>("/rounds", &round)
        .await
        .expect_err("cap 0 with replacements allowed");
    match err {
        SyncError::Server(p) => assert_eq!(p.code, "400.3", "{p:?}"),
        other => panic!("expected a problem, got {other:?}"),
    }
    // Old clients send no policy: the round takes none.
    let old = serde_json::json!({
        "id": ROUND, "name": "Đợt", "form": form_key(),
        "starts_on": "2026-11-01", "ends_on": "2026-12-31",
    });
    let created: Round = people
        .supervisor
        .post_json("/rounds", &old)
        .await
        .expect("a round without a policy");
    assert_eq!(created.outside_sample, OutsideSample::default());
}
