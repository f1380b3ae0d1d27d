//! Durability of acknowledgements: uploads run in a loop while the real `sipas-server` is
//! SIGKILLed at a random moment. After a restart on the same database every record the server
//! had acknowledged must be there; resending everything yields only `accepted` / `duplicate`
//! (never `conflict`), and the server ends up with exactly the distinct records sent.
//! Three kills per backend (SQLite and PostgreSQL); the seed of the kill moments is printed
//! and can be replayed with `SIPAS_KILL_SEED=<seed>`.
use sipas_testkit::{fixture, server};

use fixture::{enrol_device, key, response_for, seed_people, seed_round, server_records};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use server::{Backend, TestServer};
use sipas_core::response::Response;
use sipas_protocol::wire::{AckStatus, UploadBatch, UploadRecord};
use sipas_sync::ApiClient;
use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Kill / restart cycles per backend.
const CYCLES: usize = 3;
/// New records per cycle.
const PER_CYCLE: usize = 200;
/// Records per upload.
const BATCH: usize = 10;
/// Default seed of the kill moments.
const SEED: u64 = 1124;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_on_sqlite() {
    kill_and_restart(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_on_postgres() {
    kill_and_restart(Backend::Postgres).await;
}

fn batch(records: &[Response]) -> UploadBatch {
    UploadBatch {
        records: records
            .iter()
            .map(|r| UploadRecord {
                response: r.clone(),
                content_hash: r.content_hash(),
            })
            .collect(),
    }
}

fn device_client(server: &TestServer, token: &str) -> ApiClient {
    ApiClient::with_timeout(&server.url, Duration::from_secs(10))
        .unwrap()
        .with_token(token)
}

async fn kill_and_restart(backend: Backend) {
    let Some(mut server) = TestServer::start(backend) else {
        return;
    };
    let seed = std::env::var("SIPAS_KILL_SEED")
        .ok()
        .map_or(SEED, |s| s.parse().expect("SIPAS_KILL_SEED: u64"));
    eprintln!("server kill on {backend:?}: seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let round = "KILL-1";
    let people = seed_people(&server).await;
    let assignments = seed_round(&people, round, CYCLES * PER_CYCLE).await;
    let token = enrol_device(&server, &people)
        .await
        .token()
        .unwrap()
        .to_string();

    let mut sent: Vec<Response> = Vec::new();
    let mut ever_acked: HashSet<(Uuid, u32)> = HashSet::new();
    for cycle in 0..CYCLES {
        let t0 = Instant::now();
        let records: Vec<Response> = assignments[cycle * PER_CYCLE..(cycle + 1) * PER_CYCLE]
            .iter()
            .enumerate()
            .map(|(i, a)| response_for(round, *a, i as u64))
            .collect();
        sent.extend(records.iter().cloned());

        // Upload in a loop (cycling over the records) until the server dies under us.
        let kill_after = Duration::from_millis(rng.random_range(60..300));
        let killer = server.killer();
        let kill = tokio::spawn(async move {
            tokio::time::sleep(kill_after).await;
            tokio::task::spawn_blocking(move || killer.kill())
                .await
                .unwrap()
        });
        let client = device_client(&server, &token);
        let mut acked_now: HashSet<(Uuid, u32)> = HashSet::new();
        let mut uploads = 0usize;
        let started = Instant::now();
        let failure = 'upload: loop {
            for chunk in records.chunks(BATCH) {
                match client.upload(&batch(chunk)).await {
                    Ok(result) => {
                        uploads += 1;
                        for ack in result.acks {
                            assert!(
                                ack.status.is_delivered(),
                                "cycle {cycle}: unexpected ack before the kill: {ack:?}"
                            );
                            acked_now.insert((ack.id, ack.revision));
                        }
                    }
                    Err(e) => break 'upload e,
                }
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "cycle {cycle}: the server was never killed"
                );
            }
        };
        assert!(
            kill.await.unwrap(),
            "cycle {cycle}: upload failed before the kill: {failure}"
        );
        assert!(failure.is_transient(), "cycle {cycle}: {failure}");
        eprintln!(
            "  {backend:?} cycle {cycle}: killed after {} ms, {uploads} uploads answered, {} of {PER_CYCLE} new \
             records acknowledged before the kill",
            kill_after.as_millis(),
            acked_now.iter().filter(|k| !ever_acked.contains(k)).count(),
        );
        ever_acked.extend(acked_now);

        // Restart on the same database: everything acknowledged so far is there.
        server.restart();
        let on_server = server_records(&server, round);
        let sent_keys: Vec<_> = sent.iter().map(key).collect();
        for k in &sent_keys {
            if ever_acked.contains(&(k.0, k.1)) {
                assert!(
                    on_server.contains(k),
                    "cycle {cycle}: acknowledged record {} revision {} lost by the kill",
                    k.0,
                    k.1
                );
            }
        }
        let expected: BTreeSet<_> = sent_keys.iter().cloned().collect();
        assert!(
            on_server.is_subset(&expected),
            "cycle {cycle}: server holds records never sent"
        );

        // Resend everything: only accepted / duplicate, acknowledged ones are duplicates.
        let client = device_client(&server, &token);
        for chunk in sent.chunks(100) {
            let result = client
                .upload(&batch(chunk))
                .await
                .unwrap_or_else(|e| panic!("cycle {cycle}: resend after restart: {e}"));
            assert_eq!(result.acks.len(), chunk.len());
            for ack in &result.acks {
                match ack.status {
                    AckStatus::Duplicate => {}
                    AckStatus::Accepted => assert!(
                        !ever_acked.contains(&(ack.id, ack.revision)),
                        "cycle {cycle}: acknowledged record {} came back as new",
                        ack.id
                    ),
                    other => panic!("cycle {cycle}: resend answered {other:?}: {ack:?}"),
                }
                ever_acked.insert((ack.id, ack.revision));
            }
        }
        let on_server = server_records(&server, round);
        assert_eq!(on_server.len(), sent.len(), "cycle {cycle}");
        assert_eq!(on_server, expected, "cycle {cycle}");
        eprintln!(
            "  {backend:?} cycle {cycle}: verified, {:.1} s",
            t0.elapsed().as_secs_f64()
        );
    }
}
