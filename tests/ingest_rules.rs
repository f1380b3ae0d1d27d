//! The ingest rules (issue 9) against the real `sipas-server` binary, on SQLite and
//! PostgreSQL. Each test is one defect found by exercising the server as a faulty or
//! dishonest device would:
//!
//! 1. takeover of another surveyor's response id → `conflict` (`bound_elsewhere`);
//! 2. a second interview for one sampled person → `conflict` (`assignment_has_response`),
//!    until a supervisor voids the first (it then leaves the index);
//! 3. revisions: after approval, gaps, another assignment, late lower revisions;
//!    review queue, progress by surveyor and by unit agree;
//! 4. 8 clients uploading overlapping batches in opposite orders: every answer 200, exact
//!    counts (PostgreSQL deadlocked here before);
//! 5. one malformed record is refused alone, the rest of the batch is stored;
//! 6. refused records are kept in quarantine, listed, accepted or dismissed, audited;
//! 7. implausible clocks are refused (`clock`) and quarantined.
use sipas_testkit::{fixture, server};

use chrono::{Duration as Days, TimeZone, Utc};
use fixture::{People, client, enrol_device, response_for, seed_people, seed_round};
use server::{Backend, TestServer};
use sipas_core::response::Response;
use sipas_protocol::problem::Problem;
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{
    AckReason, AckStatus, EnrolmentCode, EnrolmentCodeRequest, RecordAck, UploadBatch,
    UploadRecord, UserInfo,
};
use sipas_sync::{ApiClient, SyncError};
use uuid::Uuid;

const ROUND: &str = "2026-HN-RULES";

/// A seeded server: supervisor, surveyor A's device with 6 assignments, surveyor B's device
/// with 2 assignments of the same round.
struct Field {
    server: TestServer,
    people: People,
    a: ApiClient,
    a_ids: Vec<Uuid>,
    b: ApiClient,
    b_user: UserInfo,
    b_ids: Vec<Uuid>,
}

async fn field(backend: Backend) -> Option<Field> {
    let server = TestServer::start(backend)?;
    let people = seed_people(&server).await;
    let ids = seed_round(&people, ROUND, 8).await;
    let a = enrol_device(&server, &people).await;
    let b_user: UserInfo = people
        .admin
        .post_json(
            "/users",
            &serde_json::json!({
                "username": "dtv2", "display_name": "Điều tra viên Hai",
                "role": Role::Surveyor, "password": null,
            }),
        )
        .await
        .expect("create surveyor B");
    let (a_ids, b_ids) = (ids[..6].to_vec(), ids[6..].to_vec());
    let _: serde_json::Value = people
        .supervisor
        .post_json(
            &format!("/rounds/{ROUND}/assign"),
            &serde_json::json!({ "assignment_ids": b_ids, "surveyor_id": b_user.id }),
        )
        .await
        .expect("assign to B");
    let code: EnrolmentCode = people
        .supervisor
        .post_json(
            "/enrolment-codes",
            &EnrolmentCodeRequest {
                user_id: b_user.id,
                valid_minutes: Some(60),
            },
        )
        .await
        .expect("code for B");
    let mut b = client(&server);
    b.enrol(&code.code, "Máy B").await.expect("enrol B");
    Some(Field {
        server,
        people,
        a,
        a_ids,
        b,
        b_user,
        b_ids,
    })
}

fn rec(r: &Response) -> UploadRecord {
    UploadRecord {
        content_hash: r.content_hash(),
        response: r.clone(),
    }
}

async fn upload(device: &ApiClient, responses: &[&Response]) -> Vec<RecordAck> {
    let batch = UploadBatch {
        records: responses.iter().map(|r| rec(r)).collect(),
    };
    device.upload(&batch).await.expect("upload answered").acks
}

fn revised(r: &Response, revision: u32, variant: u64) -> Response {
    let mut next = r.clone();
    next.revision = revision;
    next.answers = fixture::fill_answers(&fixture::form(), variant);
    next
}

fn assert_ack(ack: &RecordAck, status: AckStatus, reason: Option<AckReason>) {
    assert_eq!(
        (ack.status, ack.reason_code),
        (status, reason),
        "ack {ack:?}"
    );
}

/// `total` of the round's progress, overall and by unit, and the review queue length.
async fn counts(people: &People) -> (serde_json::Value, serde_json::Value, usize) {
    let by_surveyor: serde_json::Value = people
        .supervisor
        .get_json(&format!("/rounds/{ROUND}/progress"))
        .await
        .expect("progress");
    let by_unit: serde_json::Value = people
        .supervisor
        .get_json(&format!("/rounds/{ROUND}/progress?by=unit"))
        .await
        .expect("progress by unit");
    let queue: Vec<serde_json::Value> = people
        .supervisor
        .get_json(&format!("/review/queue?round_id={ROUND}&state=all"))
        .await
        .expect("queue");
    // By unit: the sums of its rows (issue 10: `{round_id, by, total, rows}`).
    let mut unit_total = serde_json::Map::new();
    for key in ["assigned", "collected", "non_response", "synced"] {
        let sum: u64 = by_unit["rows"]
            .as_array()
            .expect("units")
            .iter()
            .map(|u| u[key].as_u64().expect("count"))
            .sum();
        unit_total.insert(key.into(), sum.into());
    }
    (by_surveyor["total"].clone(), unit_total.into(), queue.len())
}

/// Responses counted by the round's index.
async fn counted(people: &People) -> u64 {
    fixture::index_respondents(people, ROUND).await
}

use sipas_testkit::server_on_both_backends as both_backends;

both_backends!(takeover_is_a_conflict);
async fn takeover_is_a_conflict(backend: Backend) {
    let Some(f) = field(backend).await else {
        return;
    };
    let mine = response_for(ROUND, f.a_ids[0], 1);
    assert_ack(&upload(&f.a, &[&mine]).await[0], AckStatus::Accepted, None);
    assert_eq!(counted(&f.people).await, 1);
    // B names A's response id with its own assignment.
    let mut takeover = revised(&mine, 2, 2);
    takeover.assignment_id = Some(f.b_ids[0]);
    let acks = upload(&f.b, &[&takeover]).await;
    assert_ack(
        &acks[0],
        AckStatus::Conflict,
        Some(AckReason::BoundElsewhere),
    );
    // B names A's response id with A's own assignment: still bound to A.
    let mut same_assignment = revised(&mine, 2, 2);
    same_assignment.assignment_id = Some(f.a_ids[0]);
    let acks = upload(&f.b, &[&same_assignment]).await;
    assert_ack(
        &acks[0],
        AckStatus::Conflict,
        Some(AckReason::BoundElsewhere),
    );
    // Nothing moved: A's response is still the one counted, once, in its unit.
    let (total, by_unit, queue) = counts(&f.people).await;
    assert_eq!(total["synced"], 1);
    assert_eq!(by_unit["synced"], 1);
    assert_eq!(queue, 1);
    assert_eq!(counted(&f.people).await, 1);
    let stored = fixture::server_records(&f.server, ROUND);
    assert_eq!(stored.len(), 1, "only A's revision 1 is stored");
    let _ = f.b_user;
}

both_backends!(one_response_per_assignment_until_voided);
async fn one_response_per_assignment_until_voided(backend: Backend) {
    let Some(f) = field(backend).await else {
        return;
    };
    let first = response_for(ROUND, f.a_ids[0], 1);
    assert_ack(&upload(&f.a, &[&first]).await[0], AckStatus::Accepted, None);
    let extra: Vec<Response> = (0..3).map(|v| response_for(ROUND, f.a_ids[0], v)).collect();
    let acks = upload(&f.a, &extra.iter().collect::<Vec<_>>()).await;
    for ack in &acks {
        assert_ack(
            ack,
            AckStatus::Conflict,
            Some(AckReason::AssignmentHasResponse),
        );
    }
    let (total, by_unit, queue) = counts(&f.people).await;
    assert_eq!(
        (total["collected"].as_u64(), total["synced"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(by_unit["synced"], 1);
    assert_eq!(queue, 1);
    assert_eq!(counted(&f.people).await, 1);

    // A supervisor voids the first interview (a reason is required): it leaves the index,
    // and a re-interview under a new id is taken.
    let path = format!("/responses/{}/void", first.id);
    let err = f
        .people
        .supervisor
        .post_json::<_, serde_json::Value>(&path, &serde_json::json!({ "reason": "  " }))
        .await
        .expect_err("a void needs a reason");
    assert_problem(&err, "400.3");
    let voided: serde_json::Value = f
        .people
        .supervisor
        .post_json(
            &path,
            &serde_json::json!({ "reason": "Phỏng vấn nhầm người" }),
        )
        .await
        .expect("void");
    assert_eq!(voided["voided"], true);
    let again = f
        .people
        .supervisor
        .post_json::<_, serde_json::Value>(&path, &serde_json::json!({ "reason": "lần hai" }))
        .await
        .expect_err("voiding twice");
    assert_problem(&again, "409.1");
    assert_eq!(counted(&f.people).await, 0);
    let (total, _, queue) = counts(&f.people).await;
    assert_eq!(
        (total["collected"].as_u64(), total["synced"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(queue, 0);
    // The voided response takes no new revision; the re-interview is accepted.
    let acks = upload(&f.a, &[&revised(&first, 2, 3), &extra[0]]).await;
    assert_ack(&acks[0], AckStatus::Conflict, Some(AckReason::Voided));
    assert_ack(&acks[1], AckStatus::Accepted, None);
    assert_eq!(counted(&f.people).await, 1);
    // The surveyor cannot void.
    let err =
        f.a.post_json::<_, serde_json::Value>(
            &format!("/responses/{}/void", extra[0].id),
            &serde_json::json!({ "reason": "x" }),
        )
        .await
        .expect_err("surveyors cannot void");
    assert_problem(&err, "403.1");
}

both_backends!(revisions_follow_the_rules);
async fn revisions_follow_the_rules(backend: Backend) {
    let Some(f) = field(backend).await else {
        return;
    };
    let r = response_for(ROUND, f.a_ids[0], 1);
    let other = response_for(ROUND, f.a_ids[1], 2);
    upload(&f.a, &[&r, &other]).await;
    // Revision 2 while 1 is pending: taken. A gap (5 after 2): conflict.
    let r2 = revised(&r, 2, 3);
    assert_ack(&upload(&f.a, &[&r2]).await[0], AckStatus::Accepted, None);
    let acks = upload(&f.a, &[&revised(&r, 5, 4)]).await;
    assert_ack(&acks[0], AckStatus::Conflict, Some(AckReason::RevisionGap));
    // Revision 1 arriving late (resent): duplicate; a lower revision never stored before
    // cannot exist, and the stored latest stays 2.
    assert_ack(&upload(&f.a, &[&r]).await[0], AckStatus::Duplicate, None);
    // A revision naming another assignment (or unit) of the same surveyor: conflict.
    let mut moved = revised(&r, 3, 4);
    moved.assignment_id = Some(f.a_ids[2]);
    let acks = upload(&f.a, &[&moved]).await;
    assert_ack(
        &acks[0],
        AckStatus::Conflict,
        Some(AckReason::BoundElsewhere),
    );
    let mut other_unit = revised(&r, 3, 4);
    other_unit.unit_code = "00001".into();
    let acks = upload(&f.a, &[&other_unit]).await;
    assert_eq!(acks[0].status, AckStatus::Conflict, "{acks:?}");
    // Approve revision 2: revision 3 is then refused.
    let _: serde_json::Value = f
        .people
        .supervisor
        .post_json(
            &format!("/responses/{}/2/decision", r.id),
            &serde_json::json!({ "decision": "approved" }),
        )
        .await
        .expect("approve");
    let acks = upload(&f.a, &[&revised(&r, 3, 5)]).await;
    assert_ack(
        &acks[0],
        AckStatus::Conflict,
        Some(AckReason::AlreadyApproved),
    );
    // Queue, progress by surveyor and by unit agree: two responses.
    let (total, by_unit, queue) = counts(&f.people).await;
    assert_eq!(total["synced"], 2);
    assert_eq!(by_unit["synced"], 2);
    assert_eq!(total["collected"], 2);
    assert_eq!(queue, 2);
    assert_eq!(counted(&f.people).await, 2);
    // Rejecting the other response takes it out of the index (it stays in queue and
    // progress) until its next revision arrives.
    let _: serde_json::Value = f
        .people
        .supervisor
        .post_json(
            &format!("/responses/{}/1/decision", other.id),
            &serde_json::json!({ "decision": "rejected", "comment": "Sai câu B1" }),
        )
        .await
        .expect("reject");
    assert_eq!(counted(&f.people).await, 1);
    assert_eq!(counts(&f.people).await.2, 2);
    assert_ack(
        &upload(&f.a, &[&revised(&other, 2, 6)]).await[0],
        AckStatus::Accepted,
        None,
    );
    assert_eq!(counted(&f.people).await, 2);
}

both_backends!(overlapping_concurrent_batches_all_succeed);
async fn overlapping_concurrent_batches_all_succeed(backend: Backend) {
    let Some(f) = field(backend).await else {
        return;
    };
    // 6 assignments of A: every client sends all 6 new responses, half in reverse order.
    let responses: Vec<Response> = f
        .a_ids
        .iter()
        .enumerate()
        .map(|(i, a)| response_for(ROUND, *a, i as u64))
        .collect();
    let mut tasks = Vec::new();
    for c in 0..8 {
        let device = f.a.clone();
        let mut batch: Vec<Response> = responses.clone();
        if c % 2 == 1 {
            batch.reverse();
        }
        tasks.push(tokio::spawn(async move {
            let refs: Vec<&Response> = batch.iter().collect();
            let batch = UploadBatch {
                records: refs.iter().map(|r| rec(r)).collect(),
            };
            device.upload(&batch).await
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        let result = t.await.expect("task").expect("every upload answers 200");
        for ack in result.acks {
            assert!(
                matches!(ack.status, AckStatus::Accepted | AckStatus::Duplicate),
                "{ack:?}"
            );
            accepted += usize::from(ack.status == AckStatus::Accepted);
        }
    }
    assert_eq!(accepted, 6, "each response accepted exactly once");
    assert_eq!(fixture::server_records(&f.server, ROUND).len(), 6);
    assert_eq!(counted(&f.people).await, 6);
    // And competing new ids for the same assignments: exactly one per assignment wins.
    let mut tasks = Vec::new();
    for c in 0..8u64 {
        let device = f.b.clone();
        let mut batch: Vec<Response> = f.b_ids.iter().map(|a| response_for(ROUND, *a, c)).collect();
        if c % 2 == 1 {
            batch.reverse();
        }
        tasks.push(tokio::spawn(async move {
            let batch = UploadBatch {
                records: batch.iter().map(rec).collect(),
            };
            device.upload(&batch).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        for ack in t.await.expect("task").expect("200").acks {
            match ack.status {
                AckStatus::Accepted => won += 1,
                AckStatus::Conflict => {
                    assert_eq!(ack.reason_code, Some(AckReason::AssignmentHasResponse))
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(won, 2);
    assert_eq!(counted(&f.people).await, 8);
}

both_backends!(one_malformed_record_is_refused_alone);
async fn one_malformed_record_is_refused_alone(backend: Backend) {
    let Some(f) = field(backend).await else {
        return;
    };
    let good1 = response_for(ROUND, f.a_ids[0], 1);
    let good2 = response_for(ROUND, f.a_ids[1], 2);
    let bad = response_for(ROUND, f.a_ids[2], 3);
    let mut bad_json = serde_json::to_value(rec(&bad)).unwrap();
    // A rating written as 4.0: not an answer value.
    let answers = bad_json["response"]["answers"].as_object_mut().unwrap();
    let rating = answers
        .iter()
        .find(|(_, v)| v.as_i64().is_some_and(|n| (1..=5).contains(&n)))
        .map(|(k, _)| k.clone())
        .expect("a rating answer");
    answers.insert(rating, serde_json::json!(4.0));
    let body = serde_json::json!({ "records": [rec(&good1), bad_json, rec(&good2)] });
    let result: serde_json::Value =
        f.a.post_bytes(
            "/responses/batch",
            "application/json",
            serde_json::to_vec(&body).unwrap(),
        )
        .await
        .expect("the batch is answered 200");
    let acks: Vec<RecordAck> = serde_json::from_value(result["acks"].clone()).unwrap();
    assert_eq!(acks.len(), 3);
    assert_ack(&acks[0], AckStatus::Accepted, None);
    assert_eq!(acks[1].status, AckStatus::Invalid, "{:?}", acks[1]);
    assert_eq!(
        acks[1].id, bad.id,
        "the refused record's id is read where possible"
    );
    assert!(acks[1].quarantine_id.is_some());
    assert_ack(&acks[2], AckStatus::Accepted, None);
    // Resending the same batch: the two good ones are duplicates, the bad one is the same
    // quarantine entry (no second copy).
    let again: serde_json::Value =
        f.a.post_bytes(
            "/responses/batch",
            "application/json",
            serde_json::to_vec(&body).unwrap(),
        )
        .await
        .expect("200");
    let again: Vec<RecordAck> = serde_json::from_value(again["acks"].clone()).unwrap();
    assert_eq!(again[0].status, AckStatus::Duplicate);
    assert_eq!(again[1].quarantine_id, acks[1].quarantine_id);
    assert_eq!(again[2].status, AckStatus::Duplicate);
    let open: Vec<serde_json::Value> = f
        .people
        .supervisor
        .get_json("/quarantine")
        .await
        .expect("quarantine list");
    assert_eq!(open.len(), 1);
    // A body that is not a batch at all is still one problem for the whole request.
    let err = f
        .a
        .post_bytes::<serde_json::Value>("/responses/batch", "application/json", b"[1,2".to_vec())
        .await
        .expect_err("not JSON");
    assert_problem(&err, "400.1");
}

both_backends!(refused_records_are_kept_and_resolved);
async fn refused_records_are_kept_and_resolved(backend: Backend) {
    let Some(f) = field(backend).await else {
        return;
    };
    // A interviews a sampled person offline; meanwhile the supervisor moves the assignment
    // to B. A's upload is refused (not A's any more) but kept in quarantine.
    let r = response_for(ROUND, f.a_ids[0], 1);
    let _: serde_json::Value = f
        .people
        .supervisor
        .post_json(
            &format!("/rounds/{ROUND}/assign"),
            &serde_json::json!({ "assignment_ids": [f.a_ids[0]], "surveyor_id": f.b_user.id }),
        )
        .await
        .expect("move to B");
    let acks = upload(&f.a, &[&r]).await;
    assert_eq!(acks[0].status, AckStatus::Invalid);
    assert_eq!(acks[0].reason_code, Some(AckReason::NotYourAssignment));
    let qid = acks[0].quarantine_id.expect("kept in quarantine");
    assert!(
        !AckReason::NotYourAssignment.message_vi().is_empty(),
        "the device has a Vietnamese message for it"
    );
    // Also a hash mismatch, which can only be dismissed.
    let mut tampered = rec(&response_for(ROUND, f.a_ids[1], 2));
    tampered.content_hash = "00".repeat(32);
    let bad =
        f.a.upload(&UploadBatch {
            records: vec![tampered],
        })
        .await
        .expect("200")
        .acks;
    assert_eq!(bad[0].reason_code, Some(AckReason::HashMismatch));
    let bad_qid = bad[0].quarantine_id.expect("kept");
    assert_eq!(counted(&f.people).await, 0);

    let list: Vec<serde_json::Value> = f
        .people
        .supervisor
        .get_json(&format!("/quarantine?round_id={ROUND}"))
        .await
        .expect("list");
    assert_eq!(list.len(), 2);
    let entry = list
        .iter()
        .find(|e| e["id"] == qid.to_string())
        .expect("listed");
    assert_eq!(entry["reason_code"], "not_your_assignment");
    assert_eq!(entry["surveyor_id"], f.people.surveyor.id.to_string());
    // Monitors and surveyors cannot see it.
    assert_problem(
        &f.a.get_json::<serde_json::Value>("/quarantine")
            .await
            .expect_err("surveyor"),
        "403.1",
    );
    // The hash-mismatch record cannot be accepted; it can be dismissed, once.
    let err = f
        .people
        .supervisor
        .post_json::<_, serde_json::Value>(
            &format!("/quarantine/{bad_qid}/accept"),
            &serde_json::json!({}),
        )
        .await
        .expect_err("not acceptable");
    assert_problem(&err, "409.1");
    let _: serde_json::Value = f
        .people
        .supervisor
        .post_json(
            &format!("/quarantine/{bad_qid}/dismiss"),
            &serde_json::json!({ "note": "Tệp hỏng" }),
        )
        .await
        .expect("dismiss");
    let err = f
        .people
        .supervisor
        .post_json::<_, serde_json::Value>(
            &format!("/quarantine/{bad_qid}/dismiss"),
            &serde_json::json!({}),
        )
        .await
        .expect_err("twice");
    assert_problem(&err, "409.1");
    // The moved interview is accepted into its assignment: A did it, it is counted.
    let accepted: serde_json::Value = f
        .people
        .supervisor
        .post_json(
            &format!("/quarantine/{qid}/accept"),
            &serde_json::json!({ "note": "Đã phỏng vấn trước khi chuyển" }),
        )
        .await
        .expect("accept");
    assert_eq!(accepted["ack"]["status"], "accepted");
    assert_eq!(accepted["entry"]["resolution"], "accepted");
    assert_eq!(counted(&f.people).await, 1);
    // A's device resending it now gets a duplicate.
    assert_ack(&upload(&f.a, &[&r]).await[0], AckStatus::Duplicate, None);
    let open: Vec<serde_json::Value> = f
        .people
        .supervisor
        .get_json("/quarantine")
        .await
        .expect("open list");
    assert!(open.is_empty(), "{open:?}");
    let all: Vec<serde_json::Value> = f
        .people
        .supervisor
        .get_json("/quarantine?all=true")
        .await
        .expect("all");
    assert_eq!(all.len(), 2);
    // Every step is audited.
    let audit: Vec<serde_json::Value> = f
        .people
        .admin
        .get_json("/audit?limit=1000")
        .await
        .expect("audit");
    let actions: Vec<&str> = audit.iter().filter_map(|e| e["action"].as_str()).collect();
    for a in [
        "response.quarantined",
        "quarantine.dismissed",
        "quarantine.accepted",
        "response.accepted",
    ] {
        assert!(actions.contains(&a), "{a} audited: {actions:?}");
    }
}

both_backends!(implausible_clocks_are_refused);
async fn implausible_clocks_are_refused(backend: Backend) {
    let Some(f) = field(backend).await else {
        return;
    };
    let at = |i: usize, completed: chrono::DateTime<Utc>| {
        let mut r = response_for(ROUND, f.a_ids[i], i as u64);
        r.started_at = completed - Days::minutes(15);
        r.completed_at = completed;
        r
    };
    let now = Utc::now();
    let future = at(0, Utc.with_ymd_and_hms(2099, 1, 1, 8, 0, 0).unwrap());
    let month_ahead = at(1, now + Days::days(30));
    let epoch = at(2, Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap());
    let mut backwards = at(3, now);
    backwards.started_at = now + Days::minutes(5);
    let fine = at(4, now + Days::hours(2));
    let acks = upload(&f.a, &[&future, &month_ahead, &epoch, &backwards, &fine]).await;
    for ack in &acks[..4] {
        assert_eq!(
            (ack.status, ack.reason_code),
            (AckStatus::Invalid, Some(AckReason::Clock)),
            "{ack:?}"
        );
        assert!(ack.quarantine_id.is_some());
    }
    assert_ack(&acks[4], AckStatus::Accepted, None);
    assert_eq!(counted(&f.people).await, 1);
}

fn assert_problem(err: &SyncError, code: &str) {
    match err {
        SyncError::Server(Problem { code: c, .. }) => assert_eq!(c, code, "{err:?}"),
        other => panic!("expected problem {code}, got {other:?}"),
    }
}
